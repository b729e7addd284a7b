/**
 * A run's end, held to its agent's output contract and checks before anything of it is stored,
 * audited or delivered. The cell validates and retries on its side; the control plane judges
 * again what the cell reports (a cell is less trusted), so a schema-violating or blocked answer
 * never reaches a caller, the conversation, the run's stored steps or the audit trail.
 */
import type { ModelMessage } from 'ai';
import { judgeOutput } from './output-schema.ts';
import type { Fired } from './rules.ts';
import type { CheckSet, Scanner } from './scan.ts';

/** The part of a run's end the checks read and change. */
export interface Outcome {
  status: 'completed' | 'failed' | 'stopped' | 'waiting_approval';
  output: string | null;
  messages: ModelMessage[];
  error: { code: string; message: string } | null;
  pending: unknown[];
}

export interface Contract {
  checks: CheckSet | null;
  schema: Record<string, unknown> | null;
}

const names = (fired: Fired[]) => fired.map((f) => `"${f.check}"`).join(', ');

/** Each assistant text (and reasoning) part of the messages, with `fn` applied. */
function mapAssistantText(messages: ModelMessage[], fn: (text: string) => string): ModelMessage[] {
  return messages.map((m) => {
    if (m.role !== 'assistant') return m;
    if (typeof m.content === 'string') return { ...m, content: fn(m.content) };
    return {
      ...m,
      content: m.content.map((p) =>
        p.type === 'text' || p.type === 'reasoning' ? { ...p, text: fn(p.text) } : p,
      ),
    } as ModelMessage;
  });
}

function scanned(scanner: Scanner, end: Outcome): { end: Outcome; fired: Fired[] } {
  const fired = new Map<string, Fired['action']>();
  const apply = (text: string) => {
    const r = scanner.apply(text);
    for (const f of r.fired) if (fired.get(f.check) !== 'block') fired.set(f.check, f.action);
    return r.text;
  };
  const output = end.output === null ? null : apply(end.output);
  const messages = mapAssistantText(end.messages, apply);
  const list = [...fired].map(([check, action]) => ({ check, action }));
  const blocks = list.filter((f) => f.action === 'block');
  if (blocks.length === 0) return { end: { ...end, output, messages }, fired: list };
  return {
    end: {
      ...end,
      status: 'failed',
      output: null,
      messages: [],
      pending: [],
      error: {
        code: 'output_blocked',
        message: `The answer was withheld: the check ${names(blocks)} matched it.`,
      },
    },
    fired: list,
  };
}

/** The end as it may be kept and delivered, and which checks fired on it (for the audit trail). */
export function settle<T extends Outcome>(reported: T, contract: Contract): { end: T; fired: Fired[] } {
  let end: Outcome = reported;
  let fired: Fired[] = [];
  if (contract.checks?.output) ({ end, fired } = scanned(contract.checks.output, end));
  if (contract.schema && end.status === 'completed') {
    const judged = judgeOutput(contract.schema, end.output ?? '');
    if (!judged.ok) {
      end = {
        ...end,
        status: 'failed',
        output: null,
        messages: [],
        error: {
          code: 'output_invalid',
          message: `The answer does not match the agent's output schema (${judged.why}).`,
        },
      };
    }
  }
  return { end: end as T, fired };
}
