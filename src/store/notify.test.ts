/** Notifications sent in a transaction reach listeners only once it has committed, on both engines. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';
import { notify } from './index.ts';

for (const kind of STORE_KINDS) {
  describe(`notifications [${kind}]`, () => {
    let t: TestStore;
    let stop: () => Promise<void>;
    const got: Array<string | undefined> = [];

    before(async () => {
      t = await openTestStore(kind);
      stop = t.store.listen('paddock_test', (payload) => got.push(payload));
      // PostgreSQL says when its LISTEN is in place (a call with no payload); the embedded store listens at once.
      if (kind === 'postgres') await until(() => got.includes(undefined), { what: 'listening' });
    });
    after(async () => {
      await stop?.();
      await t?.cleanup();
    });

    test('a notification arrives once its transaction has committed, not before', async () => {
      got.length = 0;
      await t.store.db.transaction().execute(async (trx) => {
        await notify(trx, 'paddock_test', 'committed');
        await sql`select 1`.execute(trx);
        assert.deepEqual(got, [], 'nothing is delivered while the transaction is open');
      });
      await until(() => got.includes('committed'), { what: 'the committed notification' });
    });

    test('a rolled-back transaction sends nothing; a later commit still does', async () => {
      got.length = 0;
      await assert.rejects(
        t.store.db.transaction().execute(async (trx) => {
          await notify(trx, 'paddock_test', 'rolled-back');
          throw new Error('abort');
        }),
      );
      await notify(t.store.db, 'paddock_test', 'after');
      await until(() => got.includes('after'), { what: 'the notification sent after the rollback' });
      assert.ok(!got.includes('rolled-back'), 'the rolled-back one never arrives');
    });

    test('the same notification twice in one transaction arrives once; other channels are not heard', async () => {
      got.length = 0;
      await t.store.db.transaction().execute(async (trx) => {
        await notify(trx, 'paddock_other', 'elsewhere');
        await notify(trx, 'paddock_test', 'twice');
        await notify(trx, 'paddock_test', 'twice');
      });
      await notify(t.store.db, 'paddock_test', 'marker');
      await until(() => got.includes('marker'), { what: 'the marker' });
      assert.deepEqual(
        got.filter((p) => p !== undefined),
        ['twice', 'marker'],
      );
    });

    if (kind === 'postgres') {
      test('a lost listening connection comes back, says notifications may have been missed, and hears again', async () => {
        got.length = 0;
        const killed = await sql<{ ok: boolean }>`
          select pg_terminate_backend(pid) as ok from pg_stat_activity
          where application_name = 'paddock-listen-paddock_test' and datname = current_database()`.execute(
          t.store.db,
        );
        assert.equal(killed.rows.length, 1, 'one listening connection');
        await until(() => got.includes(undefined), { what: 'listening again' });
        await notify(t.store.db, 'paddock_test', 'back');
        await until(() => got.includes('back'), { what: 'a notification after the reconnection' });
      });
    }

    test('notify refuses a channel that is not a plain identifier', async () => {
      await assert.rejects(notify(t.store.db, 'x; drop table orgs', 'p'), /bad notification channel/);
    });
  });
}
