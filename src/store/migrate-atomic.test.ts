/**
 * A kill in the middle of a migration must leave an SQLite database as it was before it, so the
 * next start simply runs it again (PostgreSQL gets this from Kysely's transactional migrations).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Kysely, Migrator, sql } from 'kysely';
import { DurableSqliteDialect, openNodeSqlite } from './node-sqlite.ts';

const CHILD = `
import { Kysely, Migrator, sql } from '${import.meta.resolve('kysely')}';
import { DurableSqliteDialect, openNodeSqlite } from '${new URL('./node-sqlite.ts', import.meta.url)}';
const db = new Kysely({ dialect: new DurableSqliteDialect(openNodeSqlite(process.argv[2])) });
// The second migration creates its table and fills it, then hangs until killed.
const migrations = {
  '001-whole': { async up(db) { await sql\`create table whole (id integer)\`.execute(db); } },
  '002-half': {
    async up(db) {
      await sql\`create table half (id integer primary key)\`.execute(db);
      await sql\`insert into half (id) values (1), (2), (3)\`.execute(db);
      process.stdout.write('ready\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    },
  },
};
await new Migrator({ db, provider: { getMigrations: async () => migrations } }).migrateToLatest();
`;

test('an SQLite migration killed half-way leaves nothing behind, and runs whole on the next start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-migrate-'));
  const path = join(dir, 'paddock.db');
  try {
    const child = join(dir, 'migrate.mjs');
    writeFileSync(child, CHILD);
    const proc = spawn(process.execPath, [child, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      proc.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      proc.on('exit', (code) => reject(new Error(`the migrating process ended (${code}) before its kill`)));
    });
    proc.kill('SIGKILL');
    await new Promise((resolve) => proc.on('exit', resolve));

    const db = new Kysely<Record<string, never>>({ dialect: new DurableSqliteDialect(openNodeSqlite(path)) });
    try {
      const tables = async () =>
        (
          await sql<{
            name: string;
          }>`select name from sqlite_master where type = 'table' and name in ('whole', 'half') order by name`.execute(
            db,
          )
        ).rows.map((r) => r.name);
      assert.deepEqual(await tables(), [], 'neither migration of the killed run left its table');

      const migrations = {
        '001-whole': {
          up: async (d: Kysely<unknown>) => void (await sql`create table whole (id integer)`.execute(d)),
        },
        '002-half': {
          up: async (d: Kysely<unknown>) => {
            await sql`create table half (id integer primary key)`.execute(d);
            await sql`insert into half (id) values (1), (2), (3)`.execute(d);
          },
        },
      };
      const { error, results } = await new Migrator({
        db,
        provider: { getMigrations: async () => migrations },
      }).migrateToLatest();
      assert.equal(error, undefined, 'the next start runs the migrations again without a manual fix');
      assert.deepEqual(
        results?.map((r) => [r.migrationName, r.status]),
        [
          ['001-whole', 'Success'],
          ['002-half', 'Success'],
        ],
      );
      assert.deepEqual(await tables(), ['half', 'whole']);
    } finally {
      await db.destroy();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
