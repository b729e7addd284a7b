/**
 * Erasing details on record: retention runs and deletion requests erase payloads while headers
 * and proofs stay; verify accepts exactly the erasures a record covers. A log that began in
 * format v1 keeps verifying after the upgrade, its already-erased v1 entries reported as such.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import canonicalize from 'canonicalize';
import type { Kysely } from 'kysely';
import { initOrg, operatorCaller } from '../identity/index.ts';
import { silentLogger } from '../log/index.ts';
import type { Database } from '../store/index.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { localKeyring, Vault, vaultLogKeys } from '../vault/index.ts';
import { applyRetention, eraseEntries, recordFormatUpgrade } from './erasure.ts';
import { hashLeaf } from './merkle.ts';
import { getAuditEvent } from './query.ts';
import { AuditTrail } from './trail.ts';
import { type VerifyReport, verifyLog } from './verify.ts';

class Rollback extends Error {}

const HOUR = 3_600_000;
const OLD = 6;

/** A format v1 entry as Paddock wrote them before v2: the details inside the hashed leaf. */
function v1Row(log: string, i: number, time: string) {
  const body = {
    v: 1,
    id: `evt_v1_${i}`,
    time,
    log,
    org: log,
    actor: { type: 'system', id: 'old' },
    action: 'test.old',
    target: null,
    outcome: 'success',
    requestId: null,
    details: { i },
  };
  const leaf = canonicalize(body)!;
  return {
    log_id: log,
    format: 1,
    id: body.id,
    time,
    actor_type: 'system',
    actor_id: 'old',
    action: 'test.old',
    target_type: null,
    target_id: null,
    outcome: 'success',
    request_id: null,
    run_id: null,
    leaf,
    leaf_hash: hashLeaf(leaf).toString('base64'),
    details: null,
    salt: null,
  };
}

