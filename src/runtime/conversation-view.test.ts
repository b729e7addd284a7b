/**
 * A conversation read back as the chat showed it: each exchange's text and tool calls with what
 * they answered (a result, a refusal, a failure), paired with the runs that made them. The route
 * over a real cell is in runtime.test.ts; the chat reopening one is in dashboard/e2e.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelMessage } from 'ai';
import { argsDigest } from '../approvals/approvals.ts';
import type { RunTable } from '../store/schema.ts';
import { runRow } from '../testing/run-rows.ts';
import { conversationMessages, ownMessages, turnsOf } from './conversation-view.ts';

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
const run = (status: RunTable['status'], input: string, extra: Partial<RunTable> = {}): RunTable => {
  const at = `2026-12-06T10:00:${String(++n).padStart(2, '0')}.000Z`;
  return runRow({
    id: `run_${n}`,
    org_id: 'org_1',
    agent_id: 'agt_1',
    conversation_id: 'cnv_1',
    person_id: 'usr_1',
    via: 'chat',
    status,
    input,
    created_at: at,
    ...extra,
  });
};

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

/** A run's message as the runtime sends it: tagged with the run and its time. */
const said = (text: string, r: RunTable): ModelMessage =>
  ({
    role: 'user',
    content: text,
    providerOptions: { paddock: { runId: r.id, at: r.created_at } },
  }) as ModelMessage;
const answered = (text: string): ModelMessage => ({ role: 'assistant', content: text });
const shown = (messages: ReturnType<typeof conversationMessages>) =>
  messages.flatMap((m) =>
    m.role === 'user'
      ? []
      : [
          [
            m.parts.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join(' '),
            (m.parts.find((p) => p.type === 'data-run') as { data: { id: string } } | undefined)?.data.id ??
              null,
          ],
        ],
  );

test('tagged, each run gets its own exchange: a message said again, retention, a double send, another person first', () => {
  // "yes" three times; the first two runs deleted by retention.
  const [y1, y2, y3] = [run('completed', 'yes'), run('completed', 'yes'), run('completed', 'yes')];
  const kept = [
    said('yes', y1!),
    answered('one'),
    said('yes', y2!),
    answered('two'),
    said('yes', y3!),
    answered('three'),
  ];
  assert.deepEqual(shown(conversationMessages(kept, [y3!])), [
    ['one', null],
    ['two', null],
    ['three', y3!.id],
  ]);
  // Sent twice at once: the second's end is what the conversation kept; the first shows its own answer.
  const [d1, d2] = [run('completed', 'go', { output: 'first answer' }), run('completed', 'go')];
  assert.deepEqual(shown(conversationMessages([said('go', d2!), answered('second answer')], [d1!, d2!])), [
    ['first answer', d1!.id],
    ['second answer', d2!.id],
  ]);
  // A thread: another person said the same words first; theirs shows without a run, in its place.
  const [theirs, mine] = [run('completed', 'status?', { person_id: 'usr_2' }), run('completed', 'status?')];
  assert.deepEqual(
    shown(
      conversationMessages(
        [said('status?', theirs!), answered('A'), said('status?', mine!), answered('B')],
        [mine!],
      ),
    ),
    [
      ['A', null],
      ['B', mine!.id],
    ],
  );
});

test('in time order: an exchange whose run was deleted comes before a later failed run', () => {
  const [a, b, c] = [run('completed', 'a'), run('failed', 'b', { output: null }), run('completed', 'c')];
  assert.deepEqual(
    shown(conversationMessages([said('a', a!), answered('A'), said('c', c!), answered('C')], [b!, c!])).map(
      ([text, id]) => [text, id === b!.id ? 'b' : id],
    ),
    [
      ['A', null],
      ['', 'b'],
      ['C', c!.id],
    ],
  );
});

test('an answer sent back for not matching the output schema, and the request to answer again, are not shown', () => {
  const r = run('completed', 'json please');
  const kept: ModelMessage[] = [
    said('json please', r),
    answered('not json'),
    {
      role: 'user',
      content: 'Your answer does not match the required output schema (…).',
      providerOptions: { paddock: { retry: true } },
    } as ModelMessage,
    answered('{"ok":true}'),
  ];
  assert.deepEqual(shown(conversationMessages(kept, [r])), [['{"ok":true}', r.id]]);
});

