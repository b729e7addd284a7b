/**
 * A conversation read back as the chat showed it: each message and the agent's answer, with the
 * tool calls it made and what they answered, as the AI SDK's UI messages — the shape the run's
 * stream had, so a reopened conversation reads as it did live. Built from what the conversation
 * keeps (a completed run's messages) and, for a run that waits or ended without completing, from
 * its own messages kept on it.
 */
import { argsDigest } from '../approvals/approvals.ts';
import type { RunTable } from '../store/schema.ts';
import { type Run, toRun } from './runs.ts';

/** A part of an answer: its text, or a tool call as the stream showed it. */
export type AnswerPart =
  | { type: 'text'; text: string }
  | {
      type: 'dynamic-tool';
      toolName: string;
      toolCallId: string;
      state: 'input-available' | 'output-available' | 'output-error' | 'output-denied';
      input: unknown;
      output?: unknown;
      errorText?: string;
      /** A person's decision on the call, as the AI SDK's parts carry one (approved, or denied). */
      approval?: { id: string; approved: boolean };
      /** Paddock's word on the call: it waited, and the run ended before it ran. */
      toolMetadata?: { paddock: { notRun: true } };
    };

/** What a person decided on a call a run waited for, as the control plane kept it. */
export interface RunDecision {
  toolCallId: string;
  /** The call's tool as the agent named it, and its arguments' digest (the approval's): ids may repeat. */
  toolName?: string;
  argsDigest?: string;
  approvalId: string;
  outcome: 'approved' | 'denied';
}

/** One message of the conversation: a person's, or the agent's answer (with its run, when kept). */
export type ConversationMessage =
  | { id: string; role: 'user'; parts: Array<{ type: 'text'; text: string }> }
  | { id: string; role: 'assistant'; parts: Array<AnswerPart | { type: 'data-run'; data: Run }> };

/** One exchange: what the person said and the agent's answer to it (with the run that made it, when tagged). */
export interface Turn {
  said: string;
  answer: AnswerPart[];
  /** The run whose message opened it and when, as the runtime tagged that message (`runTag`). */
  runId?: string;
  at?: string;
}

/** Paddock's own options on a message: providers read only theirs, so these travel unseen. */
type PaddockOptions = { runId?: unknown; at?: unknown; retry?: unknown };
const paddockOf = (m: object): PaddockOptions => {
  const o = (m as { providerOptions?: { paddock?: unknown } }).providerOptions?.paddock;
  return o && typeof o === 'object' ? (o as PaddockOptions) : {};
};

/** The tag a run's message carries, so the conversation it is kept in says which run said it. */
export const runTag = (runId: string, at: string) => ({ paddock: { runId, at } });

type Part = { type?: unknown; [k: string]: unknown };
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';
const partsOf = (content: unknown): Part[] =>
  typeof content === 'string'
    ? [{ type: 'text', text: content }]
    : Array.isArray(content)
      ? content.filter(isObject)
      : [];
const textOf = (content: unknown) =>
  partsOf(content)
    .flatMap((p) => (p.type === 'text' && typeof p.text === 'string' ? [p.text] : []))
    .join('');
const asText = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));

type ToolPart = Extract<AnswerPart, { type: 'dynamic-tool' }>;
type Settled = Pick<ToolPart, 'state' | 'output' | 'errorText'>;

/** A tool's answer as its UI part has it (a refusal or a failure as its error text). */
function settled(output: unknown): Settled {
  const o = isObject(output) ? output : {};
  const error = (errorText: string): Settled => ({ state: 'output-error', errorText });
  switch (o.type) {
    case 'text':
    case 'json':
      return { state: 'output-available', output: o.value };
    case 'error-text':
    case 'error-json':
      return error(asText(o.value));
    case 'execution-denied':
      return error(
        `approval_denied: ${typeof o.reason === 'string' ? o.reason : 'A person denied this call.'}`,
      );
    case 'content':
      return { state: 'output-available', output: textOf(o.value) };
    default:
      return { state: 'output-available', output };
  }
}

/**
 * A conversation's messages as exchanges: each person's message opens one, and the agent's steps
 * after it (text, tool calls, their results, in order) are its answer. Reasoning and anything
 * else the chat does not show is left out; so is an answer the runtime sent back for not matching
 * the agent's output schema (the stream never showed it), and its request to answer again.
 * Stored messages come from the cell, the less trusted side: anything malformed is skipped.
 */
