/**
 * Steps 4 and 6, the call's audit records. The decision is made durable before anything runs
 * (`tool.call.allowed`, or `tool.call.denied` with why); the result (`tool.call.completed`) joins
 * the writer's next group commit without holding the answer back, so a crash in between leaves
 * "allowed, no result", never a result without its decision.
 */
import type { Approval } from '../../approvals/approvals.ts';
import type { AuditInput, AuditTrail } from '../../audit/index.ts';
import type { Decision } from '../../policy/engine.ts';
import type { Denial } from '../refusals.ts';
import type { GateCaller, GateRequest } from '../request.ts';
import type { Outcome } from './invoke.ts';

/** What every record of a call shares: the agent as actor, the tool as target, request and run. */
function about(
  caller: GateCaller,
  tool: string,
): Pick<AuditInput, 'orgId' | 'actor' | 'target' | 'requestId' | 'runId'> {
  return {
    orgId: caller.orgId,
    actor: { type: 'agent', id: caller.agentId },
    target: { type: 'tool', id: tool },
    requestId: caller.requestId,
    runId: caller.runId,
  };
}

const toolOf = (call: GateRequest) => `${call.connectionId}/${call.tool}`;

/** The name the agent used, beside the ids in `target` (none for a call that named the tool by ids). */
const calledAs = (call: GateRequest) => (call.calledAs === undefined ? {} : { calledAs: call.calledAs });

/** A refused call, on record with why (durable when this resolves). */
export async function recordDenial(audit: AuditTrail, call: GateRequest, denial: Denial): Promise<void> {
  const { args = call.args, ...why } = denial;
  await audit.append({
    ...about(call.caller, toolOf(call)),
    action: 'tool.call.denied',
    outcome: 'denied',
    details: { ...why, ...calledAs(call), args, onBehalfOf: call.caller.onBehalfOf },
  });
}

/** A call of a tool the agent was never shown (no such name): refused, on record with the name. */
export async function recordUnknownTool(
  audit: AuditTrail,
  caller: GateCaller,
  name: string,
  args: Record<string, unknown>,
): Promise<void> {
  await audit.append({
    ...about(caller, name.slice(0, 200)),
    action: 'tool.call.denied',
    outcome: 'denied',
    details: {
      reason: 'no such tool for this agent',
      calledAs: name.slice(0, 200),
      args,
      onBehalfOf: caller.onBehalfOf,
    },
  });
}

/** The allowed decision, durable before the tool runs; resolves with its index in the log. */
export async function recordAllowed(
  audit: AuditTrail,
  call: GateRequest,
  decision: Decision,
  approval: Approval | null,
): Promise<number> {
  const entry = await audit.append({
    ...about(call.caller, toolOf(call)),
    action: 'tool.call.allowed',
    details: {
      ...calledAs(call),
      grants: decision.grants,
      policyVersion: decision.policyVersion,
      approvalId: approval?.id ?? null,
      args: call.args,
      onBehalfOf: call.caller.onBehalfOf,
    },
  });
  return entry.index;
}

/** The result, recorded without holding the answer back: resolves once durable. */
export function recordResult(
  audit: AuditTrail,
  call: GateRequest,
  allowedEntry: number,
  outcome: Outcome,
): Promise<unknown> {
  const r = outcome.result;
  const size = r
    ? JSON.stringify(r.content ?? null).length +
      (r.structuredContent === undefined ? 0 : JSON.stringify(r.structuredContent).length)
    : 0;
  return audit.appendSoon({
    ...about(call.caller, toolOf(call)),
    action: 'tool.call.completed',
    outcome: outcome.error || outcome.result?.isError ? 'failure' : 'success',
    details: {
      ...calledAs(call),
      allowedEntry,
      durationMs: outcome.durationMs,
      resultBytes: size,
      error: outcome.error ?? null,
    },
  });
}
