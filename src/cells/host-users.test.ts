/**
 * Host users per org: one id each from Paddock's range, stored, stable, distinct even when
 * allocated at once, and a range that holds an id already in use on the host is refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PaddockError } from '../errors/index.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { orgHostUser, uidRange, uidRangeProblem } from './host-users.ts';

for (const kind of STORE_KINDS) {
  describe(`host users per org [${kind}]`, () => {
    let t: TestStore;
    before(async () => {
      t = await openTestStore(kind);
    });
    after(async () => t?.cleanup());

    test('each org gets its own id from the range, stored, and the same one every time', async () => {
      const range = uidRange();
      const a = await orgHostUser(t.store.db, 'org_a');
      const b = await orgHostUser(t.store.db, 'org_b');
      assert.notEqual(a.uid, b.uid);
      for (const u of [a, b]) {
        assert.equal(u.gid, u.uid, 'a group of its own, of the same number');
        assert.ok(u.uid >= range.base && u.uid < range.base + range.count, `${u.uid} in the range`);
      }
      assert.deepEqual(await orgHostUser(t.store.db, 'org_a'), a);
      const stored = await t.store.db.selectFrom('cell_host_ids').selectAll().orderBy('uid').execute();
      assert.deepEqual(
        stored.map((r) => [r.org_id, Number(r.uid)]),
        [
          ['org_a', a.uid],
          ['org_b', b.uid],
        ],
      );
    });

    test('orgs allocated at the same time still get distinct ids', async () => {
      const orgs = Array.from({ length: 8 }, (_, i) => `org_burst_${i}`);
      const users = await Promise.all(orgs.map((o) => orgHostUser(t.store.db, o)));
      assert.equal(new Set(users.map((u) => u.uid)).size, orgs.length);
    });

    test('a full range is refused with what to do, not wrapped around into another org’s id', async () => {
      // Above every id the other tests took: this range starts empty.
      const range = { base: 2_100_000_000, count: 2 };
      const first = await orgHostUser(t.store.db, 'org_full_1', range);
      const second = await orgHostUser(t.store.db, 'org_full_2', range);
      assert.deepEqual([first.uid, second.uid], [range.base, range.base + 1]);
      await assert.rejects(
        orgHostUser(t.store.db, 'org_full_3', range),
        (e) =>
          PaddockError.isInstance(e) &&
          e.code === 'cell_ids_exhausted' &&
          /PADDOCK_CELL_UID_COUNT/.test(e.message),
      );
    });
  });
}

test('the default range is free on this host; one holding root, a system account or an overflow is refused', () => {
  assert.equal(uidRangeProblem(), null);
  assert.match(uidRangeProblem({ base: 0, count: 10 }) ?? '', /≥ 1000/);
  // `nobody` (65534) is in every Debian /etc/passwd.
  assert.match(uidRangeProblem({ base: 60_000, count: 10_000 }) ?? '', /\/etc\/passwd \(nobody\)/);
  assert.match(uidRangeProblem({ base: 2_147_000_000, count: 1_000_000 }) ?? '', /ends past/);
});
