import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { initOrg, operatorCaller } from '../identity/index.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { localKek, Vault } from './index.ts';

for (const kind of STORE_KINDS) {
  describe(`vault [${kind}]`, () => {
    let t: TestStore;
    let orgA: string;
    let orgB: string;
    before(async () => {
      t = await openTestStore(kind);
      orgA = (await initOrg(t.store.db, operatorCaller(), { slug: 'a', ownerEmail: 'o@a.test' })).org.id;
      orgB = (await initOrg(t.store.db, operatorCaller(), { slug: 'b', ownerEmail: 'o@b.test' })).org.id;
    });
    after(async () => t?.cleanup());

    test('the key file is created once, readable by its owner only', () => {
      localKek(t.home, {});
      assert.equal(statSync(join(t.home, 'master.key')).mode & 0o777, 0o600);
      assert.equal(localKek(t.home, {}).id, localKek(t.home, {}).id);
    });

    test('a sealed secret opens only for its own org, secret id and version', async () => {
      const vault = new Vault(localKek(t.home, {}));
      const ref = { orgId: orgA, secretId: 'sec_1', version: 1 };
      const sealed = await vault.seal(t.store.db, ref, 'canary-model-key-77');
      assert.ok(!sealed.includes('canary'));
      assert.equal(await vault.open(t.store.db, ref, sealed), 'canary-model-key-77');
      // A fresh vault (new process) reads the wrapped data key back from the store.
      assert.equal(
        await new Vault(localKek(t.home, {})).open(t.store.db, ref, sealed),
        'canary-model-key-77',
      );
      await assert.rejects(vault.open(t.store.db, { ...ref, orgId: orgB }, sealed));
      await assert.rejects(vault.open(t.store.db, { ...ref, secretId: 'sec_2' }, sealed));
      await assert.rejects(vault.open(t.store.db, { ...ref, version: 2 }, sealed));
      const keys = await t.store.db.selectFrom('vault_keys').selectAll().execute();
      assert.equal(new Set(keys.map((k) => k.org_id)).size, keys.length, 'one data key per org');
    });

    test('a wrong master key cannot open anything', async () => {
      const ref = { orgId: orgA, secretId: 'sec_1', version: 1 };
      const sealed = await new Vault(localKek(t.home, {})).seal(t.store.db, ref, 'x');
      const other = new Vault(
        localKek(t.home, { PADDOCK_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') }),
      );
      await assert.rejects(other.open(t.store.db, ref, sealed));
      assert.throws(() => localKek(t.home, { PADDOCK_MASTER_KEY: 'short' }), /32 bytes/);
    });
  });
}
