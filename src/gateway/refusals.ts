/**
 * Why a call does not run, or ends before its answer: each as an error its caller can act on (a
 * stable code), with the words its audit record gives. A call's signal only ever aborts with one
 * of these PaddockErrors (the kill switch, the caller giving up, the token it came in on ending);
 * anything else that aborts it is read as the kill switch.
 */
import { ConflictError, PaddockError } from '../errors/index.ts';
import type { DenialExplained, DenialKind } from '../policy/explain.ts';

/** The JSON-RPC error code of the gate's refusals of reads, prompts, completions and a server's requests. */
export const REFUSED_CODE = -32003;

/**
 * No grant allows the call: `why` says which way (no grant, suspended, outside it, a deny rule).
 * `code` says what was denied (`tool_denied`, `resource_denied`, `prompt_denied`, `completion_denied`).
 */
export class ToolDeniedError extends PaddockError {
  readonly why: DenialKind;
  constructor(explained: DenialExplained, code = 'tool_denied') {
    super(403, code, explained.message, {
      details: { why: explained.kind, ...(explained.unmet.length ? { unmet: explained.unmet } : {}) },
    });
    this.why = explained.kind;
  }
}

/** The kill switch: the agent, or every agent of its org, is stopped. */
export class StoppedError extends ConflictError {
  readonly org: boolean;
  constructor(org: boolean) {
    super(
      'agent_stopped',
      org
        ? "This organization's agents are stopped (the kill switch): no tool call runs until a person resumes them."
        : 'This agent is stopped (the kill switch): no tool call runs until a person resumes it.',
    );
    this.org = org;
  }
}

/** The agent run the call belongs to was stopped (one run, through the kill switch). */
export class RunStoppedError extends ConflictError {
  constructor() {
    super('run_stopped', 'This run was stopped (the kill switch): no tool call of it runs.');
  }
}

/** The caller gave up (an MCP client's cancellation or timeout, a REST client gone). */
export class CancelledError extends ConflictError {
  constructor() {
    super('call_cancelled', 'The caller gave up on this call; it did not run.');
  }
}

/** The call waits for a person: `approval` is the request in the inbox. */
export class ApprovalRequiredError extends PaddockError {
  readonly approval: { id: string; expiresAt: string };
  constructor(approval: { id: string; expiresAt: string }) {
    super(
      403,
      'approval_required',
      `This call needs a person's approval: request ${approval.id} is waiting in the approvals inbox. Call again with the same arguments once it is approved.`,
      { details: { approvalId: approval.id, expiresAt: approval.expiresAt } },
    );
    this.approval = approval;
  }
}

/** What the `tool.call.denied` record of a refusal says. */
export interface Denial {
  reason: string;
  grants: string[];
  policyVersion: string | null;
  /** The checks on its arguments that refused it (data-loss prevention). */
  checks?: string[];
  /** The arguments as the record may keep them (a check's matches replaced); the call's own otherwise. */
  args?: Record<string, unknown>;
}

/**
 * A call the gate refuses: the error its caller gets, and its denial record (none for a call left
 * waiting for approval, or for an agent that does not exist).
 */
export class Refusal extends Error {
  readonly error: PaddockError;
  readonly denial: Denial | null;
  constructor(error: PaddockError, denial: Denial | null) {
    super(error.message);
    this.error = error;
    this.denial = denial;
  }
}

/** A refusal on record, with the grants and policy version that decided it (none by default). */
export function refuse(
  error: PaddockError,
  reason: string,
  grants: string[] = [],
  policyVersion = null as string | null,
) {
  return new Refusal(error, { reason, grants, policyVersion });
}

/** The error a call ended by `reason` answers with. */
export function endedError(reason: unknown): PaddockError {
  return PaddockError.isInstance(reason) ? reason : new StoppedError(false);
}

/** What ended a call, in words for its audit record. */
export function endedCause(reason: unknown): string {
  if (reason instanceof CancelledError) return 'cancelled by the caller';
  if (reason instanceof StoppedError || !PaddockError.isInstance(reason)) return 'stopped by the kill switch';
  return reason.message;
}

/** The same, for a call that ended while paused for a person's approval. */
export function endedWhileWaiting(reason: unknown): string {
  if (reason instanceof CancelledError) return 'the caller gave up while waiting for approval';
  if (reason instanceof StoppedError || !PaddockError.isInstance(reason))
    return 'the agent was stopped while waiting for approval';
  return `${reason.message} (while waiting for approval)`;
}

/** A caller's abort reason as the gate reads it: its own refusal (a PaddockError), or a cancellation. */
export function callerReason(reason: unknown): PaddockError {
  return PaddockError.isInstance(reason) ? reason : new CancelledError();
}
