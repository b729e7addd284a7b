/**
 * Step 3, approve: a call only a person's approval allows needs a granted, unused approval bound
 * to exactly this call (agent, tool, arguments, policy version, the person answerable, the run
 * making it). Without one, a request waits in the inbox, and the call either pauses for a
 * decision (`pause`: up to the org's wait; a person deciding meanwhile lets it go on or refuses
 * it at once) or answers `approval_required` at once (`return`). After a pause the stop, the
 * grants and the decision are taken afresh: an approval given under grants that changed
 * meanwhile no longer fits.
 */

import type { Kysely } from 'kysely';
import { type AgentStanding, readAgentStanding } from '../../agents/index.ts';
import {
  type Approval,
  awaitDecision,
  consumeApproval,
  requestApproval,
  StoppedWhileAsking,
} from '../../approvals/approvals.ts';
import { PaddockError } from '../../errors/index.ts';
import { type Decision, kindAsked } from '../../policy/engine.ts';
import type { Database } from '../../store/index.ts';
import type { AskedKind } from '../../store/schema.ts';
import {
  ApprovalRequiredError,
  endedError,
  endedWhileWaiting,
  Refusal,
  refuse,
  StoppedError,
} from '../refusals.ts';
import type { CallInFlight } from '../request.ts';
import { type Ask, type Decider, unixNow } from './decide.ts';
import { stoppedRefusal } from './stopped.ts';

/** Calls of one agent paused for approval at a time, at most: more answer at once (no polling flood). */
const MAX_WAITING_PER_AGENT = 5;

/** How many calls of each agent are paused for approval. */
export class WaitingRoom {
  readonly #waiting = new Map<string, number>();

  /** A seat for one more paused call: `admitted` if the agent has room to wait. */
  enter(agentId: string): { admitted: boolean; leave: () => void } {
    const n = this.#waiting.get(agentId) ?? 0;
    this.#waiting.set(agentId, n + 1);
    let left = false;
    return {
      admitted: n < MAX_WAITING_PER_AGENT,
      leave: () => {
        if (left) return;
        left = true;
        const rest = (this.#waiting.get(agentId) ?? 1) - 1;
        if (rest > 0) this.#waiting.set(agentId, rest);
        else this.#waiting.delete(agentId);
      },
    };
  }
}

export interface ApproveDeps {
  db: Kysely<Database>;
  decider: Decider;
  waiting: WaitingRoom;
}

/**
 * The approval this call runs with, used up; or a Refusal (`approval_required` with the waiting
 * request, `approval_denied`, or the call ended while it waited).
 */
export async function approve(
  d: ApproveDeps,
  call: CallInFlight,
  standing: AgentStanding,
  ask: Ask,
  decision: Decision,
): Promise<Approval> {
  const binding = {
    orgId: call.caller.orgId,
    agentId: ask.agentId,
    connectionId: ask.connectionId,
    // Only what the agent asks reaches here: a grant of what a server asks takes no approval.
    kind: kindAsked(ask) as AskedKind,
    tool: ask.tool,
    args: ask.args,
    policyVersion: decision.policyVersion,
    requestedBy: call.caller.onBehalfOf,
    runId: call.caller.runId,
  };
  const ready = await consumeApproval(d.db, binding);
  if (ready) return ready;
  const askPerson = () =>
    requestApproval(d.db, {
      ...binding,
      requestId: call.caller.requestId,
      minutes: standing.approvals.minutes,
    }).catch((err: unknown) => {
      // Stopped after this call read its standing: refused as the stop refuses.
      if (err instanceof StoppedWhileAsking)
        throw refuse(new StoppedError(err.org), 'the agent was stopped', [], decision.policyVersion);
      throw err;
    });
  let pending = await askPerson();
  if (call.approval === 'pause') {
    const decided = await pause(d, call, standing, pending.id, decision);
    if (decided.status === 'approved') {
      // Time passed: the stop, the grants and the decision are taken afresh.
      const now = await readAgentStanding(d.db, call.scope, call.caller.agentId);
      const stopped = stoppedRefusal(now, call.signal, true);
      if (stopped) throw stopped;
      await d.decider.prepare(call.scope, call.caller.agentId, now!.grantsVersion);
      const again = d.decider.decide({ ...ask, now: unixNow() }, true);
      if (again.allowed && again.policyVersion === binding.policyVersion) {
        const used = await consumeApproval(d.db, binding);
        if (used) return used;
      }
    }
    // Still waiting: the same request; decided and no longer usable (or expired): a new one.
    if (decided.status !== 'pending' || decided.expiresAt <= new Date().toISOString())
      pending = await askPerson();
  }
  throw new Refusal(new ApprovalRequiredError({ id: pending.id, expiresAt: pending.expiresAt }), null);
}

/** Waits for a person to decide the request; a denial, or the call ending meanwhile, refuses it. */
async function pause(
  d: ApproveDeps,
  call: CallInFlight,
  standing: AgentStanding,
  requestId: string,
  decision: Decision,
): Promise<Approval> {
  const seat = d.waiting.enter(call.caller.agentId);
  let decided: Approval;
  const ms = seat.admitted ? standing.approvals.waitSeconds * 1000 : 0;
  const waited = ms > 0 ? call.onWaiting?.({ approvalId: requestId, waitMs: ms }) : undefined;
  try {
    decided = await awaitDecision(d.db, call.caller.orgId, requestId, ms, call.signal);
  } finally {
    waited?.();
    seat.leave();
  }
  if (call.signal.aborted) {
    const reason: unknown = call.signal.reason;
    throw refuse(endedError(reason), endedWhileWaiting(reason), [], decision.policyVersion);
  }
  if (decided.status === 'denied') {
    throw refuse(
      new PaddockError(
        403,
        'approval_denied',
        `A person denied this call (request ${decided.id})${decided.reason ? `, saying: ${decided.reason}` : ''}. Do not retry it as is.`,
        {
          details: { approvalId: decided.id, reason: decided.reason },
        },
      ),
      `approval ${decided.id} was denied`,
      decision.grants,
      decision.policyVersion,
    );
  }
  return decided;
}
