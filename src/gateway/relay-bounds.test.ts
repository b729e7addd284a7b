/** The bounds on what a server pushes unasked: levels held to, data and messages cut, floods dropped. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  atLeast,
  boundedData,
  boundedMessage,
  MAX_LOG_CHARS,
  MAX_PER_SECOND,
  MAX_PROGRESS_CHARS,
  RateBound,
} from './relay-bounds.ts';

test('a log line passes only at or above the level the client chose (everything when it chose none)', () => {
  assert.equal(atLeast('debug', undefined), true);
  assert.equal(atLeast('warning', 'error'), false);
  assert.equal(atLeast('error', 'error'), true);
  assert.equal(atLeast('emergency', 'notice'), true);
});

test('data and progress messages are cut to size, saying how much was cut; small ones pass untouched', () => {
  const small = { a: 1 };
  assert.deepEqual(boundedData(small), { data: small, cutChars: 0 });
  const big = boundedData({ dump: 'x'.repeat(100_000) });
  assert.ok(big.cutChars > 90_000);
  assert.ok(String(big.data).length < MAX_LOG_CHARS + 100);
  assert.match(String(big.data), new RegExp(`… \\[${big.cutChars} characters cut by Paddock\\]$`));
  assert.equal(boundedMessage('ok'), 'ok');
  assert.equal(boundedMessage(undefined), undefined);
  assert.equal(boundedMessage('y'.repeat(10_000))!.length, MAX_PROGRESS_CHARS + 1);
});

test('past the limit in a second, the rest of that second is dropped and counted; the next second passes', () => {
  const rate = new RateBound();
  const t0 = 1_700_000_000_000;
  let passed = 0;
  for (let i = 0; i < MAX_PER_SECOND + 30; i++) if (rate.allow(t0 + 10)) passed++;
  assert.equal(passed, MAX_PER_SECOND);
  assert.equal(rate.dropped, 30);
  assert.equal(rate.droppedThisSecond, 30);
  assert.equal(rate.allow(t0 + 1000), true);
  assert.equal(rate.droppedThisSecond, 0, 'a new burst is counted anew');
  for (let i = 1; i < MAX_PER_SECOND; i++) rate.allow(t0 + 1000);
  assert.equal(rate.allow(t0 + 1000), false);
  assert.equal(rate.droppedThisSecond, 1);
});
