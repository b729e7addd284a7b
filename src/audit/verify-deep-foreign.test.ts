/**
 * A deep verify reads every stored row of the log's tree, whatever its key: a row keyed below 0
 * (read by no proof) is still reported as no node of the tree.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { initOrg, operatorCaller } from '../identity/index.ts';
import { silentLogger } from '../log/index.ts';
import { openTestStore, type TestStore } from '../testing/stores.ts';
import { localKeyring, Vault, vaultLogKeys } from '../vault/index.ts';
import { AuditTrail } from './trail.ts';
import { verifyLog } from './verify.ts';

let t: TestStore | undefined;
after(() => t?.cleanup());

test('deep verify finds a stored row that is no node of the tree, whatever its last_idx', async () => {
  t = await openTestStore('sqlite');
  const { org } = await initOrg(t.store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
  const trail = new AuditTrail({
    store: t.store,
    keys: vaultLogKeys(new Vault(localKeyring(t.home, {}))),
    originHost: 'paddock.test',
    log: silentLogger,
  });
  for (let i = 0; i < 8; i++)
    await trail.append({
      orgId: org.id,
      actor: { type: 'system', id: 't' },
      action: 'test.entry',
      details: { i },
    });
  await trail.close();
  assert.ok((await verifyLog(t.store.db, org.id, { deep: true })).ok);
  await t.store.db
    .insertInto('audit_nodes')
    .values({ log_id: org.id, last_idx: -1, level: 3, idx: 0, hash: Buffer.alloc(32, 7).toString('base64') })
    .execute();
  const r = await verifyLog(t.store.db, org.id, { deep: true });
  assert.equal(r.ok, false, 'a foreign row in the log’s nodes went unnoticed');
});
