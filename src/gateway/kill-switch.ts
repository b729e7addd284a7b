/**
 * The kill switch: one sequence for whatever is stopped (an agent, every agent of an org; a
 * `StopTarget` names what). Brake — the moment the stop is allowed, every part (the gate's calls,
 * the runtime's runs) ends what it covers on this replica and refuses more, before the commit is
 * durable (a slow disk delays only the acknowledgment); durable commit — the stored state refuses
 * from then on, on every replica; publish — every replica's parts end what the stop covers (this
 * replica's awaited: the MCP servers have ended); release. A stop that is refused ends nothing.
 * What the stopped agents asked approval for ends with the commit: nothing approved before a stop
 * goes on after it.
 *
 * @example
 *   handler: ({ ctx, deps, params }) => deps.killSwitch.stopAgent(ctx, params.agent)
 */
import type { Kysely } from 'kysely';
import { type Agent, setAgentState } from '../agents/index.ts';
import { expireApprovals } from '../approvals/approvals.ts';
import { type Org, type OrgContext, setOrgAgentsStopped } from '../identity/index.ts';
import type { Database } from '../store/index.ts';
import type { StopTarget } from './kill-registry.ts';
import type { SessionEvent, StopBus } from './stop-bus.ts';

/** What a stop ends, besides the stored state: the gate's calls and sessions, the runs in flight. */
export interface StopPart {
  /** The moment a stop is allowed: end and refuse what it covers here; returns a release if it holds. */
  brake(target: StopTarget, why: string): (() => void) | undefined;
  /** A stop committed (or a change) as the bus delivers it, on every replica: end what it covers. */
  end(event: SessionEvent, why: string): Promise<void>;
}

/** Why its runs and calls ended, in the words their records give. */
export function stopWhy(event: SessionEvent): string {
  switch (event.kind) {
    case 'agent':
      return 'the agent was stopped';
    case 'org':
      return "the organization's agents were stopped";
    case 'run':
      return 'stopped by a person';
    case 'agent-tokens':
      return 'the agent token was revoked';
    case 'connection':
      return 'the connection was deleted';
    case 'secret':
      return 'a secret it was given changed';
    case 'person-connection':
      return "a person's authorization of the connection ended";
  }
}

export class KillSwitch {
  readonly #db: Kysely<Database>;
  readonly #bus: StopBus;
  readonly #parts: StopPart[];

  /** `parts` brake and end in this order. */
  constructor(o: { db: Kysely<Database>; bus: StopBus; parts: StopPart[] }) {
    this.#db = o.db;
    this.#bus = o.bus;
    this.#parts = o.parts;
  }

  /**
   * Stops `target`. `commit` makes the stop durable (and audited), calling `allowed()` once the
   * caller may stop it; its result is the stop's acknowledgment.
   */
  async stop<T>(target: StopTarget, commit: (allowed: () => void) => Promise<T>): Promise<T> {
    const releases: Array<() => void> = [];
    try {
      const done = await commit(() => {
        for (const part of this.#parts) {
          const release = part.brake(target, stopWhy(target));
          if (release) releases.push(release);
        }
      });
      await this.#bus.publish(target);
      return done;
    } finally {
      for (const release of releases) release();
    }
  }

  /** One agent (its owner or an admin may): none of its calls or runs goes on after the acknowledgment. */
  stopAgent(ctx: OrgContext, agentId: string): Promise<Agent> {
    return this.stop({ kind: 'agent', orgId: ctx.scope.orgId, agentId }, (allowed) =>
      setAgentState(this.#db, ctx, agentId, 'stopped', async (trx) => {
        allowed();
        return { approvalsExpired: await expireApprovals(trx, ctx.scope.orgId, { agentId }) };
      }),
    );
  }

  /** Every agent of the org (the route allowed it: `agents.stop_all`). */
  stopOrg(ctx: OrgContext): Promise<Org> {
    return this.stop({ kind: 'org', orgId: ctx.scope.orgId }, (allowed) => {
      allowed();
      return setOrgAgentsStopped(this.#db, ctx, true, async (trx) => ({
        approvalsExpired: await expireApprovals(trx, ctx.scope.orgId, { all: true }),
      }));
    });
  }

  /** What the stop bus delivers, from this replica or another: each part ends what it covers. */
  async apply(event: SessionEvent): Promise<void> {
    for (const part of this.#parts) await part.end(event, stopWhy(event));
  }
}
