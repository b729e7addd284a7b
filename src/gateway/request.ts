/**
 * What the gate is asked, whatever carried the call (the MCP endpoint, the REST test call, a run
 * in the org's cell): who is asking, as the control plane established it, the call itself, and
 * how to treat a call that needs a person's approval.
 */
import type { SpanContext } from '@opentelemetry/api';
import type { AgentStanding } from '../agents/index.ts';
import type { OrgScope } from '../identity/index.ts';
import type { Action } from '../policy/grants.ts';
import type { AgentChannel } from './agent-channel.ts';

/** Who is asking, as the control plane authenticated it. */
export interface GateCaller {
  orgId: string;
  agentId: string;
  /**
   * The person answerable for the call (approvals bind to them, and the two-person rule keeps
   * them from approving): who asked, or who issued the agent's token; null when no one is.
   */
  onBehalfOf: string | null;
  requestId: string;
  /** The agent run the call belongs to: its audit entries carry it. */
  runId?: string | undefined;
  /** The span of the request that carried the call, when traced: the call's own span is its child. */
  requestSpan?: SpanContext | undefined;
  /** The agent token the call came in on: revoking it, or removing who issued it, ends the call. */
  token?: { id: string; issuedBy: string } | undefined;
  /** The agent's standing, when authentication read it with the token; otherwise the gate reads it. */
  standing?: AgentStanding | undefined;
}

/** A completion's argument and context, as MCP's `completion/complete` gives them. */
export interface CompletionAsk {
  argument: { name: string; value: string };
  context?: { arguments?: Record<string, string> | undefined } | undefined;
}

export interface GateRequest {
  caller: GateCaller;
  connectionId: string;
  /**
   * What the agent asks of the connection: a tool call (when absent), a resource read, a prompt,
   * a completion of a prompt's or a resource template's argument (`completing` says which).
   */
  action?: Action | undefined;
  /** The tool; the resource's URI (a read); the prompt; what a completion is of (a prompt, a template). */
  tool: string;
  completing?: 'prompt' | 'resource' | undefined;
  completion?: CompletionAsk | undefined;
  /**
   * The name the agent called the tool by (`<namespace>__<tool>` on MCP): its denials speak of it,
   * and its audit records keep it beside the ids, so a transcript line can be matched to them.
   */
  calledAs?: string | undefined;
  args: Record<string, unknown>;
  /**
   * A call only a person's approval allows: `pause` waits up to the org's `approvalWaitSeconds`
   * for a decision; `return` answers `approval_required` at once (a run persists and resumes).
   */
  approval: 'pause' | 'return';
  /** The caller gave up (a cancellation, a timeout, a client gone): nothing runs after it. */
  signal?: AbortSignal | undefined;
  /**
   * Told when the call pauses for a person's approval (the request, how long at most); what it
   * returns is called when the pause ends. The MCP endpoint sends progress meanwhile.
   */
  onWaiting?: ((waiting: { approvalId: string; waitMs: number }) => () => void) | undefined;
  /**
   * The agent's channel while the call runs: progress under its token, log lines, and a server's
   * requests of it (sampling, elicitation) reach it this way. None: the session's traffic is delivered
   * to the agent's open sessions, and a server's request is refused.
   */
  relay?: AgentChannel | undefined;
}

export interface GateResult {
  /** A tool's content (a read, a prompt, a completion: none, see `result`). */
  content: unknown;
  /** A read's, a prompt's or a completion's whole result (scrubbed, its `_meta` filtered). */
  result?: Record<string, unknown> | undefined;
  /** The tool's structured result (scrubbed), when it gave one. */
  structuredContent?: unknown;
  /** The result's `_meta` (scrubbed; without keys only Paddock or MCP may set), when it had any. */
  _meta?: Record<string, unknown> | undefined;
  isError: boolean;
  durationMs: number;
  /** The id of the call's `tool.call.allowed` entry in the org's audit log. */
  auditEntryId: string;
}

/** A call on its way through the gate's steps. */
export interface CallInFlight extends GateRequest {
  scope: OrgScope;
  /** Aborts, with a PaddockError saying why, when the kill switch, a token's end or its caller ends it. */
  signal: AbortSignal;
}

/**
 * Watches each call the gate runs (metrics, traces): told by the gate's own steps when a call
 * starts and how it ends (no layer of its own around the call: each added a promise and its
 * closures to every call). What `started` returns is handed back at the end.
 */
export interface GateObserver<Watch = unknown> {
  started(req: GateRequest): Watch;
  done(watch: Watch, result: GateResult): void;
  failed(watch: Watch, err: unknown): void;
}

/** Told of each call of a name the agent was never shown (refused before any decision). */
export type UnknownToolObserver = (caller: GateCaller, name: string) => void;
