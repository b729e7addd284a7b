/** A session's kept events: bounded, replayed per stream after a client's last id, ids checked. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { KEEP, SessionEvents } from './events.ts';

const note = (n: number): JSONRPCMessage => ({
  jsonrpc: '2.0',
  method: 'notifications/message',
  params: { n },
});

async function replay(events: SessionEvents, after: string) {
  const sent: Array<[string, JSONRPCMessage]> = [];
  const stream = await events.replayEventsAfter(after, { send: async (id, m) => void sent.push([id, m]) });
  return { stream, sent };
}

test('replays the events of the same stream after the last id, priming events skipped', async () => {
  const events = new SessionEvents();
  const prime = await events.storeEvent('get', {} as JSONRPCMessage);
  const a = await events.storeEvent('get', note(1));
  await events.storeEvent('post-1', note(99));
  const b = await events.storeEvent('get', note(2));
  assert.equal(await events.getStreamIdForEventId(a), 'get');
  const fromPrime = await replay(events, prime);
  assert.deepEqual(
    fromPrime.sent.map(([id]) => id),
    [a, b],
  );
  const fromA = await replay(events, a);
  assert.equal(fromA.stream, 'get');
  assert.deepEqual(fromA.sent, [[b, note(2)]]);
});

test(`keeps at most ${KEEP} events; ids it never gave, or no longer has, are unknown`, async () => {
  const events = new SessionEvents();
  const first = await events.storeEvent('get', note(0));
  for (let i = 1; i <= KEEP; i++) await events.storeEvent('get', note(i));
  assert.equal(events.knows(first), false, 'the oldest went');
  assert.equal(events.knows(String(KEEP + 1)), true);
  for (const bad of ['', 'x', '-1', '1.5', '9'.repeat(16), String(KEEP + 2), '0'])
    assert.equal(events.knows(bad), false, bad);
  assert.deepEqual((await replay(events, 'garbage')).sent, []);
});
