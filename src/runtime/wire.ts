/**
 * What a cell may say about a run, checked: a cell is less trusted than the control plane, so
 * its reports are parsed strictly and bounded before anything is stored or audited.
 */
import { z } from 'zod';
import type { RunEnd, RunEvent } from './cell/loop.ts';

const text = (max: number) => z.string().max(max);
const count = z.number().int().min(0).max(1e9);

const Pending = z.object({
  toolCallId: text(200),
  toolName: text(300),
  input: z.unknown(),
  approvalId: z.string().regex(/^apr_[0-9a-z]+$/),
  expiresAt: text(40),
});

const RunEndSchema = z.object({
  status: z.enum(['completed', 'failed', 'stopped', 'waiting_approval']),
  output: text(200_000).nullable().default(null),
  messages: z.array(z.unknown()).max(2000).default([]),
  usage: z.object({ inputTokens: count, outputTokens: count }).default({ inputTokens: 0, outputTokens: 0 }),
  steps: count.default(0),
  error: z
    .object({ code: text(100), message: text(2000) })
    .nullable()
    .default(null),
  pending: z.array(Pending).max(50).default([]),
});

const Step = z.object({
  step: count,
  provider: text(100),
  model: text(200),
  inputTokens: count,
  outputTokens: count,
  latencyMs: count,
  finishReason: text(50),
  toolCalls: z.array(text(300)).max(100),
});

const RunEventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('chunk'), chunk: z.object({ type: text(100) }).passthrough() }),
  z.object({ kind: z.literal('step'), step: Step }),
  z.object({ kind: z.literal('approval'), call: Pending }),
]);

/** A run's end as the cell reported it, or a failure saying the report was not valid. */
export function parseRunEnd(raw: unknown): RunEnd {
  const r = RunEndSchema.safeParse(raw);
  // Waiting for nothing would resume at once, over and over: not a state a run can be in.
  if (r.success && !(r.data.status === 'waiting_approval' && r.data.pending.length === 0))
    return r.data as RunEnd;
  return {
    status: 'failed',
    output: null,
    messages: [],
    usage: { inputTokens: 0, outputTokens: 0 },
    steps: 0,
    error: {
      code: 'cell_protocol',
      message: 'The cell reported the run’s end in a form Paddock does not accept.',
    },
    pending: [],
  };
}

export function parseRunEvent(raw: unknown): RunEvent | null {
  const r = RunEventSchema.safeParse(raw);
  return r.success ? (r.data as RunEvent) : null;
}
