/** A deep verify at its page boundaries (10,000 entries), and on untouched logs of 0 and 1 entries. */
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

test('deep verify of untouched logs across PAGE boundaries', async () => {
  t = await openTestStore('sqlite');
  const { org } = await initOrg(t.store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
  const trail = new AuditTrail({
    store: t.store,
    keys: vaultLogKeys(new Vault(localKeyring(t.home, {}))),
    originHost: 'paddock.test',
    log: silentLogger,
    checkpointIntervalMs: 3_600_000,
  });
  const size = async () => (await trail.checkpoint(org.id)).size;
  const growTo = async (n: number) => {
    const have = await size();
    const all: Promise<unknown>[] = [];
    for (let i = have; i < n; i++)
      all.push(
        trail.appendSoon({
          orgId: org.id,
          actor: { type: 'system', id: 't' },
          action: 'test.entry',
          details: { i },
        }),
      );
    await Promise.all(all);
    assert.equal(await size(), n);
  };
  for (const n of [9_999, 10_000, 10_001, 20_000]) {
    await growTo(n);
    const r = await verifyLog(t.store.db, org.id, { deep: true });
    assert.ok(r.ok, `${n}: ${r.problem?.message}`);
    assert.equal(r.entries, n);
  }
  // A node removed just past the page boundary, and one removed at the very end, are found.
  for (const [last, level] of [
    [10_001, 1],
    [19_999, 4],
    [15_999, 7],
  ] as const) {
    await t.store.db
      .transaction()
      .execute(async (trx) => {
        await trx
          .deleteFrom('audit_nodes')
          .where('log_id', '=', org.id)
          .where('last_idx', '=', last)
          .where('level', '=', level)
          .execute();
        const r = await verifyLog(trx, org.id, { deep: true });
        assert.equal(r.ok, false, `${last}/${level}`);
        assert.match(r.problem!.message, /is missing/);
        throw Object.assign(new Error('rollback'), { rollback: true });
      })
      .catch((e) => {
        if (!e.rollback) throw e;
      });
  }
  await trail.close();
});
