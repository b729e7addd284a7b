/** A session's kept events: bounded, replayed per stream after a client's last id, ids checked. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { KEEP, KEEP_BYTES, SessionEvents } from './events.ts';

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

test('keeps at most KEEP_BYTES of events: large results push out the oldest, one larger than all of it is not kept', async () => {
  const events = new SessionEvents();
  const big = (n: number): JSONRPCMessage => ({
    jsonrpc: '2.0',
    id: n,
    result: { content: [{ type: 'text', text: 'x'.repeat(300 * 1024) }] },
  });
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) ids.push(await events.storeEvent('post-1', big(i)));
  assert.ok(events.bytes <= KEEP_BYTES, `${events.bytes} bytes kept`);
  assert.equal(events.knows(ids[0]!), false, 'the oldest went');
  assert.equal(events.knows(ids.at(-1)!), true, 'the newest is kept');
  // A message past the whole budget (a tool's 5 MB result): not kept, and the ids after it still resume.
  const huge = await events.storeEvent('post-2', {
    jsonrpc: '2.0',
    id: 99,
    result: { content: [{ type: 'text', text: 'y'.repeat(5 * 1024 * 1024) }] },
  });
  assert.equal(events.knows(huge), false);
  assert.equal(events.bytes, 0);
  const after = await events.storeEvent('get', note(1));
  const next = await events.storeEvent('get', note(2));
  assert.deepEqual((await replay(events, after)).sent, [[next, note(2)]]);
});
