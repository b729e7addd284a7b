/**
 * One run held to its agent's limits, on the control plane (a cell is less trusted): each model
 * call reserves from the agent's token and spend budgets before it is made (the input as the
 * cell estimates it, the output at its bound), and is settled with the usage the provider
 * reported; tool calls are counted across the run's resumptions. A refusal says which limit,
 * in words a person can act on.
 */
import type { Db } from '../store/index.ts';
import { reserve, settle } from './ledger.ts';
import { type AgentLimits, isMetered, periodOf } from './limits.ts';
import { microUsd, priceOf } from './prices.ts';

export interface LimitReached {
  code: 'budget_exceeded' | 'token_limit' | 'tool_call_limit' | 'model_unpriced' | 'run_rate_limit';
  /** Which limit: `tokensPerDay`, `spend`, `toolCallsPerRun`, `runsPerMinute`. */
  limit: keyof AgentLimits;
  message: string;
}

interface Held {
  tokens: number;
  spend: number;
  tokenPeriod: string;
  spendPeriod: string | null;
  price: { inputPerMTok: number; outputPerMTok: number } | null;
}

export interface MeterFor {
  orgId: string;
  agentId: string;
  limits: AgentLimits;
  model: { provider: string; model: string };
  /** The output bound each call is given (what a reservation holds for the answer). */
  maxOutputTokens: number;
}

/**
 * Counts a run start against the agent's runs a minute; the refusal, or null when it may start.
 */
export async function admitRun(
  db: Db,
  who: Omit<MeterFor, 'model' | 'maxOutputTokens'>,
): Promise<LimitReached | null> {
  const limit = who.limits.runsPerMinute;
  if (!limit) return null;
  const key = {
    orgId: who.orgId,
    agentId: who.agentId,
    kind: 'runs' as const,
    period: periodOf.minute(new Date()),
  };
  if (await reserve(db, key, 1, limit, { used: true })) return null;
  return {
    code: 'run_rate_limit',
    limit: 'runsPerMinute',
    message: `This agent may start ${limit} run${limit === 1 ? '' : 's'} a minute, and that many started this minute: try again in a minute.`,
  };
}

export class RunMeter {
  readonly #db: Db;
  readonly #for: MeterFor;
  /** Reservations not yet settled, oldest first (a run's model calls are one at a time). */
  readonly #held: Held[] = [];
  /** Settlements under way (a step's is not waited on by the run): the run's end waits for them. */
  readonly #settling = new Set<Promise<void>>();
  #toolCalls: number;
  #closed = false;

  constructor(db: Db, meterFor: MeterFor, toolCallsSoFar: number) {
    this.#db = db;
    this.#for = meterFor;
    this.#toolCalls = toolCallsSoFar;
  }

  /** Whether the cell must reserve before each model call. */
  get metered(): boolean {
    return isMetered(this.#for.limits);
  }

  get toolCalls(): number {
    return this.#toolCalls;
  }

  /** One more tool call asked for: the refusal when it is over the run's limit. */
  toolCall(): LimitReached | null {
    this.#toolCalls++;
    const limit = this.#for.limits.toolCallsPerRun;
    if (!limit || this.#toolCalls <= limit) return null;
    return {
      code: 'tool_call_limit',
      limit: 'toolCallsPerRun',
      message: `The run reached its agent's limit of ${limit} tool call${limit === 1 ? '' : 's'} a run.`,
    };
  }

  /** Reserves for one model call of about `inputTokens` in; the refusal, or null when it may go. */
  async reserve(inputTokens: number): Promise<LimitReached | null> {
    const { limits, orgId, agentId, model } = this.#for;
    const now = new Date();
    const input = Math.max(1, Math.ceil(inputTokens));
    const tokens = input + this.#for.maxOutputTokens;
    let price: Held['price'] = null;
    if (limits.spend) {
      price = await priceOf(this.#db, orgId, model.provider, model.model);
      if (!price)
        return {
          code: 'model_unpriced',
          limit: 'spend',
          message: `This agent has a spend budget and the organization's price table has no price for ${model.provider}/${model.model}: add one, or remove the budget.`,
        };
    }
    const tokenKey = { orgId, agentId, kind: 'tokens' as const, period: periodOf.day(now) };
    if (limits.tokensPerDay && !(await reserve(this.#db, tokenKey, tokens, limits.tokensPerDay)))
      return {
        code: 'token_limit',
        limit: 'tokensPerDay',
        message: `The agent's budget of ${limits.tokensPerDay} tokens a day (UTC) does not cover this model call (up to ${tokens} tokens).`,
      };
    let spend = 0;
    let spendPeriod: string | null = null;
    if (limits.spend && price) {
      spend = microUsd(price, input, this.#for.maxOutputTokens);
      spendPeriod = limits.spend.per === 'day' ? periodOf.day(now) : periodOf.month(now);
      const spendKey = { orgId, agentId, kind: 'spend' as const, period: spendPeriod };
      if (!(await reserve(this.#db, spendKey, spend, Math.floor(limits.spend.usd * 1e6)))) {
        if (limits.tokensPerDay) await settle(this.#db, tokenKey, tokens, 0);
        return {
          code: 'budget_exceeded',
          limit: 'spend',
          message: `The agent's spend budget of $${limits.spend.usd} a ${limits.spend.per} does not cover this model call (up to $${(spend / 1e6).toFixed(6)}).`,
        };
      }
    }
    const held: Held = {
      tokens: limits.tokensPerDay ? tokens : 0,
      spend,
      tokenPeriod: tokenKey.period,
      spendPeriod,
      price,
    };
    // The run ended while this was being reserved: nothing will be called, so nothing is held.
    if (this.#closed) {
      await this.#release(held, 0, { inputTokens: 0, outputTokens: 0 });
      return { code: 'budget_exceeded', limit: 'tokensPerDay', message: 'The run ended.' };
    }
    this.#held.push(held);
    return null;
  }

  /** The oldest call's reservation settled with the usage the provider reported for it. */
  async settle(usage: { inputTokens: number; outputTokens: number }): Promise<void> {
    const held = this.#held.shift();
    if (!held) return;
    const release = this.#release(held, usage.inputTokens + usage.outputTokens, usage);
    this.#settling.add(release);
    try {
      await release;
    } finally {
      this.#settling.delete(release);
    }
  }

  /**
   * The run ended: a call never reported (it failed, or the run was stopped) counts as reserved.
   * Resolves once every settlement is made, so a run on record as ended has its usage counted.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#settling]);
    for (const held of this.#held.splice(0)) await this.#release(held, held.tokens, null);
  }

  async #release(held: Held, tokens: number, usage: { inputTokens: number; outputTokens: number } | null) {
    const { orgId, agentId } = this.#for;
    if (held.tokens)
      await settle(
        this.#db,
        { orgId, agentId, kind: 'tokens', period: held.tokenPeriod },
        held.tokens,
        tokens,
      );
    if (held.spendPeriod) {
      const actual =
        usage && held.price ? microUsd(held.price, usage.inputTokens, usage.outputTokens) : held.spend;
      await settle(this.#db, { orgId, agentId, kind: 'spend', period: held.spendPeriod }, held.spend, actual);
    }
  }
}
