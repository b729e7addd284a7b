/**
 * The partial audit indexes (migration 034) hold only what they find, and the queries that need
 * them still use them, on both engines: a decision's insert skips them, a read does not scan.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { type Compilable, CompiledQuery, sql } from 'kysely';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';

for (const kind of STORE_KINDS) {
  describe(`partial audit indexes [${kind}]`, () => {
    let t: TestStore | undefined;
    after(() => t?.cleanup());

    test('format v1 and run lookups use their partial index; the full ones are gone', async () => {
      t = await openTestStore(kind);
      const { db } = t.store;
      const definition = async (name: string) => {
        const { rows } = await db.executeQuery<{ def: string }>(
          kind === 'sqlite'
            ? CompiledQuery.raw('SELECT sql AS def FROM sqlite_master WHERE name = ?', [name])
            : CompiledQuery.raw('SELECT indexdef AS def FROM pg_indexes WHERE indexname = $1', [name]),
        );
        return rows[0]?.def;
      };
      assert.equal(await definition('audit_entries_format'), undefined);
      assert.match((await definition('audit_entries_v1')) ?? '', /WHERE \(?format = 1\)?/i);
      assert.match((await definition('audit_entries_run')) ?? '', /WHERE \(?run_id IS NOT NULL\)?/i);

      // The plan a query gets (PostgreSQL told to avoid scans where it can: its tables are empty here).
      const plan = async (q: Compilable) => {
        const c = q.compile();
        if (kind === 'sqlite') {
          const { rows } = await db.executeQuery<{ detail: string }>(
            CompiledQuery.raw(`EXPLAIN QUERY PLAN ${c.sql}`, [...c.parameters]),
          );
          return rows.map((r) => r.detail).join('\n');
        }
        return db.transaction().execute(async (trx) => {
          await sql`SET LOCAL enable_seqscan = off`.execute(trx);
          const { rows } = await trx.executeQuery<{ 'QUERY PLAN': string }>(
            CompiledQuery.raw(`EXPLAIN ${c.sql}`, [...c.parameters]),
          );
          return rows.map((r) => r['QUERY PLAN']).join('\n');
        });
      };
      // Start-up's question (erasure.ts, recordFormatUpgrade): which logs still hold v1 entries.
      const v1Logs = db
        .selectFrom('audit_entries')
        .select('log_id')
        .distinct()
        .where('format', '=', sql.lit(1));
      assert.match(await plan(v1Logs), /audit_entries_v1/);
      // A run's entries (audit query by run, feedback, deletion of a person's runs).
      const byRun = db
        .selectFrom('audit_entries')
        .select('idx')
        .where('log_id', '=', 'org_x')
        .where('run_id', '=', 'run_x');
      assert.match(await plan(byRun), /audit_entries_run/);
      const inRuns = db
        .selectFrom('audit_entries')
        .select('idx')
        .where('log_id', '=', 'org_x')
        .where('run_id', 'in', ['run_x', 'run_y']);
      assert.match(await plan(inRuns), /audit_entries_run/);
    });
  });
}
