/** Key custody: keys are kept by whoever fulfils LogKeys, and a key that does not match is never used. */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, verify } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../log/index.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { localKeyring, Vault, vaultLogKeys } from '../vault/index.ts';
import type { LogKeys } from './keys.ts';
import { parseVerifierKey } from './note.ts';
import { AuditTrail } from './trail.ts';

const actor = { type: 'system' as const, id: 'test' };

/** A second custody (keys held in memory): the trail needs nothing but the interface. */
function memoryKeys(): LogKeys & { held: Map<string, KeyObject> } {
  const held = new Map<string, KeyObject>();
  return {
    held,
    async create(_trx, logId) {
      const { privateKey } = generateKeyPairSync('ed25519');
      held.set(logId, privateKey);
      return { privateKey, sealed: `memory:${logId}` };
    },
    async open(_db, logId, sealed) {
      assert.equal(sealed, `memory:${logId}`);
      return held.get(logId)!;
    },
  };
}

for (const kind of STORE_KINDS) {
  describe(`log keys [${kind}]`, () => {
    let t: TestStore;
    before(async () => {
      t = await openTestStore(kind);
    });
    after(async () => {
      await t?.cleanup();
    });

    test('the vault seals a new log’s key; checkpoints verify with the published key', async () => {
      const trail = new AuditTrail({
        store: t.store,
        keys: vaultLogKeys(new Vault(localKeyring(t.home, {}))),
        originHost: 'keys.test',
        log: silentLogger,
      });
      try {
        await trail.append({ orgId: 'org_keys1', actor, action: 'test.keyed' });
        const cp = await trail.checkpoint('org_keys1');
        const row = await t.store.db
          .selectFrom('audit_logs')
          .selectAll()
          .where('id', '=', 'org_keys1')
          .executeTakeFirstOrThrow();
        // An Ed25519 PKCS#8 key in base64 starts so; sealed, it must not.
        assert.ok(!row.private_key.startsWith('MC4CAQAwBQYDK2Vw'), 'the private key is stored sealed');
        const v = parseVerifierKey((await trail.verifierKey('org_keys1')).verifierKey);
        const [text, sigLine] = cp.note.split('\n\n');
        const sig = Buffer.from(sigLine!.trim().split(' ').pop()!, 'base64').subarray(4);
        assert.ok(verify(null, Buffer.from(`${text}\n`), v.publicKey, sig));
      } finally {
        await trail.close();
      }
    });

    test('another custody slots in; a key that does not match the published public key is refused', async () => {
      const keys = memoryKeys();
      const trail = new AuditTrail({ store: t.store, keys, originHost: 'keys.test', log: silentLogger });
      await trail.append({ orgId: 'org_keys2', actor, action: 'test.keyed' });
      assert.ok((await trail.checkpoint('org_keys2')).size === 1);
      await trail.close();
      // Someone swaps the key the custody holds: a fresh trail must not sign with it.
      keys.held.set('org_keys2', generateKeyPairSync('ed25519').privateKey);
      const fresh = new AuditTrail({ store: t.store, keys, originHost: 'keys.test', log: silentLogger });
      try {
        await fresh.append({ orgId: 'org_keys2', actor, action: 'test.keyed' });
        await assert.rejects(fresh.checkpoint('org_keys2'), /does not match its published public key/);
      } finally {
        keys.held.clear();
        await fresh.close().catch(() => undefined);
      }
    });
  });
}
