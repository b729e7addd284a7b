/** Bus content sealed per org and route: opened only where it was sealed for, by a replica holding the org's data key. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { BusSeal } from './bus-seal.ts';

test('sealed content opens only for its org and route, untampered; a failed key lookup is asked again', async () => {
  const keys = new Map([
    ['org_a', randomBytes(32)],
    ['org_b', randomBytes(32)],
  ]);
  let failNext = false;
  const seal = new BusSeal(async (orgId) => {
    if (failNext) {
      failNext = false;
      throw new Error('database away');
    }
    return keys.get(orgId)!;
  });
  const message = { jsonrpc: '2.0', id: 7, result: { content: { type: 'text', text: 'a person’s answer' } } };
  const sealed = await seal.seal('org_a', 'answer|abc', message);
  assert.doesNotMatch(sealed, /person/);
  assert.deepEqual(await seal.open('org_a', 'answer|abc', sealed), message);
  assert.equal(await seal.open('org_a', 'answer|other', sealed), undefined, 'another route');
  assert.equal(await seal.open('org_b', 'answer|abc', sealed), undefined, 'another org');
  const [v, iv, ct, tag] = sealed.split('.');
  const flipped = `${v}.${iv}.${ct!.slice(0, -2)}${ct!.slice(-2) === 'AA' ? 'AB' : 'AA'}.${tag}`;
  assert.equal(await seal.open('org_a', 'answer|abc', flipped), undefined, 'tampered');
  assert.equal(await seal.open('org_a', 'answer|abc', { not: 'a string' }), undefined);
  // Another replica with the same data keys (derived alike) opens it.
  assert.deepEqual(await new BusSeal(async (o) => keys.get(o)!).open('org_a', 'answer|abc', sealed), message);
  // A key lookup that failed is not remembered.
  const fresh = new BusSeal(async (orgId) => {
    if (failNext) {
      failNext = false;
      throw new Error('database away');
    }
    return keys.get(orgId)!;
  });
  failNext = true;
  await assert.rejects(fresh.seal('org_b', 'x', 1), /database away/);
  assert.equal(await fresh.open('org_b', 'x', await fresh.seal('org_b', 'x', 1)), 1);
});
