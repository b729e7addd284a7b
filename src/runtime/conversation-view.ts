/**
 * A conversation read back as the chat showed it: each message and the agent's answer, with the
 * tool calls it made and what they answered, as the AI SDK's UI messages — the shape the run's
 * stream had, so a reopened conversation reads as it did live. Built from what the conversation
 * keeps (a completed run's messages) and, for a run waiting for a person, from its saved state.
 */
import type { ModelMessage } from 'ai';
import type { RunTable } from '../store/schema.ts';
import { type Run, toRun } from './runs.ts';

/** A part of an answer: its text, or a tool call as the stream showed it. */
export type AnswerPart =
  | { type: 'text'; text: string }
  | {
      type: 'dynamic-tool';
      toolName: string;
      toolCallId: string;
      state: 'input-available' | 'output-available' | 'output-error';
      input: unknown;
      output?: unknown;
      errorText?: string;
    };

/** One message of the conversation: a person's, or the agent's answer (with its run, when kept). */
export type ConversationMessage =
  | { id: string; role: 'user'; parts: Array<{ type: 'text'; text: string }> }
  | { id: string; role: 'assistant'; parts: Array<AnswerPart | { type: 'data-run'; data: Run }> };

/** One exchange: what the person said and the agent's answer to it. */
export interface Turn {
  said: string;
  answer: AnswerPart[];
}

type Part = { type: string; [k: string]: unknown };
const partsOf = (content: unknown): Part[] =>
  typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? content : [];
const textOf = (content: unknown) =>
  partsOf(content)
    .flatMap((p) => (p.type === 'text' && typeof p.text === 'string' ? [p.text] : []))
    .join('');

type ToolPart = Extract<AnswerPart, { type: 'dynamic-tool' }>;
type Settled = Pick<ToolPart, 'state' | 'output' | 'errorText'>;

/** A tool's answer as its UI part has it (a refusal or a failure as its error text). */
function settled(output: unknown): Settled {
  const o = (output ?? {}) as { type?: string; value?: unknown; reason?: unknown };
  const error = (errorText: string): Settled => ({ state: 'output-error', errorText });
  switch (o.type) {
    case 'text':
    case 'json':
      return { state: 'output-available', output: o.value };
    case 'error-text':
      return error(String(o.value));
    case 'error-json':
      return error(JSON.stringify(o.value));
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
 * A conversation's messages as exchanges: each person's message opens one, and the agent's
 * steps after it (text, tool calls, their results, in order) are its answer. Reasoning and
 * anything else the chat does not show is left out.
 */
export function turnsOf(messages: ModelMessage[]): Turn[] {
  const turns: Turn[] = [];
  const calls = new Map<string, ToolPart>();
  for (const m of messages) {
    if (m.role === 'user') {
      turns.push({ said: textOf(m.content), answer: [] });
      continue;
    }
    const turn = turns.at(-1);
    if (!turn) continue;
    if (m.role === 'assistant') {
      for (const p of partsOf(m.content)) {
        if (p.type === 'text' && typeof p.text === 'string' && p.text) {
          turn.answer.push({ type: 'text', text: p.text });
        } else if (p.type === 'tool-call' && typeof p.toolCallId === 'string') {
          const call: ToolPart = {
            type: 'dynamic-tool',
            toolName: String(p.toolName),
            toolCallId: p.toolCallId,
            state: 'input-available',
            input: p.input,
          };
          calls.set(p.toolCallId, call);
          turn.answer.push(call);
        }
      }
    } else if (m.role === 'tool') {
      for (const p of partsOf(m.content)) {
        const call = p.type === 'tool-result' ? calls.get(String(p.toolCallId)) : undefined;
        if (call) Object.assign(call, settled(p.output));
      }
    }
  }
  return turns;
}

/**
 * The conversation as the chat shows it, its runs (oldest first) paired with the exchanges kept:
 * a completed run with the next exchange that says what it was sent; a waiting run with its own
 * state's; any other run (failed, stopped, in flight) with its answer, if any. An exchange kept
 * after its run was deleted (run retention) still shows, without a run.
 */
export function conversationMessages(kept: ModelMessage[], runs: RunTable[]): ConversationMessage[] {
  const turns = turnsOf(kept);
  const out: ConversationMessage[] = [];
  const say = (id: string, said: string, answer: AnswerPart[], run: Run | null) => {
    out.push({ id: `${id}-message`, role: 'user', parts: [{ type: 'text', text: said }] });
    out.push({
      id: `${id}-answer`,
      role: 'assistant',
      parts: run ? [...answer, { type: 'data-run', data: run }] : answer,
    });
  };
  let next = 0;
  for (const row of runs) {
    const run = toRun(row);
    let answer: AnswerPart[] | undefined;
    if (row.status === 'completed') {
      const at = turns.findIndex((t, i) => i >= next && t.said === row.input);
      if (at >= 0) {
        for (; next < at; next++) say(`kept-${next}`, turns[next]!.said, turns[next]!.answer, null);
        answer = turns[at]!.answer;
        next = at + 1;
      }
    } else if (row.status === 'waiting_approval' && row.state) {
      answer = turnsOf(JSON.parse(row.state) as ModelMessage[]).findLast((t) => t.said === row.input)?.answer;
    }
    say(run.id, run.input, answer ?? (run.output ? [{ type: 'text', text: run.output }] : []), run);
  }
  for (; next < turns.length; next++) say(`kept-${next}`, turns[next]!.said, turns[next]!.answer, null);
  return out;
}
