/**
 * Step 5, call: the tool runs on the agent's own MCP session to the connection, opened on first
 * use. The signal is checked before the server is started and again right before sending, so a
 * stop acknowledged meanwhile keeps the call from running; once sent, aborting cancels the MCP
 * request. What the server says, errors included, goes through its scrubber.
 */
import { type OpenSession, safeMeta } from '../../connections/index.ts';
import { PaddockError } from '../../errors/index.ts';
import { endedCause, endedError } from '../refusals.ts';
import type { GateRequest, GateResult } from '../request.ts';

export interface Outcome {
  result?: { content?: unknown; structuredContent?: unknown; isError?: boolean; _meta?: unknown } | undefined;
  /** Why it failed, in words for the record (scrubbed), when it did. */
  error?: string | undefined;
  /** Paddock's own refusal while opening the session (a secret out of scope, no sandbox). */
  refusal?: PaddockError | undefined;
  durationMs: number;
  /** Scrubs the connection's secrets from what its tool returns. */
  scrub: <T>(content: T) => T;
}

/** Runs the call on the session `open` gives (opening it if need be). Never throws. */
export async function invoke(
  call: GateRequest,
  signal: AbortSignal,
  open: () => Promise<OpenSession>,
  timeoutMs: number,
): Promise<Outcome> {
  const started = performance.now();
  const out: Omit<Outcome, 'durationMs'> = { scrub: (content) => content };
  try {
    // A stop acknowledged while the decision was being recorded: start no server for it.
    signal.throwIfAborted();
    const session = await open();
    out.scrub = session.scrub;
    // Checked again right before sending: a stop acknowledged meanwhile keeps the call from running.
    signal.throwIfAborted();
    out.result = (await session.client.callTool({ name: call.tool, arguments: call.args }, undefined, {
      timeout: timeoutMs,
      signal,
    })) as Outcome['result'];
  } catch (err) {
    out.error = signal.aborted ? endedCause(signal.reason) : out.scrub((err as Error).message);
    // Paddock's own refusals (a secret out of scope, no sandbox) keep their code.
    if (PaddockError.isInstance(err) && !signal.aborted) out.refusal = err;
  }
  return { ...out, durationMs: Math.round((performance.now() - started) * 100) / 100 };
}

/**
 * The caller's answer: the scrubbed result — content, structured content and `_meta` as the tool
 * gave them (less `_meta` keys only Paddock or MCP may set) — or why there is none. Structured
 * content is passed on, not validated: the agent's client checks it against the output schema it
 * was shown, as it would reaching the server directly.
 */
export function answerOf(outcome: Outcome, signal: AbortSignal, auditIndex: number): GateResult {
  if (signal.aborted) throw endedError(signal.reason);
  if (outcome.refusal) throw outcome.refusal;
  if (outcome.error) throw new PaddockError(502, 'tool_failed', `The tool failed: ${outcome.error}`);
  const r = outcome.result;
  const meta = r?._meta === undefined ? undefined : safeMeta(r._meta);
  return {
    content: outcome.scrub(r?.content ?? null),
    ...(r?.structuredContent === undefined ? {} : { structuredContent: outcome.scrub(r.structuredContent) }),
    ...(meta ? { _meta: outcome.scrub(meta) } : {}),
    isError: r?.isError === true,
    durationMs: outcome.durationMs,
    auditIndex,
  };
}
