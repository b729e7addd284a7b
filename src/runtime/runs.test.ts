/**
 * `saidOnly`, what another person writing in a Slack thread is handed of its conversation: what
 * the thread showed — each person's words and each run's answer (its last step's text) — and
 * nothing a run read through its tools, including the words a step wrote beside its tool calls,
 * which the thread never showed. The thread flow end to end is in src/slack/slack.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelMessage } from 'ai';
import { saidOnly } from './runs.ts';

const turn: ModelMessage[] = [
  { role: 'user', content: 'what is on my calendar?' },
  {
    role: 'assistant',
    content: [
      { type: 'text', text: 'Your calendar shows PRIVATE-HR-MEETING-31; checking the room.' },
      { type: 'tool-call', toolCallId: 'c2', toolName: 'rooms__find', input: { q: 'x' } },
    ],
  },
  {
    role: 'tool',
    content: [
      {
        type: 'tool-result',
        toolCallId: 'c2',
        toolName: 'rooms__find',
        output: { type: 'text', value: 'ROOM-RESULT-88' },
      },
    ],
  },
  { role: 'assistant', content: [{ type: 'text', text: 'You have one meeting at 10.' }] },
];

test('a step’s words beside its tool calls stay out; the question and the answer stay in', () => {
  const said = saidOnly(turn);
  assert.deepEqual(said, [
    { role: 'user', content: 'what is on my calendar?' },
    { role: 'assistant', content: 'You have one meeting at 10.' },
  ]);
  assert.ok(!JSON.stringify(said).includes('PRIVATE-HR-MEETING-31'), 'an intermediate step’s words');
  assert.ok(!JSON.stringify(said).includes('ROOM-RESULT-88'), 'a tool result');
});

test('a step that called tools stays out even when no result follows it', () => {
  const waiting: ModelMessage[] = [
    { role: 'user', content: 'send it' },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Sending SECRET-DRAFT-5 now.' },
        { type: 'tool-call', toolCallId: 'c1', toolName: 'mail__send', input: {} },
      ],
    },
  ];
  assert.deepEqual(saidOnly(waiting), [{ role: 'user', content: 'send it' }]);
});

test('plain answers, as strings or parts, are kept in order', () => {
  assert.deepEqual(
    saidOnly([
      { role: 'system', content: 'not said' },
      { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      { role: 'assistant', content: 'hello' },
      { role: 'user', content: 'again' },
      {
        role: 'assistant',
        content: [
          { type: 'reasoning', text: 'thinking' },
          { type: 'text', text: 'yes' },
        ],
      },
    ]),
    [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
      { role: 'user', content: 'again' },
      { role: 'assistant', content: 'yes' },
    ],
  );
});
