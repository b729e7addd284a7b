/**
 * The org's usage at a glance (the Overview): runs, tokens and spend today and this month (UTC),
 * from its runs' recorded usage, priced at each agent's model in the org's price table; tokens
 * of a model the table cannot price are counted apart.
 */
import { sql } from 'kysely';
import type { OrgScope } from '../identity/scope.ts';
import type { Db } from '../store/index.ts';
import { periodOf } from './limits.ts';
import { microUsd, priceOf } from './prices.ts';

export interface UsageTotals {
  runs: number;
  inputTokens: number;
  outputTokens: number;
  /** US dollars, for the tokens the price table prices. */
  spendUsd: number;
  /** Tokens of models the price table has no price for (not in `spendUsd`). */
  unpricedTokens: number;
}

export interface OrgUsage {
  today: UsageTotals;
  month: UsageTotals;
}

const zero = (): UsageTotals => ({
  runs: 0,
  inputTokens: 0,
  outputTokens: 0,
  spendUsd: 0,
  unpricedTokens: 0,
});

export async function orgUsage(db: Db, scope: OrgScope, now = new Date()): Promise<OrgUsage> {
  const month = periodOf.month(now);
  const today = periodOf.day(now);
  const day = sql<string>`substr(runs.created_at, 1, 10)`;
  const rows = await db
    .selectFrom('runs')
    .innerJoin('agents', 'agents.id', 'runs.agent_id')
    .select([
      'runs.agent_id as agentId',
      'agents.model as model',
      day.as('day'),
      sql<number>`count(*)`.as('runs'),
      sql<number>`coalesce(sum(runs.input_tokens), 0)`.as('input'),
      sql<number>`coalesce(sum(runs.output_tokens), 0)`.as('output'),
    ])
    .where('runs.org_id', '=', scope.orgId)
    .where('runs.created_at', '>=', `${month}-01`)
    .groupBy(['runs.agent_id', 'agents.model', day])
    .execute();
  const out: OrgUsage = { today: zero(), month: zero() };
  const prices = new Map<string, Awaited<ReturnType<typeof priceOf>>>();
  for (const r of rows) {
    const m = JSON.parse(r.model) as { provider: string; model: string };
    const key = `${m.provider}/${m.model}`;
    if (!prices.has(key)) prices.set(key, await priceOf(db, scope.orgId, m.provider, m.model));
    const price = prices.get(key) ?? null;
    const input = Number(r.input);
    const output = Number(r.output);
    for (const t of r.day === today ? [out.today, out.month] : [out.month]) {
      t.runs += Number(r.runs);
      t.inputTokens += input;
      t.outputTokens += output;
      if (price) t.spendUsd += microUsd(price, input, output) / 1e6;
      else t.unpricedTokens += input + output;
    }
  }
  return out;
}
