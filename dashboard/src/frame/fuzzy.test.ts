import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzzyFilter, fuzzyScore } from './fuzzy.ts';

test('a query matches when its letters appear in order, whatever the case or accents', () => {
  assert.notEqual(fuzzyScore('apv', 'Approvals'), null);
  assert.notEqual(fuzzyScore('CAFE', 'café bot'), null);
  assert.equal(fuzzyScore('vpa', 'Approvals'), null, 'out of order');
  assert.equal(fuzzyScore('approvalsx', 'Approvals'), null, 'a letter it lacks');
});

test('an empty query keeps every item in its order', () => {
  assert.deepEqual(
    fuzzyFilter('  ', ['b', 'a', 'c'], (s) => s),
    ['b', 'a', 'c'],
  );
});

test('letters that run together and start words rank first', () => {
  const items = ['Agent prices report', 'Approvals', 'Audit'];
  assert.deepEqual(
    fuzzyFilter('app', items, (s) => s),
    ['Approvals', 'Agent prices report'],
  );
  assert.deepEqual(
    fuzzyFilter('sup', ['refund support', 'support'], (s) => s),
    ['support', 'refund support'],
  );
  assert.deepEqual(fuzzyFilter('gs', ['agents', 'Getting started'], (s) => s)[0], 'Getting started');
});
