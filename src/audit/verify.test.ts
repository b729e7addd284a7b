/**
 * Tampering with a stored log, in every way the issue names, is caught by `paddock audit
 * verify`, which names the failing entry. Each tampering runs in a transaction that is rolled
 * back afterwards, on SQLite and PostgreSQL; one also runs through the real CLI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { initOrg, operatorCaller } from '../identity/index.ts';
import { silentLogger } from '../log/index.ts';
import type { Database } from '../store/index.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { localKeyring, Vault, vaultLogKeys } from '../vault/index.ts';
import { entryRow, prepareEntry } from './entry.ts';
import { verifyConsistency } from './merkle.ts';
import { fileCheckpointPublisher } from './publish.ts';
import { AuditTrail } from './trail.ts';
import { type IncrementalReport, type VerifyReport, verifyLog, verifyLogSince } from './verify.ts';

const BIN = fileURLToPath(new URL('../../bin/paddock.js', import.meta.url));
const SIZE = 40;

class Rollback extends Error {}

for (const kind of STORE_KINDS) {
  describe(`tamper detection [${kind}]`, () => {
    let t: TestStore;
    let orgId: string;
    let published: string;

    before(async () => {
      t = await openTestStore(kind);
      published = mkdtempSync(join(tmpdir(), 'paddock-published-'));
      orgId = (await initOrg(t.store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' })).org
        .id;
      const trail = new AuditTrail({
        store: t.store,
        keys: vaultLogKeys(new Vault(localKeyring(t.home, {}))),
        originHost: 'paddock.test',
        log: silentLogger,
        checkpointIntervalMs: 0,
        publishers: [fileCheckpointPublisher(published)],
      });
      await trail.flush();
      const have = (await trail.checkpoint(orgId)).size;
      for (let i = have; i < SIZE; i++) {
        await trail.append({
          orgId,
          actor: { type: 'system', id: 'test' },
          action: 'test.entry',
          details: { i },
        });
        if (i % 10 === 9) await trail.checkpoint(orgId);
      }
      await trail.close();
    });
    after(async () => t?.cleanup());

    async function tampered<R extends VerifyReport = VerifyReport>(
      change: (trx: Kysely<Database>) => Promise<unknown>,
      opts = {},
      verify: (trx: Kysely<Database>) => Promise<R> = (trx) => verifyLog(trx, orgId, opts) as Promise<R>,
    ): Promise<R> {
      let report: R | undefined;
      await assert.rejects(
        t.store.db.transaction().execute(async (trx) => {
          await change(trx);
          report = await verify(trx);
          throw new Rollback();
        }),
        Rollback,
      );
      return report!;
    }

    const entries = (trx: Kysely<Database>) => trx.updateTable('audit_entries').where('log_id', '=', orgId);

    test('the untouched log verifies, with its checkpoints', async () => {
      const r = await verifyLog(t.store.db, orgId, { publishedDir: published });
      assert.ok(r.ok, JSON.stringify(r.problem));
      assert.equal(r.entries, SIZE);
      assert.ok(r.checkpoints >= 8);
    });

    test('an edited entry is named', async () => {
      const r = await tampered((trx) =>
        entries(trx).set({ leaf: `{"edited":true}` }).where('idx', '=', 17).execute(),
      );
      assert.equal(r.ok, false);
      assert.equal(r.problem?.index, 17);
      assert.match(r.problem!.message, /content does not match/);
    });

    test('an edited entry with a recomputed hash is named', async () => {
      const forged = prepareEntry({ orgId, actor: { type: 'system', id: 'attacker' }, action: 'test.entry' });
      const r = await tampered((trx) =>
        entries(trx).set({ leaf: forged.leaf, leaf_hash: forged.leafHash }).where('idx', '=', 23).execute(),
      );
      assert.equal(r.problem?.index, 23);
    });

    test('an edit that also rewrites the tree is caught by the signed checkpoints', async () => {
      const forged = prepareEntry({ orgId, actor: { type: 'system', id: 'attacker' }, action: 'test.entry' });
      const r = await tampered(async (trx) => {
        // Every column rewritten to match the forged entry: only the signed checkpoints can tell.
        await entries(trx)
          .set({ ...entryRow(forged) })
          .where('idx', '=', 23)
          .execute();
        await trx
          .updateTable('audit_nodes')
          .set({ hash: forged.leafHash })
          .where('log_id', '=', orgId)
          .where('level', '=', 0)
          .where('idx', '=', 23)
          .execute();
      });
      assert.equal(r.ok, false);
      assert.match(r.problem!.message, /checkpoint at size (24|2\d|30) does not match/);
      assert.ok(r.problem!.index! >= 23 && r.problem!.index! < 30, `named ${r.problem?.index}`);
    });

    test('an altered inner tree node is found by a deep verify', async () => {
      const change = (trx: Kysely<Database>) =>
        trx
          .updateTable('audit_nodes')
          .set({ hash: Buffer.alloc(32, 7).toString('base64') })
          .where('log_id', '=', orgId)
          .where('level', '=', 2)
          .where('idx', '=', 3)
          .execute();
      const deep = await tampered(change, { deep: true });
      assert.equal(deep.ok, false);
      assert.equal(deep.problem?.index, 12);
      assert.match(deep.problem!.message, /tree node 2\/3 \(entries 12–15\) was altered/);
    });

    test('a deep verify finds a stored node missing, and one that is no node of the tree', async () => {
      const gone = await tampered(
        (trx) =>
          trx
            .deleteFrom('audit_nodes')
            .where('log_id', '=', orgId)
            .where('level', '=', 3)
            .where('idx', '=', 2)
            .execute(),
        { deep: true },
      );
      assert.equal(gone.ok, false);
      assert.equal(gone.problem?.index, 16);
      assert.match(gone.problem!.message, /tree node 3\/2 \(entries 16–23\) is missing/);
      // A node beyond the tree (as if for entries the log does not hold).
      const forged = await tampered(
        (trx) =>
          trx
            .insertInto('audit_nodes')
            .values({
              log_id: orgId,
              last_idx: 4095,
              level: 10,
              idx: 3,
              hash: Buffer.alloc(32, 7).toString('base64'),
            })
            .execute(),
        { deep: true },
      );
      assert.equal(forged.ok, false);
      assert.match(forged.problem!.message, /tree node 10\/3 .* is no node of the log's tree/);
      // Without deep, neither is looked at: proofs would fail on them, not the entries.
      assert.ok((await tampered((trx) => trx.deleteFrom('audit_nodes').where('level', '=', 3).execute())).ok);
    });

    test('a deleted entry is named', async () => {
      const r = await tampered((trx) =>
        trx.deleteFrom('audit_entries').where('log_id', '=', orgId).where('idx', '=', 11).execute(),
      );
      assert.equal(r.problem?.index, 11);
      assert.match(r.problem!.message, /missing/);
    });

    test('reordered entries are named', async () => {
      const r = await tampered(async (trx) => {
        await entries(trx).set({ idx: -1 }).where('idx', '=', 8).execute();
        await entries(trx).set({ idx: 8 }).where('idx', '=', 9).execute();
        await entries(trx).set({ idx: 9 }).where('idx', '=', -1).execute();
      });
      assert.equal(r.problem?.index, 8);
    });

    test('an inserted entry is named', async () => {
      const forged = prepareEntry({ orgId, actor: { type: 'system', id: 'attacker' }, action: 'test.entry' });
      const r = await tampered(async (trx) => {
        await entries(trx)
          .set((eb) => ({ idx: eb('idx', '+', 1000) }))
          .where('idx', '>=', 30)
          .execute();
        await entries(trx)
          .set((eb) => ({ idx: eb('idx', '-', 999) }))
          .where('idx', '>=', 1000)
          .execute();
        await trx
          .insertInto('audit_entries')
          .values({ ...entryRow(forged), idx: 30, erased_at: null, erased_by: null })
          .execute();
      });
      assert.equal(r.problem?.index, 30);
    });

    test('an entry appended behind the writer’s back is named', async () => {
      const forged = prepareEntry({ orgId, actor: { type: 'system', id: 'attacker' }, action: 'test.entry' });
      const r = await tampered((trx) =>
        trx
          .insertInto('audit_entries')
          .values({ ...entryRow(forged), idx: SIZE, erased_at: null, erased_by: null })
          .execute(),
      );
      assert.equal(r.problem?.index, SIZE);
    });

    test('truncation is named; a rollback that also hides it is caught by the published checkpoints', async () => {
      const cut = await tampered((trx) =>
        trx.deleteFrom('audit_entries').where('log_id', '=', orgId).where('idx', '>=', 35).execute(),
      );
      assert.equal(cut.problem?.index, 35);
      const hidden = async (trx: Kysely<Database>) => {
        await trx.deleteFrom('audit_entries').where('log_id', '=', orgId).where('idx', '>=', 25).execute();
        await trx.deleteFrom('audit_nodes').where('log_id', '=', orgId).execute();
        await trx
          .deleteFrom('audit_checkpoints')
          .where('log_id', '=', orgId)
          .where('tree_size', '>', 25)
          .execute();
        // Rebuild a consistent tree of 25 so only outside evidence can tell.
        const { Frontier, lastLeaf } = await import('./merkle.ts');
        const rows = await trx
          .selectFrom('audit_entries')
          .select(['idx', 'leaf_hash'])
          .where('log_id', '=', orgId)
          .orderBy('idx')
          .execute();
        const f = new Frontier();
        for (const row of rows) {
          for (const n of f.append(Buffer.from(row.leaf_hash, 'base64'))) {
            await trx
              .insertInto('audit_nodes')
              .values({
                log_id: orgId,
                last_idx: lastLeaf(n),
                level: n.level,
                idx: n.index,
                hash: n.hash.toString('base64'),
              })
              .execute();
          }
        }
        await trx
          .updateTable('audit_logs')
          .set({ tree_size: 25, root_hash: f.root().toString('base64') })
          .where('id', '=', orgId)
          .execute();
      };
      const fooled = await tampered(hidden);
      assert.ok(fooled.ok, 'with only the database, a careful rollback to a signed size looks consistent');
      const caught = await tampered(hidden, { publishedDir: published });
      assert.equal(caught.ok, false);
      assert.equal(caught.problem?.index, 25);
      assert.match(caught.problem!.message, /covers \d+ entries but the log has 25/);
    });

    // What people read (the API, dashboard, filters, exports) comes from the hashed header, and
    // every indexed column must agree with it.
    for (const [column, value] of [
      ['action', 'secret.deleted'],
      ['actor_id', 'usr_someone_else'],
      ['actor_type', 'person'],
      ['target_id', 'sec_other'],
      ['target_type', 'secret'],
      ['outcome', 'denied'],
      ['time', '2020-01-01T00:00:00.000Z'],
      ['request_id', 'req_forged'],
    ] as const) {
      test(`a changed ${column} column is named`, async () => {
        const r = await tampered((trx) =>
          entries(trx)
            .set({ [column]: value })
            .where('idx', '=', 14)
            .execute(),
        );
        assert.equal(r.ok, false);
        assert.equal(r.problem?.index, 14);
        assert.match(r.problem!.message, new RegExp(`its ${column} column says`));
      });
    }

    test('edited details are named: they no longer match the digest the header commits to', async () => {
      const r = await tampered((trx) =>
        entries(trx).set({ details: '{"i":999}' }).where('idx', '=', 16).execute(),
      );
      assert.equal(r.problem?.index, 16);
      assert.match(r.problem!.message, /details do not match the digest/);
    });

    test('details erased with no retention run or deletion request covering them are named', async () => {
      const erase = { details: null, salt: null, erased_at: new Date().toISOString() };
      const bare = await tampered((trx) => entries(trx).set(erase).where('idx', '=', 19).execute());
      assert.equal(bare.problem?.index, 19);
      assert.match(bare.problem!.message, /erased, and no retention run or deletion request/);
      // Pointing at an entry that is not an erasure record does not help.
      const row = await t.store.db
        .selectFrom('audit_entries')
        .select('id')
        .where('log_id', '=', orgId)
        .where('idx', '=', 20)
        .executeTakeFirstOrThrow();
      const named = await tampered((trx) =>
        entries(trx)
          .set({ ...erase, erased_by: row.id })
          .where('idx', '=', 19)
          .execute(),
      );
      assert.equal(named.problem?.index, 19);
    });

    test('an erased payload whose columns were rewritten is named', async () => {
      const r = await tampered((trx) =>
        entries(trx)
          .set({ details: null, salt: null, erased_at: new Date().toISOString(), action: 'person.signed_in' })
          .where('idx', '=', 21)
          .execute(),
      );
      assert.equal(r.problem?.index, 21);
      assert.match(r.problem!.message, /its action column says "person.signed_in"/);
    });

    test('deleted stored checkpoints are reported (the published copies still have them)', async () => {
      const r = await tampered(
        (trx) => trx.deleteFrom('audit_checkpoints').where('log_id', '=', orgId).execute(),
        { publishedDir: published },
      );
      assert.equal(r.ok, false);
      assert.match(
        r.problem!.message,
        /stored checkpoint at size \d+ is missing .*: stored checkpoints were deleted/,
      );
    });

    describe('incremental verification from a verified checkpoint', () => {
      const cpAt = async (size: number, db: Kysely<Database> = t.store.db) => {
        const r = await db
          .selectFrom('audit_checkpoints')
          .select('note')
          .where('log_id', '=', orgId)
          .where('tree_size', '=', size)
          .executeTakeFirstOrThrow();
        return { size, note: r.note };
      };
      const since = (trx: Kysely<Database>) => async () =>
        verifyLogSince(trx, orgId, await cpAt(20, trx), await cpAt(SIZE, trx), { publishedDir: published });
      const incremental = (change: (trx: Kysely<Database>) => Promise<unknown>) =>
        tampered<IncrementalReport>(change, {}, (trx) => since(trx)());

      test('verifies only the new entries, with a consistency proof any RFC 6962 verifier accepts', async () => {
        const r = await since(t.store.db)();
        assert.ok(r.ok, JSON.stringify(r.problem));
        assert.deepEqual([r.from, r.to, r.entries], [20, SIZE, SIZE - 20]);
        const { publicKey } = await t.store.db
          .selectFrom('audit_logs')
          .select('public_key as publicKey')
          .where('id', '=', orgId)
          .executeTakeFirstOrThrow();
        assert.ok(publicKey);
        const root = async (n: number) =>
          Buffer.from(
            (
              await t.store.db
                .selectFrom('audit_checkpoints')
                .select('root_hash')
                .where('log_id', '=', orgId)
                .where('tree_size', '=', n)
                .executeTakeFirstOrThrow()
            ).root_hash,
            'base64',
          );
        const proof = r.consistency.map((h) => Buffer.from(h, 'base64'));
        assert.ok(proof.length > 0);
        assert.ok(verifyConsistency(20, SIZE, await root(20), await root(SIZE), proof));
        // From nothing verified, it is every entry.
        const all = await verifyLogSince(t.store.db, orgId, { size: 0, note: '' }, await cpAt(SIZE));
        assert.ok(all.ok, JSON.stringify(all.problem));
        assert.equal(all.entries, SIZE);
      });

      test('a tampered new entry is named', async () => {
        const r = await incremental((trx) =>
          entries(trx).set({ leaf: `{"edited":true}` }).where('idx', '=', 33).execute(),
        );
        assert.equal(r.ok, false);
        assert.equal(r.problem?.index, 33);
        assert.match(r.problem!.message, /content does not match/);
      });

      test('a new entry rewritten with its leaf node is caught by the signed root it must lead to', async () => {
        const forged = prepareEntry({
          orgId,
          actor: { type: 'system', id: 'attacker' },
          action: 'test.entry',
        });
        const r = await incremental(async (trx) => {
          await entries(trx)
            .set({ ...entryRow(forged) })
            .where('idx', '=', 33)
            .execute();
          await trx
            .updateTable('audit_nodes')
            .set({ hash: forged.leafHash })
            .where('log_id', '=', orgId)
            .where('level', '=', 0)
            .where('idx', '=', 33)
            .execute();
        });
        assert.equal(r.ok, false);
        assert.match(r.problem!.message, /checkpoint.* at size (3[4-9]|40) does not match/);
      });

      test('a tampered old entry is left to the full verification, which names it', async () => {
        const change = (trx: Kysely<Database>) =>
          entries(trx).set({ leaf: `{"edited":true}` }).where('idx', '=', 7).execute();
        // The incremental check does not read entries it verified before: that is its saving.
        const inc = await incremental(change);
        assert.ok(inc.ok, JSON.stringify(inc.problem));
        const full = await tampered(change);
        assert.equal(full.ok, false);
        assert.equal(full.problem?.index, 7);
      });

      test('an old subtree rewritten in the stored tree breaks the consistency with the verified root', async () => {
        const r = await incremental((trx) =>
          trx
            .updateTable('audit_nodes')
            .set({ hash: Buffer.alloc(32, 7).toString('base64') })
            .where('log_id', '=', orgId)
            .where('level', '=', 4)
            .where('idx', '=', 0)
            .execute(),
        );
        assert.equal(r.ok, false);
        assert.match(
          r.problem!.message,
          /not an extension of the verified tree of size 20|stored tree at size 20/,
        );
      });

      test('a checkpoint the log did not sign is refused as the starting point', async () => {
        const real = await cpAt(20);
        const forged = { size: 20, note: real.note.replace(/^(.*\n\d+\n)[^\n]+/, '$1AAAA') };
        const r = await verifyLogSince(t.store.db, orgId, forged, await cpAt(SIZE));
        assert.equal(r.ok, false);
        assert.match(r.problem!.message, /previously verified checkpoint \(size 20\) is not signed/);
      });
    });

    test('the CLI exits non-zero naming the entry', async () => {
      const original = await t.store.db
        .selectFrom('audit_entries')
        .select('leaf')
        .where('log_id', '=', orgId)
        .where('idx', '=', 5)
        .executeTakeFirstOrThrow();
      await t.store.db
        .updateTable('audit_entries')
        .set({ leaf: '{"tampered":1}' })
        .where('log_id', '=', orgId)
        .where('idx', '=', 5)
        .execute();
      try {
        const env = { ...process.env, PADDOCK_HOME: t.home, DATABASE_URL: t.databaseUrl ?? '' };
        const r = spawnSync(process.execPath, [BIN, 'audit', 'verify', '--org', 'acme'], {
          env,
          encoding: 'utf8',
        });
        assert.equal(r.status, 1, r.stdout + r.stderr);
        assert.match(r.stdout, /FAILED — entry 5: its content does not match its hash/);
      } finally {
        await t.store.db
          .updateTable('audit_entries')
          .set({ leaf: original.leaf })
          .where('log_id', '=', orgId)
          .where('idx', '=', 5)
          .execute();
      }
      const env = { ...process.env, PADDOCK_HOME: t.home, DATABASE_URL: t.databaseUrl ?? '' };
      const ok = spawnSync(
        process.execPath,
        [BIN, 'audit', 'verify', '--org', 'acme', '--checkpoints', published],
        { env, encoding: 'utf8' },
      );
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /OK — 40 entries/);
      writeFileSync(join(published, 'ignored.txt'), 'x');
    });
  });
}
