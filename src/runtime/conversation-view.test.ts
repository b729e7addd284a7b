/**
 * A conversation read back as the chat showed it: each exchange's text and tool calls with what
 * they answered (a result, a refusal, a failure), paired with the runs that made them. The route
 * over a real cell is in runtime.test.ts; the chat reopening one is in dashboard/e2e.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelMessage } from 'ai';
import type { RunTable } from '../store/schema.ts';
import { conversationMessages, turnsOf } from './conversation-view.ts';

const result = (toolCallId: string, output: unknown): ModelMessage =>
  ({
    role: 'tool',
    content: [{ type: 'tool-result', toolCallId, toolName: 'crm__find', output }],
  }) as ModelMessage;
const calls = (...ids: string[]): ModelMessage => ({
  role: 'assistant',
  content: [
    { type: 'text', text: 'Looking.' },
    { type: 'reasoning', text: 'unseen thoughts' },
    ...ids.map((id) => ({
      type: 'tool-call' as const,
      toolCallId: id,
      toolName: 'crm__find',
      input: { q: id },
    })),
  ],
});

const first: ModelMessage[] = [
  { role: 'user', content: 'find A' },
  calls('c1', 'c2', 'c3', 'c4', 'c5'),
  result('c1', { type: 'text', value: '{"order":"A"}' }),
  result('c2', { type: 'error-text', value: 'tool_denied: No grant allows crm__find with these arguments.' }),
  result('c3', { type: 'execution-denied', reason: 'not today' }),
  result('c4', {
    type: 'content',
    value: [
      { type: 'text', text: 'part one' },
      { type: 'text', text: ' two' },
    ],
  }),
  { role: 'assistant', content: [{ type: 'text', text: 'Found A.' }] },
];
const second: ModelMessage[] = [
  { role: 'user', content: [{ type: 'text', text: 'and B?' }] },
  { role: 'assistant', content: 'No B.' },
];

test('an exchange reads as its text and tool calls in order, each with what it answered', () => {
  const [turn, ...rest] = turnsOf([...first, ...second]);
  assert.equal(rest.length, 1);
  assert.equal(turn?.said, 'find A');
  assert.deepEqual(turn?.answer, [
    { type: 'text', text: 'Looking.' },
    {
      type: 'dynamic-tool',
      toolName: 'crm__find',
      toolCallId: 'c1',
      state: 'output-available',
      input: { q: 'c1' },
      output: '{"order":"A"}',
    },
    {
      type: 'dynamic-tool',
      toolName: 'crm__find',
      toolCallId: 'c2',
      state: 'output-error',
      input: { q: 'c2' },
      errorText: 'tool_denied: No grant allows crm__find with these arguments.',
    },
    {
      type: 'dynamic-tool',
      toolName: 'crm__find',
      toolCallId: 'c3',
      state: 'output-error',
      input: { q: 'c3' },
      errorText: 'approval_denied: not today',
    },
    {
      type: 'dynamic-tool',
      toolName: 'crm__find',
      toolCallId: 'c4',
      state: 'output-available',
      input: { q: 'c4' },
      output: 'part one two',
    },
    // No result kept (the run ended before it answered): still called.
    {
      type: 'dynamic-tool',
      toolName: 'crm__find',
      toolCallId: 'c5',
      state: 'input-available',
      input: { q: 'c5' },
    },
    { type: 'text', text: 'Found A.' },
  ]);
  assert.deepEqual(rest[0], { said: 'and B?', answer: [{ type: 'text', text: 'No B.' }] });
});

test('a hostile history changes nothing it should not: no role, no content, a result for no call', () => {
  const turns = turnsOf([
    { role: 'assistant', content: 'before anyone spoke' },
    { role: 'system', content: 'the instructions' },
    { role: 'user', content: 'hi' },
    result('nobody', { type: 'text', value: 'orphan' }),
    { role: 'assistant', content: null as unknown as string },
  ]);
  assert.deepEqual(turns, [{ said: 'hi', answer: [] }]);
});

let n = 0;
const run = (status: RunTable['status'], input: string, extra: Partial<RunTable> = {}): RunTable => ({
  id: `run_${++n}`,
  org_id: 'org_1',
  agent_id: 'agt_1',
  conversation_id: 'cnv_1',
  person_id: 'usr_1',
  via: 'chat',
  status,
  capability_hash: null,
  input,
  output: null,
  state: null,
  pending: null,
  steps: 1,
  input_tokens: 1,
  output_tokens: 1,
  error_code: null,
  error_message: null,
  created_at: `2026-12-06T10:00:0${n}.000Z`,
  updated_at: `2026-12-06T10:00:0${n}.000Z`,
  ended_at: null,
  ...extra,
});

test('runs pair with what the conversation kept: completed with their exchange, waiting with their state, others with their answer', () => {
  const done = run('completed', 'find A', { output: 'Found A.' });
  const failed = run('failed', 'break it', { error_code: 'model_failed', error_message: 'down' });
  const waiting = run('waiting_approval', 'refund A', {
    state: JSON.stringify([
      ...first,
      { role: 'user', content: 'refund A' },
      calls('r1'),
      result('r1', { type: 'text', value: 'Waiting for a person’s approval (request apr_1).' }),
    ]),
    pending: JSON.stringify([
      { approvalId: 'apr_1', toolName: 'crm__find', expiresAt: '2026-12-07T00:00:00Z' },
    ]),
  });
  const messages = conversationMessages(first, [done, failed, waiting]);
  assert.deepEqual(
    messages.map((m) => [m.role, m.parts.map((p) => (p.type === 'dynamic-tool' ? p.toolCallId : p.type))]),
    [
      ['user', ['text']],
      ['assistant', ['text', 'c1', 'c2', 'c3', 'c4', 'c5', 'text', 'data-run']],
      ['user', ['text']],
      ['assistant', ['data-run']],
      ['user', ['text']],
      ['assistant', ['text', 'r1', 'data-run']],
    ],
  );
  const runOf = (i: number) => messages[i]?.parts.find((p) => p.type === 'data-run');
  assert.deepEqual(
    [1, 3, 5].map((i) => (runOf(i) as { data: { id: string; status: string } }).data.id),
    [done.id, failed.id, waiting.id],
  );
  assert.equal((runOf(5) as { data: { waitingFor: unknown[] } }).data.waitingFor.length, 1);
});

test('an exchange kept after its run was deleted still shows, in its place, without a run', () => {
  // Runs are kept for less time than conversations: the first run is gone, the second is not.
  const later = run('completed', 'and B?', { output: 'No B.' });
  const messages = conversationMessages([...first, ...second], [later]);
  assert.deepEqual(
    messages.map((m) => [m.role, m.parts.at(-1)?.type]),
    [
      ['user', 'text'],
      ['assistant', 'text'],
      ['user', 'text'],
      ['assistant', 'data-run'],
    ],
  );
  assert.equal(messages[0]?.parts[0]?.type === 'text' && messages[0].parts[0].text, 'find A');
  // A completed run whose exchange was not kept (a thread's, said only elsewhere) shows its answer.
  const lone = run('completed', 'never kept', { output: 'An answer.' });
  assert.deepEqual(
    conversationMessages([], [lone])[1]?.parts.map((p) => p.type),
    ['text', 'data-run'],
  );
});