export function turnsOf(messages: unknown): Turn[] {
  const turns: Turn[] = [];
  let calls = new Map<string, ToolPart[]>();
  for (const m of Array.isArray(messages) ? messages : []) {
    if (!isObject(m)) continue;
    const turn = turns.at(-1);
    if (m.role === 'user') {
      const tag = paddockOf(m);
      if (tag.retry === true && turn) {
        turn.answer = turn.answer.filter((p) => p.type !== 'text');
        continue;
      }
      turns.push({
        said: textOf(m.content),
        answer: [],
        ...(typeof tag.runId === 'string' ? { runId: tag.runId } : {}),
        ...(typeof tag.at === 'string' ? { at: tag.at } : {}),
      });
      // A provider may number its calls afresh each exchange: a result answers a call of its own.
      calls = new Map();
      continue;
    }
    if (!turn) continue;
    if (m.role === 'assistant') {
      for (const p of partsOf(m.content)) {
        if (p.type === 'text' && typeof p.text === 'string' && p.text) {
          turn.answer.push({ type: 'text', text: p.text });
        } else if (
          p.type === 'tool-call' &&
          typeof p.toolCallId === 'string' &&
          typeof p.toolName === 'string'
        ) {
          const call: ToolPart = {
            type: 'dynamic-tool',
            toolName: p.toolName,
            toolCallId: p.toolCallId,
            state: 'input-available',
            input: p.input,
          };
          calls.set(p.toolCallId, [...(calls.get(p.toolCallId) ?? []), call]);
          turn.answer.push(call);
        }
      }
    } else if (m.role === 'tool') {
      for (const p of partsOf(m.content)) {
        if (p.type !== 'tool-result' || typeof p.toolCallId !== 'string') continue;
        // The first call of that id still without an answer (ids may repeat within an exchange too).
        const call = calls.get(p.toolCallId)?.find((c) => c.state === 'input-available');
        if (call) Object.assign(call, settled(p.output));
      }
    }
  }
  return turns;
}

/**
 * The answer with the decisions people made on its calls (from the run's record, not the cell's
 * report): an approved call carries its approval, a denied one is denied, as the SDK's parts say.
 */
function decided(answer: AnswerPart[], decisions: string | null | undefined): AnswerPart[] {
  const list = safeParse(decisions ?? '[]');
  if (!Array.isArray(list) || list.length === 0) return answer;
  const left = [...(list as RunDecision[])];
  // Each decision marks one call: the first of its id, tool and arguments not yet marked.
  const is = (d: RunDecision, p: ToolPart) =>
    d.toolCallId === p.toolCallId &&
    (!d.toolName || d.toolName === p.toolName) &&
    (!d.argsDigest || d.argsDigest === argsDigest(isObject(p.input) ? p.input : {}));
  return answer.map((p) => {
    if (p.type !== 'dynamic-tool') return p;
    const at = left.findIndex((d) => is(d, p));
    if (at < 0) return p;
    const [d] = left.splice(at, 1) as [RunDecision];
    const { errorText: _, output: __, ...call } = p;
    return d.outcome === 'denied'
      ? { ...call, state: 'output-denied', approval: { id: d.approvalId, approved: false } }
      : { ...p, approval: { id: d.approvalId, approved: true } };
  });
}

/**
 * A run that ended while calls still waited for a person (stopped, or an approval expired): those
 * calls never ran — said so, marked by the control plane (`toolMetadata.paddock.notRun`: a
 * tool's own error text cannot claim it), not shown with the note that they wait. A call a
 * person denied reads as denied.
 */
function notRun(answer: AnswerPart[], row: RunTable): AnswerPart[] {
  if (row.status !== 'stopped' && row.status !== 'failed') return answer;
  const waited = safeParse(row.pending ?? '[]');
  if (!Array.isArray(waited) || waited.length === 0) return answer;
  const why =
    row.status === 'stopped'
      ? 'The run was stopped before this call ran: it did not run.'
      : `The run ended (${row.error_code ?? 'failed'}) before this call ran: it did not run.`;
  const out = [...answer];
  for (const w of waited) {
    if (!isObject(w) || typeof w.toolCallId !== 'string') continue;
    // The waiting ones are the run's latest calls of their id.
    const at = out.findLastIndex((p) => p.type === 'dynamic-tool' && p.toolCallId === w.toolCallId);
    const p = out[at];
    if (p?.type !== 'dynamic-tool' || p.state === 'output-denied') continue;
    const { output: _, approval: __, ...call } = p;
    out[at] = { ...call, state: 'output-error', errorText: why, toolMetadata: { paddock: { notRun: true } } };
  }
  return out;
}

