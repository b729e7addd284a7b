/**
 * Steps 4 and 6, the call's audit records. The decision is made durable before anything runs
 * (`tool.call.allowed`, or `tool.call.denied` with why); the result (`tool.call.completed`) is
 * written before the answer and made durable by the writer's next sync (a few milliseconds at
 * most), so a kill -9 loses neither, and a power loss at worst leaves "allowed, no result",
 * never a result without its decision. A read, a prompt and a completion
 * are recorded alike, named for what they are of and do: `resource.read.*`, `prompt.get.*`,
 * `prompt.complete.*` and `resource.complete.*` (a template's argument), the target being the
 * resource (`<connection>/<uri>`) or the prompt.
 */
import type { Approval } from '../../approvals/approvals.ts';
import type { AuditInput, AuditTrail } from '../../audit/index.ts';
import { type Decision, kindAsked } from '../../policy/engine.ts';
import type { Action, GrantKind } from '../../policy/grants.ts';
import type { Denial } from '../refusals.ts';
import type { GateCaller, GateRequest } from '../request.ts';
import type { Outcome } from './invoke.ts';

/** What every record of a call shares: the agent as actor, the tool as target, request and run. */
function about(
  caller: GateCaller,
  tool: string,
  kind: GrantKind = 'tool',
): Pick<AuditInput, 'orgId' | 'actor' | 'target' | 'requestId' | 'runId'> {
  return {
    orgId: caller.orgId,
    actor: { type: 'agent', id: caller.agentId },
    target: { type: kind, id: tool },
    requestId: caller.requestId,
    runId: caller.runId,
  };
}

const VERB: Record<Action, string> = {
  call: 'call',
  read: 'read',
  subscribe: 'subscribe',
  get: 'get',
  complete: 'complete',
  sample: 'request',
  elicit: 'request',
};

/** The action a record of this call has: `tool.call.allowed`, `resource.read.denied`… */
export const actionOf = (call: Pick<GateRequest, 'action' | 'completing'>, outcome: string) =>
  `${kindAsked(call)}.${VERB[call.action ?? 'call']}.${outcome}`;

/** Every record of a call: about the agent and what it asked, and the arguments it gave. */
const aboutCall = (call: GateRequest) =>
  about(call.caller, `${call.connectionId}/${call.tool}`, kindAsked(call));

/** What the call gave: a tool's or a prompt's arguments, a completion's argument and context. */
const argsOf = (call: GateRequest) =>
  call.action === 'complete' ? { ...call.completion } : call.action === 'read' ? undefined : call.args;

/** The name the agent used, beside the ids in `target` (none for a call that named the tool by ids). */
const calledAs = (call: GateRequest) => (call.calledAs === undefined ? {} : { calledAs: call.calledAs });

/** A refused call, on record with why (durable when this resolves). */
export async function recordDenial(audit: AuditTrail, call: GateRequest, denial: Denial): Promise<void> {
  const { args = argsOf(call), ...why } = denial;
  await audit.appendDurable({
    ...aboutCall(call),
    action: actionOf(call, 'denied'),
    outcome: 'denied',
    details: { ...why, ...calledAs(call), args, onBehalfOf: call.caller.onBehalfOf },
  });
}

/**
 * A call of a tool the agent was never shown (no such name): refused, on record with the name.
 * The same for a resource URI, a prompt or a completion's reference of no connection of its org.
 */
export async function recordUnknownTool(
  audit: AuditTrail,
  caller: GateCaller,
  name: string,
  args: Record<string, unknown> | undefined,
  asked: Pick<GateRequest, 'action' | 'completing'> = {},
): Promise<void> {
  const kind = kindAsked(asked);
  await audit.appendDurable({
    ...about(caller, name.slice(0, 200), kind),
    action: actionOf(asked, 'denied'),
    outcome: 'denied',
    details: {
      reason: `no such ${kind} for this agent`,
      calledAs: name.slice(0, 200),
      args,
      onBehalfOf: caller.onBehalfOf,
    },
  });
}

/**
 * The allowed decision, durable before the tool runs; resolves with its entry's id (its place in
 * the log comes after: `AuditTrail.appendDurable`).
 */
export async function recordAllowed(
  audit: AuditTrail,
  call: GateRequest,
  decision: Decision,
  approval: Approval | null,
): Promise<string> {
  const entry = await audit.appendDurable({
    ...aboutCall(call),
    action: actionOf(call, 'allowed'),
    details: {
      ...calledAs(call),
      grants: decision.grants,
      policyVersion: decision.policyVersion,
      approvalId: approval?.id ?? null,
      args: argsOf(call),
      onBehalfOf: call.caller.onBehalfOf,
    },
  });
  return entry.id;
}

/**
 * The result, written before the answer (a kill -9 once the agent has its answer loses neither
 * record) without a sync of its own: it is durable with the next commit's sync, or within a
 * few milliseconds.
 */
export function recordResult(
  audit: AuditTrail,
  call: GateRequest,
  allowedEntryId: string,
  outcome: Outcome,
): Promise<unknown> {
  const r = outcome.result;
  const size = !r
    ? 0
    : (call.action ?? 'call') !== 'call'
      ? JSON.stringify(r).length
      : JSON.stringify(r.content ?? null).length +
        (r.structuredContent === undefined ? 0 : JSON.stringify(r.structuredContent).length);
  return audit.appendWritten({
    ...aboutCall(call),
    action: actionOf(call, 'completed'),
    outcome: outcome.error || outcome.result?.isError ? 'failure' : 'success',
    details: {
      ...calledAs(call),
      allowedEntryId,
      durationMs: outcome.durationMs,
      resultBytes: size,
      error: outcome.error ?? null,
    },
  });
}