test('hostile stored messages (a cell is less trusted) are skipped, never a crash', () => {
  const odd = { toString: 1 };
  const history = [
    null,
    'text',
    { role: 'user', content: [null, { type: 'text', text: 'hi' }] },
    { role: 'assistant', content: [null, { type: 'tool-call', toolCallId: odd, toolName: 'x', input: {} }] },
    { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'c1', toolName: odd, input: {} }] },
    { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'c2', toolName: 'ok', input: {} }] },
    {
      role: 'tool',
      content: [null, { type: 'tool-result', toolCallId: 'c2', output: { type: 'error-text', value: odd } }],
    },
  ];
  assert.deepEqual(turnsOf(history), [
    {
      said: 'hi',
      answer: [
        {
          type: 'dynamic-tool',
          toolName: 'ok',
          toolCallId: 'c2',
          state: 'output-error',
          input: {},
          errorText: '{"toString":1}',
        },
      ],
    },
  ]);
  assert.deepEqual(turnsOf({ not: 'a list' }), []);
  for (const state of ['{}', 'not json', '[null]']) {
    const w = run('waiting_approval', 'hi', { state });
    assert.deepEqual(shown(conversationMessages('nonsense', [w])), [['', w.id]]);
  }
});

test('call ids a provider numbers afresh each exchange answer their own exchange’s calls', () => {
  const call = (text: string): ModelMessage[] => [
    { role: 'user', content: text },
    {
      role: 'assistant',
      content: [{ type: 'tool-call', toolCallId: 'call_0', toolName: 't', input: { text } }],
    },
    result('call_0', { type: 'text', value: `result of ${text}` }),
  ];
  const turns = turnsOf([...call('one'), ...call('two')]);
  assert.deepEqual(
    turns.map((t) => t.answer.map((p) => (p.type === 'dynamic-tool' ? p.output : null))),
    [['result of one'], ['result of two']],
  );
});

test('tool parts pass through the mask (the agent’s output checks), text parts as kept', () => {
  const r = run('completed', 'find A');
  const mask = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll('A', '[REDACTED:a]'));
  const [, answer] = conversationMessages(first, [r], mask);
  const parts = answer?.parts ?? [];
  const c1 = parts.find((p) => p.type === 'dynamic-tool' && p.toolCallId === 'c1');
  assert.deepEqual(c1 && 'input' in c1 ? [c1.input, c1.output] : null, [
    { q: 'c1' },
    '{"order":"[REDACTED:a]"}',
  ]);
  assert.ok(
    parts.some((p) => p.type === 'text' && p.text === 'Found A.'),
    'the answer’s text as kept (settled at its end)',
  );
});

test('the decisions the run record keeps mark its calls: approved with their approval, denied as denied', () => {
  const r = run('completed', 'find A', {
    decisions: JSON.stringify([
      { toolCallId: 'c1', approvalId: 'apr_1', outcome: 'approved' },
      { toolCallId: 'c4', approvalId: 'apr_4', outcome: 'denied' },
    ]),
  });
  const parts = conversationMessages(first, [r])[1]?.parts ?? [];
  const call = (id: string) => parts.find((p) => p.type === 'dynamic-tool' && p.toolCallId === id);
  assert.deepEqual(call('c1'), {
    type: 'dynamic-tool',
    toolName: 'crm__find',
    toolCallId: 'c1',
    state: 'output-available',
    input: { q: 'c1' },
    output: '{"order":"A"}',
    approval: { id: 'apr_1', approved: true },
  });
  assert.deepEqual(call('c4'), {
    type: 'dynamic-tool',
    toolName: 'crm__find',
    toolCallId: 'c4',
    state: 'output-denied',
    input: { q: 'c4' },
    approval: { id: 'apr_4', approved: false },
  });
  assert.equal(call('c2') && 'approval' in call('c2')!, false, 'a call no one decided on carries none');
});

