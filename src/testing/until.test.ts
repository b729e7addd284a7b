/** The polling helper tests wait with. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { until } from './until.ts';

test('until returns the first value that is not undefined, null or false, retrying checks that throw', async () => {
  let n = 0;
  const got = await until(() => {
    n += 1;
    if (n === 1) throw new Error('not yet');
    return n < 4 ? (n === 2 ? null : false) : `after ${n} checks`;
  });
  assert.equal(got, 'after 4 checks');
  assert.equal(await until(() => 0), 0, 'zero is a value');
});

test('until fails past its deadline, saying what it waited for and the last error', async () => {
  await assert.rejects(
    until(
      () => {
        throw new Error('still 3 pending');
      },
      { timeoutMs: 50, what: 'the queue to drain' },
    ),
    /waited 50 ms for the queue to drain: still 3 pending/,
  );
  await assert.rejects(
    until(() => undefined, { timeoutMs: 30 }),
    /waited 30 ms for a condition$/,
  );
});
