/**
 * Step 5, call: the tool runs (the resource is read, the prompt got, the argument completed) on
 * the agent's own MCP session to the connection, opened on first use. The signal is checked
 * before the server is started and again right before sending, so a stop acknowledged meanwhile
 * keeps the call from running; once sent, aborting cancels the MCP request. What the server says,
 * errors included, goes through its scrubber.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { McpError, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { type OpenSession, safeMeta } from '../../connections/index.ts';
import { PaddockError } from '../../errors/index.ts';
import { type BuiltinCaller, CALLER_META } from '../../memory/index.ts';
import type { Action } from '../../policy/grants.ts';
import { endedCause, endedError } from '../refusals.ts';
import type { GateRequest, GateResult } from '../request.ts';

export interface Outcome {
  result?:
    | ({ content?: unknown; structuredContent?: unknown; isError?: boolean; _meta?: unknown } & Record<
        string,
        unknown
      >)
    | undefined;
  /** Why it failed, in words for the record (scrubbed), when it did. */
  error?: string | undefined;
  /** The JSON-RPC error code the server answered with, when it answered with one. */
  mcpCode?: number | undefined;
  /** Paddock's own refusal while opening the session (a secret out of scope, no sandbox). */
  refusal?: PaddockError | undefined;
  durationMs: number;
  /** Scrubs the connection's secrets from what its tool returns. */
  scrub: <T>(content: T) => T;
}

/** How long a call may take, and what becomes of its progress. */
export interface Timing {
  /** Without an answer or progress this long, the call ends. */
  timeoutMs: number;
  /** Progress extends the call up to this long in all. */
  maxMs?: number | undefined;
  /** Each progress notification of the call (it extends the call's time, up to `maxMs`). */
  onprogress?: ((p: Progress) => void) | undefined;
  /** Told the session's scrubber once it is open (progress messages go through it). */
  scrubbing?: ((scrub: <T>(content: T) => T) => void) | undefined;
}

/** Runs the call on the session `open` gives (opening it if need be). Never throws. */
export async function invoke(
  call: GateRequest,
  signal: AbortSignal,
  open: () => Promise<OpenSession>,
  timing: Timing | number,
): Promise<Outcome> {
  const t: Timing = typeof timing === 'number' ? { timeoutMs: timing } : timing;
  const started = performance.now();
  const out: Omit<Outcome, 'durationMs'> = { scrub: (content) => content };
  try {
    // A stop acknowledged while the decision was being recorded: start no server for it.
    signal.throwIfAborted();
    const session = await open();
    out.scrub = session.scrub;
    t.scrubbing?.(session.scrub);
    // Checked again right before sending: a stop acknowledged meanwhile keeps the call from running.
    signal.throwIfAborted();
    out.result = (await send(
      session.client,
      call,
      {
        timeout: t.timeoutMs,
        signal,
        // A call that reports progress lives on past its timeout, up to the maximum.
        ...(t.onprogress
          ? { onprogress: t.onprogress, resetTimeoutOnProgress: true, maxTotalTimeout: t.maxMs }
          : {}),
      },
      session.builtin,
    )) as Outcome['result'];
  } catch (err) {
    out.error = signal.aborted ? endedCause(signal.reason) : out.scrub((err as Error).message);
    if (err instanceof McpError && !signal.aborted) out.mcpCode = err.code;
    // Paddock's own refusals (a secret out of scope, no sandbox) keep their code.
    if (PaddockError.isInstance(err) && !signal.aborted) out.refusal = err;
  }
  return { ...out, durationMs: Math.round((performance.now() - started) * 100) / 100 };
}

/**
 * Whom a call is for, told to a server built into Paddock only (a person's id is no business of
 * a third party's). The `_meta` is the gate's alone: none of the agent's own is passed on.
 */
const callerMeta = (call: GateRequest): Record<string, BuiltinCaller> => ({
  [CALLER_META]: { personId: call.caller.onBehalfOf, runId: call.caller.runId ?? null },
});

/** The request to the server, by what was asked. */
function send(client: Client, call: GateRequest, options: RequestOptions, builtin?: boolean) {
  switch (call.action ?? 'call') {
    case 'subscribe':
      return client.subscribeResource({ uri: call.tool }, options);
    // A server's requests of the agent are relayed, never sent (relays.ts).
    case 'sample':
    case 'elicit':
      throw new Error(`${call.action} is not sent to a server`);
    case 'call':
      return client.callTool(
        { name: call.tool, arguments: call.args, ...(builtin ? { _meta: callerMeta(call) } : {}) },
        undefined,
        options,
      );
    case 'read':
      return client.readResource({ uri: call.tool }, options);
    case 'get':
      return client.getPrompt({ name: call.tool, arguments: call.args as Record<string, string> }, options);
    case 'complete':
      return client.complete(
        {
          ref:
            call.completing === 'resource'
              ? { type: 'ref/resource', uri: call.tool }
              : { type: 'ref/prompt', name: call.tool },
          argument: call.completion?.argument ?? { name: '', value: '' },
          ...(call.completion?.context ? { context: call.completion.context } : {}),
        },
        options,
      );
  }
}

/** What a failure answers with, by what was asked. */
const FAILED: Record<Action, [code: string, words: string]> = {
  call: ['tool_failed', 'The tool failed'],
  read: ['resource_failed', 'Reading the resource failed'],
  subscribe: ['subscription_failed', 'Subscribing to the resource failed'],
  sample: ['sampling_failed', 'The sampling request failed'],
  elicit: ['elicitation_failed', 'The elicitation request failed'],
  get: ['prompt_failed', 'Getting the prompt failed'],
  complete: ['completion_failed', 'The completion failed'],
};

/**
 * The caller's answer: the scrubbed result — content, structured content and `_meta` as the tool
 * gave them (less `_meta` keys only Paddock or MCP may set) — or why there is none. Structured
 * content is passed on, not validated: the agent's client checks it against the output schema it
 * was shown, as it would reaching the server directly.
 */
export function answerOf(
  outcome: Outcome,
  signal: AbortSignal,
  auditEntryId: string,
  action: Action = 'call',
): GateResult {
  if (signal.aborted) throw endedError(signal.reason);
  if (outcome.refusal) throw outcome.refusal;
  if (outcome.error) {
    const [code, words] = FAILED[action];
    throw new PaddockError(502, code, `${words}: ${outcome.error}`, {
      ...(outcome.mcpCode === undefined ? {} : { details: { mcpCode: outcome.mcpCode } }),
    });
  }
  const r = outcome.result;
  const meta = r?._meta === undefined ? undefined : safeMeta(r._meta);
  if (action !== 'call') {
    // A read's contents, a prompt's messages, a completion: whole, scrubbed.
    const { _meta: _, ...rest } = r ?? {};
    return {
      content: null,
      result: outcome.scrub({ ...rest, ...(meta ? { _meta: meta } : {}) }),
      isError: false,
      durationMs: outcome.durationMs,
      auditEntryId,
    };
  }
  return {
    content: outcome.scrub(r?.content ?? null),
    ...(r?.structuredContent === undefined ? {} : { structuredContent: outcome.scrub(r.structuredContent) }),
    ...(meta ? { _meta: outcome.scrub(meta) } : {}),
    isError: r?.isError === true,
    durationMs: outcome.durationMs,
    auditEntryId,
  };
}
