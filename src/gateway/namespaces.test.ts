/** Namespaces kept in memory (both engines): read once, read again for one not known, forgotten on a change. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { Namespaces } from './namespaces.ts';

for (const kind of STORE_KINDS) {
  describe(`connection namespaces [${kind}]`, () => {
    let t: TestStore;
    let acme: SeededOrg;
    let app: ReturnType<typeof createApp>;
    const connect = async (name: string) =>
      (
        await call(app, 'post', '/api/v1/orgs/acme/connections', {
          token: acme.people.admin.token,
          body: { name, transport: 'stdio', command: 'node', args: [] },
        })
      ).body.id as string;

    before(async () => {
      t = await openTestStore(kind);
      app = createApp(testDeps(t.store, t.home));
      acme = await seedOrg(t.store, 'acme');
    });
    after(async () => t?.cleanup());

    test('a namespace is read once; one added later is found; a deleted one goes once forgotten', async () => {
      const names = new Namespaces(t.store.db);
      const files = await connect('Files');
      assert.equal(await names.connectionOf(acme.id, 'files'), files);
      assert.equal(await names.connectionOf(acme.id, 'nothing'), undefined);
      const mail = await connect('mail');
      assert.equal(await names.connectionOf(acme.id, 'mail'), mail, 'one not known is read afresh');
      await t.store.db.deleteFrom('connections').where('id', '=', files).execute();
      assert.equal(await names.connectionOf(acme.id, 'files'), files, 'kept until told');
      names.forget(acme.id);
      assert.equal(await names.connectionOf(acme.id, 'files'), undefined);
      assert.equal(await names.connectionOf('org_other', 'mail'), undefined, 'another org sees none of them');
    });
  });
}
