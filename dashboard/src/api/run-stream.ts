/**
 * A run as the chat receives it: `POST …/agents/{agent}/runs` with `Accept: text/event-stream`
 * answers the AI SDK's UI message stream, plus two data parts of Paddock's — `data-run` (the run
 * as it stands, at its start and at its end) and `data-approval` (a call waiting for a person).
 * The endpoint takes `{message, conversationId?}`, not the SDK's chat body: the transport sends
 * the newest message only, and the server keeps the conversation. This module brings the AI SDK:
 * only the chat imports it.
 */
import { DefaultChatTransport, getToolName, isToolUIPart, readUIMessageStream } from 'ai';
import { followFetch, streamFetch } from './http.ts';
import { messageApprovals, messageText, type RunMessage } from './run-message.ts';
import type { RunApproval, RunStart } from './wire.ts';

/** The chat transport for one agent's runs; `conversation()` is the one to continue, if any. */
export function runTransport(
  path: string,
  conversation: () => string | undefined,
): DefaultChatTransport<RunMessage> {
  return new DefaultChatTransport<RunMessage>({
    api: path,
    fetch: streamFetch,
    prepareSendMessagesRequest: ({ messages }) => {
      const conversationId = conversation();
      const body: RunStart = {
        message: messageText(messages.at(-1)),
        ...(conversationId ? { conversationId } : {}),
      };
      return { body };
    },
  });
}

/**
 * Follows a run's stream (`GET …/runs/{run}/stream`: what it streamed since it resumed, then live
 * to its end): `onMessage` gets the answer as it grows. Resolves once the stream ends.
 */
export async function followRun(
  path: string,
  runId: string,
  onMessage: (message: RunMessage) => void,
  signal: AbortSignal,
): Promise<void> {
  const transport = new DefaultChatTransport<RunMessage>({
    api: path,
    fetch: followFetch,
    prepareReconnectToStreamRequest: () => ({ api: path }),
  });
  const stream = await transport.reconnectToStream({ chatId: runId, abortSignal: signal });
  if (!stream) return;
  for await (const message of readUIMessageStream<RunMessage>({ stream })) {
    if (signal.aborted) return;
    onMessage(message);
  }
}

/**
 * The gate's refusals, as a tool error starts (`code: message`); any other error is a failure of
 * the tool itself.
 */
const REFUSALS = new Set(['tool_denied', 'approval_denied', 'agent_stopped', 'approval_required']);

/** A tool call of an answer, as the chat shows it. */
export type ToolCallView = {
  id: string;
  name: string;
  input: unknown;
  /** calling: no result yet; waiting: for a person's approval (`approval`). */
  state: 'calling' | 'done' | 'refused' | 'failed' | 'waiting';
  /** The result, or the reason it was refused or failed. */
  text: string | null;
  approval: RunApproval | null;
  /** A person's decision on it, once the run went on (a conversation read back carries it). */
  decided?: 'approved' | 'denied';
  /** It waited for a person and the run ended first (stopped, or its approval expired): it never ran. */
  notRun?: true;
};

export type AnswerPart = { kind: 'text'; text: string } | { kind: 'tool'; call: ToolCallView };

/** A tool's result as text; a JSON document (what MCP tools often answer) laid out to read. */
function resultText(output: unknown): string {
  if (typeof output !== 'string') return JSON.stringify(output, null, 2);
  try {
    const parsed: unknown = JSON.parse(output);
    return parsed !== null && typeof parsed === 'object' ? JSON.stringify(parsed, null, 2) : output;
  } catch {
    return output;
  }
}

/**
 * An answer as the chat shows it: its text and tool calls in order, each call waiting for a
 * person paired with its approval, and the approvals no call shown is paired with (an answer
 * read back from its run has no tool parts).
 */
export function readAnswer(message: RunMessage): { parts: AnswerPart[]; unpaired: RunApproval[] } {
  const waiting = messageApprovals(message);
  const parts: AnswerPart[] = [];
  for (const p of message.parts) {
    if (p.type === 'text') {
      if (p.text) parts.push({ kind: 'text', text: p.text });
      continue;
    }
    if (!isToolUIPart(p)) continue;
    const call: ToolCallView = {
      id: p.toolCallId,
      name: getToolName(p),
      input: p.input,
      state: 'calling',
      text: null,
      approval: null,
    };
    if (p.approval?.approved === true) call.decided = 'approved';
    if (p.state === 'output-available') {
      call.state = 'done';
      call.text = resultText(p.output);
    } else if (p.state === 'output-denied') {
      call.state = 'refused';
      call.decided = 'denied';
      call.text = 'A person denied this call: it did not run.';
    } else if (p.state === 'output-error') {
      // The SDK reports the thrown error as its string: `Error: tool_denied: No grant allows …`.
      const text = p.errorText.replace(/^Error: /, '');
      const code = /^([a-z_]+): /.exec(text)?.[1];
      call.state = code && REFUSALS.has(code) ? 'refused' : 'failed';
      call.text = code ? text.slice(code.length + 2) : text;
      // Marked by the control plane reading the run back, never by a tool's own words.
      const paddock: unknown = p.toolMetadata?.paddock;
      const marked =
        typeof paddock === 'object' && paddock !== null && 'notRun' in paddock && paddock.notRun === true;
      if (marked) {
        call.state = 'refused';
        call.notRun = true;
        call.text = text;
      }
    }
    parts.push({ kind: 'tool', call });
  }
  // A call that waits answers the model with a note naming its request; the stream's
  // data-approval names the request and the tool.
  const calls = parts.flatMap((p) => (p.kind === 'tool' ? [p.call] : []));
  const unpaired: RunApproval[] = [];
  for (const a of waiting) {
    const call =
      calls.find((c) => !c.approval && c.state === 'done' && c.text?.includes(a.approvalId)) ??
      calls.findLast((c) => !c.approval && c.state === 'done' && c.name === a.tool);
    if (call) {
      call.approval = a;
      call.state = 'waiting';
      call.text = null;
    } else unpaired.push(a);
  }
  return { parts, unpaired };
}

/**
 * A run's continuation after a decision, as streamed: the decided calls' outcomes, which come
 * before its first step (first of each id: a provider may number a later step's calls afresh),
 * and its steps as an answer's parts.
 */
export function readContinuation(message: RunMessage | null): {
  outcome: Map<string, ToolCallView>;
  rest: AnswerPart[];
} {
  if (!message) return { outcome: new Map(), rest: [] };
  const first = message.parts.findIndex((p) => p.type === 'step-start');
  const head = first < 0 ? message.parts : message.parts.slice(0, first);
  const outcome = new Map<string, ToolCallView>();
  for (const p of readAnswer({ ...message, parts: head }).parts)
    if (p.kind === 'tool' && p.call.state !== 'calling' && !outcome.has(p.call.id))
      outcome.set(p.call.id, p.call);
  const rest = first < 0 ? [] : readAnswer({ ...message, parts: message.parts.slice(first) }).parts;
  return { outcome, rest };
}
