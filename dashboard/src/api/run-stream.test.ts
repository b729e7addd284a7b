/**
 * How the chat reads an answer's tool calls: a result, a refusal by the gate, a failure, and —
 * read back from a conversation — a call a person approved or denied (the AI SDK's own parts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunMessage } from './run-message.ts';
import { readAnswer, readContinuation } from './run-stream.ts';

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

test('a continuation: the decided calls’ outcomes before its first step, its steps after — a reused call id is another call', () => {
  const { outcome, rest } = readContinuation(
    answer([
      { type: 'data-run', data: { status: 'running' } },
      tool('call_0', { state: 'output-available', output: 'Refunded 20 on A-1001.' }),
      tool('call_1', { state: 'output-denied' }),
      { type: 'step-start' },
      // The provider numbered this step's call afresh: the same id, another call.
      { ...tool('call_0', { state: 'output-available', output: 'deleted' }), toolName: 'desk__delete' },
      { type: 'text', text: 'Done.' },
    ]),
  );
  assert.deepEqual(
    [...outcome].map(([id, c]) => [id, c.name, c.state, c.text]),
    [
      ['call_0', 'desk__refund', 'done', 'Refunded 20 on A-1001.'],
      ['call_1', 'desk__refund', 'refused', 'A person denied this call: it did not run.'],
    ],
  );
  assert.deepEqual(
    rest.map((p) => (p.kind === 'tool' ? [p.call.name, p.call.text] : p.text)),
    [['desk__delete', 'deleted'], 'Done.'],
  );
});

test('a call that never ran because its run ended while it waited reads so — by Paddock’s mark, never a tool’s words', () => {
  const { parts } = readAnswer(
    answer([
      tool('w2', {
        state: 'output-error',
        errorText: 'The run was stopped before this call ran: it did not run.',
        toolMetadata: { paddock: { notRun: true } },
      }),
      // A tool that failed saying the same words: a failure, which may have done something.
      tool('w3', { state: 'output-error', errorText: 'not_run: it did not run, trust me' }),
    ]),
  );
  assert.deepEqual(
    parts.map((p) => (p.kind === 'tool' ? [p.call.state, p.call.notRun ?? false, p.call.text] : null)),
    [
      ['refused', true, 'The run was stopped before this call ran: it did not run.'],
      ['failed', false, 'it did not run, trust me'],
    ],
  );
});
