import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId, newTimeOrderedId } from './index.ts';

test('ids carry their prefix and 16 URL-safe characters, and do not repeat', () => {
  const ids = Array.from({ length: 10_000 }, () => newId('org'));
  for (const id of ids) assert.match(id, /^org_[0-9a-z]{16}$/);
  assert.equal(new Set(ids).size, ids.length);
});

test('time-ordered ids sort by the millisecond they were made, keep 80 random bits, and do not repeat', () => {
  const at = Date.UTC(2026, 11, 5, 12, 0, 0, 7);
  const ids = Array.from({ length: 10_000 }, (_, i) => newTimeOrderedId('evt', at + (i >> 4)));
  for (const id of ids) assert.match(id, /^evt_[0-9a-z]{26}$/);
  assert.equal(new Set(ids).size, ids.length);
  // Sorted as text, they come in the order of their times (ties in any order).
  const made = new Map(ids.map((id, i) => [id, i >> 4]));
  const times = [...ids].sort().map((id) => made.get(id)!);
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
  );
  // The time part reads back as the time.
  const time = [...ids[0]!.slice(4, 14)].reduce(
    (t, c) => t * 32 + '0123456789abcdefghjkmnpqrstvwxyz'.indexOf(c),
    0,
  );
  assert.equal(time, at);
  // Until the year 10889 (2^50 ms) the time part keeps its 10 characters.
  assert.equal(newTimeOrderedId('evt', 2 ** 50 - 1).slice(4, 14), 'zzzzzzzzzz');
});
