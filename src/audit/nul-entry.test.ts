/**
 * A header field holding NUL (a tool name a model made up, reaching the gate's refusal entry) is
 * hashed as its column stores it: the log verifies, on both engines, instead of reading as tampered.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { initOrg, operatorCaller } from '../identity/index.ts';
import { silentLogger } from '../log/index.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { localKeyring, Vault, vaultLogKeys } from '../vault/index.ts';
import { AuditTrail } from './trail.ts';
import { verifyLog } from './verify.ts';

for (const kind of STORE_KINDS) {
  describe(`an entry naming NUL [${kind}]`, () => {
    let t: TestStore | undefined;
    after(() => t?.cleanup());

    test('is stored and hashed with U+FFFD in its place, and the log verifies', async () => {
      t = await openTestStore(kind);
      const { org } = await initOrg(t.store.db, operatorCaller(), {
        slug: 'acme',
        ownerEmail: 'o@acme.test',
      });
      const trail = new AuditTrail({
        store: t.store,
        keys: vaultLogKeys(new Vault(localKeyring(t.home, {}))),
        originHost: 'paddock.test',
        log: silentLogger,
        checkpointIntervalMs: 0,
        publishers: [],
      });
      await trail.append({
        orgId: org.id,
        actor: { type: 'agent', id: 'agt_x' },
        action: 'tool.call.denied',
        target: { type: 'tool', id: 'con_1/evil\u0000tool' },
        requestId: 'req\u0000x',
        details: { tool: 'evil\u0000tool' },
      });
      await trail.flush();
      await trail.checkpoint(org.id);
      await trail.close();
      const row = await t.store.db
        .selectFrom('audit_entries')
        .select(['target_id', 'leaf'])
        .where('log_id', '=', org.id)
        .where('action', '=', 'tool.call.denied')
        .executeTakeFirstOrThrow();
      assert.equal(row.target_id, 'con_1/evil\ufffdtool');
      assert.match(row.leaf ?? '', /con_1\/evil\ufffdtool/);
      const report = await verifyLog(t.store.db, org.id);
      assert.equal(report.ok, true, JSON.stringify(report).slice(0, 400));
    });
  });
}
