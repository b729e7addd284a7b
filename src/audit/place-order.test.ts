/** The order of a batch in its log: outbox entries and queued ones merged by time, each keeping its own order. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prepareEntry } from './entry.ts';
import { placeOrder } from './place-order.ts';

const at = (iso: string, n: number) => ({
  queued: prepareEntry(
    { orgId: 'org_o', actor: { type: 'agent', id: 'agt_o' }, action: 'tool.call.denied', details: { n } },
    new Date(iso),
  ),
  i: n,
});
const row = (iso: string, seq: number) => ({ time: new Date(iso).toISOString(), seq });

test('merged by time; at the same millisecond the queued entry first; each side keeps its own order, even with a clock step', () => {
  const queued = [
    at('2026-12-05T10:00:00.001Z', 0),
    at('2026-12-05T10:00:00.005Z', 1),
    at('2026-12-05T10:00:00.004Z', 2),
  ];
  const waiting = [row('2026-12-05T10:00:00.002Z', 10), row('2026-12-05T10:00:00.005Z', 11)];
  const order = placeOrder(waiting, queued).map((x) => ('queued' in x ? `q${x.i}` : `w${x.seq}`));
  assert.deepEqual(order, ['q0', 'w10', 'q1', 'q2', 'w11']);
  assert.deepEqual(
    placeOrder([], queued).map((x) => x.i),
    [0, 1, 2],
  );
  assert.deepEqual(placeOrder(waiting, []), waiting);
});
