import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from './index.ts';

test('ids carry their prefix and 16 URL-safe characters, and do not repeat', () => {
  const ids = Array.from({ length: 10_000 }, () => newId('org'));
  for (const id of ids) assert.match(id, /^org_[0-9a-z]{16}$/);
  assert.equal(new Set(ids).size, ids.length);
});