test('a decision marks the call it was made on, by id, tool and arguments: not another call of the same id', () => {
  const r = run('completed', 'two of one id', {
    decisions: JSON.stringify([
      {
        toolCallId: 'call_0',
        toolName: 'desk__refund',
        argsDigest: argsDigest({ amount: 20 }),
        approvalId: 'apr_9',
        outcome: 'denied',
      },
    ]),
  });
  const kept: ModelMessage[] = [
    { role: 'user', content: 'two of one id' },
    {
      role: 'assistant',
      content: [{ type: 'tool-call', toolCallId: 'call_0', toolName: 'crm__find', input: { q: 'B' } }],
    },
    result('call_0', { type: 'text', value: '{"order":"B"}' }),
    {
      role: 'assistant',
      content: [{ type: 'tool-call', toolCallId: 'call_0', toolName: 'desk__refund', input: { amount: 20 } }],
    },
    result('call_0', {
      type: 'error-text',
      value: 'approval_denied: A person denied this call: it did not run.',
    }),
  ];
  const tools = (conversationMessages(kept, [r])[1]?.parts ?? []).filter((p) => p.type === 'dynamic-tool');
  assert.deepEqual(
    tools.map((p) => [p.toolName, p.state, p.approval ?? null]),
    [
      ['crm__find', 'output-available', null],
      ['desk__refund', 'output-denied', { id: 'apr_9', approved: false }],
    ],
  );
});

test('a run that ended without completing keeps its own messages: from the message that began it, none without', () => {
  const r = run('stopped', 'refund A');
  const history = [
    ...first,
    said('refund A', r),
    calls('r1'),
    result('r1', { type: 'text', value: 'waits' }),
  ];
  const own = ownMessages(history, r.id);
  assert.deepEqual(JSON.parse(own ?? 'null'), history.slice(first.length));
  assert.equal(ownMessages(first, r.id), null, 'not tagged with it: nothing of another’s');
  assert.equal(ownMessages([said('refund A', r)], r.id), null, 'its message alone: nothing to show');
  assert.equal(ownMessages('junk', r.id), null);
});

test('a run that ended while calls waited for a person says they never ran (its own mark); a denied one reads denied; a run stopped after it resumed does not', () => {
  const waits = (r: RunTable) =>
    JSON.stringify([
      ...[said('refund B', r), calls('w1', 'w2')],
      result('w1', { type: 'text', value: '{"order":"B"}' }),
      result('w2', { type: 'text', value: "Waiting for a person's approval (request apr_1)." }),
    ]);
  const pending = JSON.stringify([{ toolCallId: 'w2', toolName: 'crm__find', approvalId: 'apr_1' }]);
  const stopped = run('stopped', 'refund B');
  const expired = run('failed', 'refund B', { error_code: 'approval_expired' });
  const resumed = run('stopped', 'refund B');
  const read = (r: RunTable, extra: Partial<RunTable>) =>
    (conversationMessages([], [{ ...r, state: waits(r), ...extra }])[1]?.parts ?? []).flatMap((p) =>
      p.type === 'dynamic-tool'
        ? [[p.toolCallId, p.state, p.errorText ?? null, p.toolMetadata?.paddock.notRun ?? false]]
        : [],
    );
  assert.deepEqual(read(stopped, { pending }), [
    ['w1', 'output-available', null, false],
    ['w2', 'output-error', 'The run was stopped before this call ran: it did not run.', true],
  ]);
  assert.deepEqual(read(expired, { pending }), [
    ['w1', 'output-available', null, false],
    ['w2', 'output-error', 'The run ended (approval_expired) before this call ran: it did not run.', true],
  ]);
  // Resumed (nothing waits any more), then stopped: its calls read as they went.
  assert.deepEqual(read(resumed, { pending: null }), [
    ['w1', 'output-available', null, false],
    ['w2', 'output-available', null, false],
  ]);
  // A person denied it before the run ended: it reads denied, as decided.
  const denied = JSON.stringify([
    { toolCallId: 'w2', toolName: 'crm__find', approvalId: 'apr_1', outcome: 'denied' },
  ]);
  assert.deepEqual(
    read(expired, { pending, decisions: denied }).map(([id, state]) => [id, state]),
    [
      ['w1', 'output-available'],
      ['w2', 'output-denied'],
    ],
  );
});