for (const kind of STORE_KINDS) {
  describe(`erasure on record, and logs that began in format v1 [${kind}]`, () => {
    let t: TestStore;
    let trail: AuditTrail;
    let orgId: string;
    const ctx = () => ({
      scope: { orgId },
      actor: { type: 'person' as const, id: 'usr_dpo' },
      requestId: 'req_deletion',
    });

    before(async () => {
      t = await openTestStore(kind);
      orgId = (await initOrg(t.store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' })).org
        .id;
      trail = new AuditTrail({
        store: t.store,
        keys: vaultLogKeys(new Vault(localKeyring(t.home, {}))),
        originHost: 'paddock.test',
        log: silentLogger,
        checkpointIntervalMs: 0,
      });
      await trail.flush();
      // Entries written by the v1 writer hours ago, then placed and signed.
      const base = Date.now() - 10 * HOUR;
      await trail.checkpoint(orgId);
      for (let i = 0; i < OLD; i++) {
        await t.store.db
          .insertInto('audit_outbox')
          .values(v1Row(orgId, i, new Date(base + i * 1000).toISOString()))
          .execute();
      }
      await trail.checkpoint(orgId);
      // Two of them expired the v1 way: the whole leaf gone, nothing recorded.
      await t.store.db
        .updateTable('audit_entries')
        .set({ leaf: null, erased_at: new Date().toISOString() })
        .where('log_id', '=', orgId)
        .where('id', 'in', ['evt_v1_1', 'evt_v1_2'])
        .execute();
      await recordFormatUpgrade(t.store.db);
      await recordFormatUpgrade(t.store.db); // once per log, however often it runs
      // Placed before the new entries (the tests find those right after it, by position).
      await trail.flush();
      for (let i = 0; i < 10; i++) {
        await trail.append({
          orgId,
          actor: { type: 'system', id: 'test' },
          action: 'test.new',
          details: { i },
        });
      }
      await trail.checkpoint(orgId);
    });
    after(async () => {
      await trail?.close();
      await t?.cleanup();
    });

    async function tampered(change: (trx: Kysely<Database>) => Promise<unknown>): Promise<VerifyReport> {
      let report: VerifyReport | undefined;
      await assert.rejects(
        t.store.db.transaction().execute(async (trx) => {
          await change(trx);
          report = await verifyLog(trx, orgId);
          throw new Rollback();
        }),
        Rollback,
      );
      return report!;
    }

    const indexOf = async (id: string) =>
      Number(
        (
          await t.store.db
            .selectFrom('audit_entries')
            .select('idx')
            .where('log_id', '=', orgId)
            .where('id', '=', id)
            .executeTakeFirstOrThrow()
        ).idx,
      );

    test('v1 entries keep verifying after the upgrade; those erased before it are reported as such', async () => {
      const r = await verifyLog(t.store.db, orgId);
      assert.ok(r.ok, JSON.stringify(r.problem));
      assert.equal(r.v1Erased, 2);
      const upgrades = await t.store.db
        .selectFrom('audit_entries')
        .select('details')
        .where('log_id', '=', orgId)
        .where('action', '=', 'audit.format.upgraded')
        .execute();
      assert.equal(upgrades.length, 1);
      assert.equal(JSON.parse(upgrades[0]!.details!).erasedBefore.count, 2);
      const first = await indexOf('evt_v1_0');
      const shown = await getAuditEvent(t.store.db, { orgId } as never, first);
      assert.deepEqual([shown?.format, shown?.details], [1, { i: 0 }]);
    });

    test('a v1 entry erased after the upgrade, with no record, is named', async () => {
      const i = (await indexOf('evt_v1_0')) + 4;
      const r = await tampered((trx) =>
        trx
          .updateTable('audit_entries')
          .set({ leaf: null, erased_at: new Date().toISOString() })
          .where('log_id', '=', orgId)
          .where('idx', '=', i)
          .execute(),
      );
      assert.equal(r.problem?.index, i);
      assert.match(r.problem!.message, /no retention run or deletion request/);
    });

    test('a v2 header erased whole, passed off as an old v1 erasure, is named', async () => {
      const newest = await t.store.db
        .selectFrom('audit_entries')
        .select(['idx', 'erased_by'])
        .where('log_id', '=', orgId)
        .where('erased_by', 'is not', null)
        .executeTakeFirstOrThrow();
      const victim = (await indexOf('evt_v1_0')) + OLD + 3;
      const r = await tampered((trx) =>
        trx
          .updateTable('audit_entries')
          .set({ leaf: null, details: null, salt: null, format: 1, erased_by: newest.erased_by })
          .where('log_id', '=', orgId)
          .where('idx', '=', victim)
          .execute(),
      );
      assert.equal(r.ok, false);
      assert.equal(r.problem?.index, victim);
    });

    test('a deletion request erases exactly the entries it lists, on record', async () => {
      const first = (await indexOf('evt_v1_0')) + OLD + 1;
      const erased = await eraseEntries(t.store.db, ctx(), [first, first + 1, 999_999], 'deletion request');
      assert.deepEqual(erased, [first, first + 1]);
      await trail.flush();
      const e = await getAuditEvent(t.store.db, { orgId } as never, first);
      assert.equal(e?.erased, true);
      assert.equal(e?.details, null);
      assert.equal(e?.action, 'test.new', 'the header is still shown');
      const r = await verifyLog(t.store.db, orgId);
      assert.ok(r.ok, JSON.stringify(r.problem));
      // Pointing a third entry at that request does not pass: it does not list it.
      const by = e!.erasedBy!;
      const third = await tampered((trx) =>
        trx
          .updateTable('audit_entries')
          .set({ details: null, salt: null, erased_at: new Date().toISOString(), erased_by: by })
          .where('log_id', '=', orgId)
          .where('idx', '=', first + 4)
          .execute(),
      );
      assert.equal(third.problem?.index, first + 4);
      assert.match(third.problem!.message, /does not cover it/);
    });

    test('a retention run erases what is older than its cutoff; one more erasure in its name is caught by its count', async () => {
      await t.store.db
        .updateTable('orgs')
        .set({ settings: JSON.stringify({ auditRetentionDays: 1 }) })
        .where('id', '=', orgId)
        .execute();
      // Nine hours ahead of "now" minus one day: only the v1 entries (10 hours old) are older.
      const n = await applyRetention(t.store.db, new Date(Date.now() + 24 * HOUR - 9 * HOUR));
      assert.equal(n, OLD - 2, 'the four v1 entries not yet erased, nothing younger');
      await trail.flush();
      const r = await verifyLog(t.store.db, orgId);
      assert.ok(r.ok, JSON.stringify(r.problem));
      assert.equal(r.v1Erased, OLD);
      const run = await t.store.db
        .selectFrom('audit_entries')
        .select('id')
        .where('log_id', '=', orgId)
        .where('action', '=', 'audit.retention.applied')
        .executeTakeFirstOrThrow();
      const young = (await indexOf('evt_v1_0')) + OLD + 6;
      const extra = await tampered((trx) =>
        trx
          .updateTable('audit_entries')
          .set({ details: null, salt: null, erased_at: new Date().toISOString(), erased_by: run.id })
          .where('log_id', '=', orgId)
          .where('idx', '=', young)
          .execute(),
      );
      assert.equal(extra.problem?.index, young, extra.problem?.message);
      assert.match(extra.problem!.message, /does not cover it/);
    });

    test('stored checkpoints deleted are reported from the log alone once the log has aged past them', async () => {
      const r = await tampered((trx) =>
        trx.deleteFrom('audit_checkpoints').where('log_id', '=', orgId).execute(),
      );
      assert.equal(r.ok, false);
      assert.match(r.problem!.message, /covered by no stored checkpoint.*stored checkpoints were deleted/);
    });
  });
}
