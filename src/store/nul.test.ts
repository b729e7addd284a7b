/** Text holding NUL (a hostile tool's result, a model's answer) is stored with U+FFFD in its place, on both engines. */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';

for (const kind of STORE_KINDS) {
  describe(`NUL in stored text [${kind}]`, () => {
    let t: TestStore | undefined;
    after(() => t?.cleanup());

    test('a write holding NUL succeeds, through the query builder and raw SQL alike, and reads back the same on either engine', async () => {
      t = await openTestStore(kind);
      const { db } = t.store;
      await db.insertInto('platform_settings').values({ key: 'built', value: 'before\u0000after' }).execute();
      await sql`insert into platform_settings (key, value) values (${'raw'}, ${'a\u0000b\u0000c'})`.execute(
        db,
      );
      const rows = await db
        .selectFrom('platform_settings')
        .select(['key', 'value'])
        .where('key', 'in', ['built', 'raw'])
        .orderBy('key')
        .execute();
      assert.deepEqual(
        rows.map((r) => [r.key, r.value]),
        [
          ['built', 'before\ufffdafter'],
          ['raw', 'a\ufffdb\ufffdc'],
        ],
      );
    });
  });
}
