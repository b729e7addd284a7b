/**
 * How the chat reads an answer's tool calls: a result, a refusal by the gate, a failure, and —
 * read back from a conversation — a call a person approved or denied (the AI SDK's own parts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunMessage } from './run-message.ts';
import { readAnswer } from './run-stream.ts';

const answer = (parts: unknown[]): RunMessage => ({ id: 'a', role: 'assistant', parts }) as RunMessage;
const tool = (id: string, rest: Record<string, unknown>) => ({
  type: 'dynamic-tool',
  toolName: 'desk__refund',
  toolCallId: id,
  input: { orderId: 'A-1001' },
  ...rest,
});

test('each call as the chat shows it: allowed, refused with the reason, failed, approved, denied', () => {
  const { parts, unpaired } = readAnswer(
    answer([
      tool('c1', { state: 'output-available', output: 'done' }),
      tool('c2', { state: 'output-error', errorText: 'Error: tool_denied: No grant allows it.' }),
      tool('c3', { state: 'output-error', errorText: 'the server crashed' }),
      tool('c4', {
        state: 'output-available',
        output: 'refunded',
        approval: { id: 'apr_4', approved: true },
      }),
      tool('c5', { state: 'output-denied', approval: { id: 'apr_5', approved: false } }),
    ]),
  );
  assert.deepEqual(unpaired, []);
  assert.deepEqual(
    parts.map((p) => (p.kind === 'tool' ? [p.call.state, p.call.decided ?? null, p.call.text] : null)),
    [
      ['done', null, 'done'],
      ['refused', null, 'No grant allows it.'],
      ['failed', null, 'the server crashed'],
      ['done', 'approved', 'refunded'],
      ['refused', 'denied', 'A person denied this call: it did not run.'],
    ],
  );
});
