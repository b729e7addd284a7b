/**
 * Migration 036: the tree's stored nodes keyed in the order they are made. A log's nodes stored
 * before it are all kept, each under the last entry it covers, found by the proofs' lookups
 * through the key, on both engines.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { CompiledQuery, Migrator, sql } from 'kysely';
import { migrationProvider } from '../store/migrations/index.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { Frontier, lastLeaf } from './merkle.ts';
import { fetchNodes } from './storage.ts';

for (const kind of STORE_KINDS) {
  describe(`audit nodes in the order they are made [${kind}]`, () => {
    let t: TestStore | undefined;
    after(() => t?.cleanup());

    test('nodes stored before the migration are kept, keyed by their last entry, and found by key', async () => {
      t = await openTestStore(kind, { migrate: false });
      const { db } = t.store;
      const migrator = new Migrator({ db, provider: migrationProvider(t.store.dialect) });
      const before = await migrator.migrateTo('035-mcp-across-replicas');
      assert.equal(before.error, undefined);
      // A log of 37 entries' nodes, stored the way they were before (by level and index).
      const tree = new Frontier();
      const nodes = Array.from({ length: 37 }, () => tree.append(randomBytes(32))).flat();
      for (const n of nodes)
        await sql`INSERT INTO audit_nodes (log_id, level, idx, hash) VALUES ('org_x', ${n.level}, ${n.index}, ${n.hash.toString('base64')})`.execute(
          db,
        );
      const { error, results } = await migrator.migrateToLatest();
      assert.equal(error, undefined);
      assert.ok(
        results?.some((r) => r.migrationName === '036-audit-nodes-in-order' && r.status === 'Success'),
      );

      const rows = await db
        .selectFrom('audit_nodes')
        .selectAll()
        .orderBy('last_idx')
        .orderBy('level')
        .execute();
      assert.equal(rows.length, nodes.length);
      // Keyed in the order appends made them: the key's order is the order they were made in.
      assert.deepEqual(
        rows.map((r) => [Number(r.last_idx), r.level, Number(r.idx)]),
        nodes.map((n) => [lastLeaf(n), n.level, n.index]),
      );
      const found = await fetchNodes(db, 'org_x', nodes);
      for (const n of nodes)
        assert.ok(found.get(`${n.level}/${n.index}`)?.equals(n.hash), `${n.level}/${n.index}`);

      // A proof's lookup goes through the key, not a scan.
      const lookup = `SELECT hash FROM audit_nodes WHERE log_id = 'org_x' AND last_idx = 31 AND level = 5`;
      const plan =
        kind === 'sqlite'
          ? (
              await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`EXPLAIN QUERY PLAN ${lookup}`))
            ).rows
              .map((r) => r.detail)
              .join('\n')
          : await db.transaction().execute(async (trx) => {
              await sql`SET LOCAL enable_seqscan = off`.execute(trx);
              const { rows } = await trx.executeQuery<{ 'QUERY PLAN': string }>(
                CompiledQuery.raw(`EXPLAIN ${lookup}`),
              );
              return rows.map((r) => r['QUERY PLAN']).join('\n');
            });
      assert.match(
        plan,
        kind === 'sqlite' ? /SEARCH audit_nodes USING PRIMARY KEY/ : /Index Scan using audit_nodes_order_pk/,
      );
    });
  });
}
