/** Comparing secrets a caller sends with the ones Paddock holds: equal or not, in constant time. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sameSecret } from './credentials.ts';

test('sameSecret: equal only when equal, whatever the lengths or characters', () => {
  assert.equal(sameSecret('abc123', 'abc123'), true);
  assert.equal(sameSecret('abc123', 'abc124'), false);
  assert.equal(sameSecret('abc123', 'abc1234'), false);
  assert.equal(sameSecret('', 'abc'), false);
  assert.equal(sameSecret('', ''), true);
  // Same length in UTF-16, not in bytes: still compared, not thrown on.
  assert.equal(sameSecret('é', 'ab'), false);
  assert.equal(sameSecret('é', 'é'), true);
});