/** What a tool part may show: its input, output and error words, each passed through `mask`. */
function masked(answer: AnswerPart[], mask: (value: unknown) => unknown): AnswerPart[] {
  return answer.map((p) => {
    if (p.type !== 'dynamic-tool') return p;
    const out: ToolPart = { ...p, input: mask(p.input) };
    if ('output' in p) out.output = mask(p.output);
    if (p.errorText !== undefined) out.errorText = asText(mask(p.errorText));
    return out;
  });
}

/**
 * The conversation as the chat shows it, oldest first: each run with its exchange — a completed
 * run's from what the conversation kept (found by the run's tag; in a conversation kept before
 * runs were tagged, by what it was sent), a waiting run's from its saved state, any other run
 * (failed, stopped, in flight) with its answer if any — and each exchange kept without a run of
 * yours (its run deleted by retention, or another person's in a thread) in its place. Tool parts
 * pass through `mask` (the agent's output checks, as the stream applied them).
 */
export function conversationMessages(
  kept: unknown,
  runs: RunTable[],
  mask: (value: unknown) => unknown = (v) => v,
): ConversationMessage[] {
  const turns = turnsOf(kept);
  const tagged = new Map(turns.flatMap((t) => (t.runId ? [[t.runId, t] as const] : [])));
  const claimedBy = new Map<Turn, RunTable>();
  type Item = { at: string; order: number; id: string; said: string; answer: AnswerPart[]; run: Run | null };
  const items: Item[] = [];
  let next = 0;
  for (const row of runs) {
    let turn: Turn | undefined;
    if (row.status === 'completed') {
      turn = tagged.get(row.id);
      if (!turn) {
        // Kept before runs were tagged: the next untagged exchange that says what it was sent.
        const at = turns.findIndex(
          (t, i) => i >= next && !t.runId && !claimedBy.has(t) && t.said === row.input,
        );
        if (at >= 0) {
          turn = turns[at];
          next = at + 1;
        }
      }
      if (turn) claimedBy.set(turn, row);
    } else if (row.state) {
      // Waiting, or ended without completing: the run's own messages, kept on it.
      const waiting = turnsOf(safeParse(row.state));
      turn =
        waiting.find((t) => t.runId === row.id) ?? waiting.findLast((t) => !t.runId && t.said === row.input);
    }
    const run = toRun(row);
    const answer = turn
      ? notRun(decided(turn.answer, row.decisions), row)
      : run.output
        ? [{ type: 'text' as const, text: run.output }]
        : [];
    const order = turn && claimedBy.has(turn) ? turns.indexOf(turn) : -1;
    items.push({ at: row.created_at, order, id: run.id, said: run.input, answer, run });
  }
  // An exchange without a run of yours: at the time its tag says, else just after the one before it.
  let last = '';
  for (const [i, t] of turns.entries()) {
    const run = claimedBy.get(t);
    const at = t.at ?? run?.created_at ?? last;
    last = at;
    if (!run) items.push({ at, order: i, id: `kept-${i}`, said: t.said, answer: t.answer, run: null });
  }
  items.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.order - b.order));
  return items.flatMap((item): ConversationMessage[] => [
    { id: `${item.id}-message`, role: 'user', parts: [{ type: 'text', text: item.said }] },
    {
      id: `${item.id}-answer`,
      role: 'assistant',
      parts: [
        ...masked(item.answer, mask),
        ...(item.run ? [{ type: 'data-run' as const, data: item.run }] : []),
      ],
    },
  ]);
}

/**
 * What a run that ended without completing keeps of its messages (a list, or its JSON): its own — from the
 * message that began it — for its conversation read back; none when it had none.
 */
export function ownMessages(messages: unknown, runId: string): string | null {
  const parsed = typeof messages === 'string' ? safeParse(messages) : messages;
  const list = Array.isArray(parsed) ? parsed : [];
  const at = list.findLastIndex((m) => isObject(m) && m.role === 'user' && paddockOf(m).runId === runId);
  const own = at >= 0 ? list.slice(at) : [];
  return own.length > 1 ? JSON.stringify(own) : null;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return [];
  }
}
