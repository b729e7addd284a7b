/** A precompiled query answers as the query builder does, with each run's own values, on both engines. */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { type Db, precompiled } from './index.ts';

const bySlug = precompiled((db: Db, slug: string, name: string) =>
  db
    .selectFrom('orgs')
    .select(['id', 'name'])
    .where('slug', '=', slug)
    .where('name', '!=', name)
    .where('settings', '=', '{}'),
);

/** Rows as plain objects (node:sqlite gives them no prototype). */
const orgBySlug = async (db: Db, slug: string, name: string) =>
  (await bySlug(db, slug, name)).map((r) => ({ ...r }));

for (const kind of STORE_KINDS) {
  describe(`precompiled queries [${kind}]`, () => {
    let t: TestStore | undefined;
    after(() => t?.cleanup());

    test('each run binds its own values; constants stay; a value left unused is refused', async () => {
      t = await openTestStore(kind);
      const { db } = t.store;
      const now = new Date().toISOString();
      for (const id of ['org_a', 'org_b'])
        await db
          .insertInto('orgs')
          .values({
            id,
            slug: id.slice(4),
            name: id,
            settings: '{}',
            created_at: now,
            agents_stopped_at: null,
            agents_stopped_by: null,
          })
          .execute();
      assert.deepEqual(await orgBySlug(db, 'a', 'x'), [{ id: 'org_a', name: 'org_a' }]);
      assert.deepEqual(await orgBySlug(db, 'b', 'x'), [{ id: 'org_b', name: 'org_b' }]);
      assert.deepEqual(await orgBySlug(db, 'b', 'org_b'), [], 'the second value bound too');
      assert.deepEqual(await orgBySlug(db, "a' or '1'='1", 'x'), [], 'a value is a value, never SQL');
      // Inside a transaction, the same.
      await db.transaction().execute(async (trx) => {
        assert.deepEqual(await orgBySlug(trx, 'a', 'x'), [{ id: 'org_a', name: 'org_a' }]);
      });
      const unused = precompiled((db: Db, _slug: string) => db.selectFrom('orgs').select('id'));
      await assert.rejects(unused(db, 'a'), /must use each of its values/);
    });

    test('a read on the store’s own handle while a transaction is open on its connection waits for it: it never sees what is not committed', async () => {
      const { db } = t!.store;
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      let inserted!: () => void;
      const wrote = new Promise<void>((r) => {
        inserted = r;
      });
      const open = db.transaction().execute(async (trx) => {
        await trx.updateTable('orgs').set({ name: 'renamed' }).where('id', '=', 'org_a').execute();
        inserted();
        await held;
      });
      await wrote;
      const read = orgBySlug(db, 'a', 'x');
      const seen = await Promise.race([read, new Promise((r) => setTimeout(() => r('waiting'), 50))]);
      if (kind === 'sqlite') assert.equal(seen, 'waiting', 'it waits for the transaction');
      else assert.deepEqual(seen, [{ id: 'org_a', name: 'org_a' }], 'it sees the committed row');
      release();
      await open;
      assert.deepEqual(await read, [{ id: 'org_a', name: kind === 'sqlite' ? 'renamed' : 'org_a' }]);
      assert.deepEqual(await orgBySlug(db, 'a', 'x'), [{ id: 'org_a', name: 'renamed' }]);
    });

    if (kind === 'sqlite')
      test('embedded store: a read with no transaction open runs at once on the connection, not through the query builder’s turn-taking', async () => {
        const { db } = t!.store;
        const executeQuery = db.executeQuery.bind(db);
        let through = 0;
        db.executeQuery = ((q: Parameters<typeof executeQuery>[0]) => {
          through += 1;
          return executeQuery(q);
        }) as typeof db.executeQuery;
        try {
          assert.deepEqual(await orgBySlug(db, 'b', 'x'), [{ id: 'org_b', name: 'org_b' }]);
          assert.equal(through, 0);
        } finally {
          db.executeQuery = executeQuery;
        }
      });
  });
}
