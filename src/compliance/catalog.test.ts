/** Our catalog holds exactly the reference's 61 criterion ids, in its order, with our own titles. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CRITERIA, GROUPS } from './catalog.ts';

const REFERENCE = fileURLToPath(new URL('../../../shared/reference/soc2-tsc.json', import.meta.url));

test('the 61 criteria of the reference, in order, grouped; titles our own', () => {
  assert.ok(
    existsSync(REFERENCE),
    `the reference data is missing: ${REFERENCE} (../shared beside the checkout)`,
  );
  const ref = JSON.parse(readFileSync(REFERENCE, 'utf8')) as {
    criteria: Array<[string, string]>;
    groups: Record<string, string>;
  };
  assert.equal(CRITERIA.length, 61);
  assert.deepEqual(
    CRITERIA.map((c) => c.id),
    ref.criteria.map(([id]) => id),
  );
  assert.deepEqual(Object.keys(GROUPS).sort(), Object.keys(ref.groups).sort());
  for (const c of CRITERIA) {
    assert.ok(c.id.startsWith(c.group === 'P' ? 'P' : `${c.group}.`), `${c.id} in ${c.group}`);
    assert.notEqual(c.title, ref.criteria.find(([id]) => id === c.id)![1], `${c.id}: a title of our own`);
  }
});
