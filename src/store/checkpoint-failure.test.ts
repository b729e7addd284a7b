/**
 * A checkpoint that fails on the writer's connection (the disk full, the file too large) is a
 * warning, as the worker's is: the commit it followed stands, and the store goes on answering.
 * The file-size limit (RLIMIT_FSIZE, which Node turns into EFBIG) stands in for a full disk.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Kysely, sql } from 'kysely';
import { DurableSqliteDialect, openNodeSqlite } from './node-sqlite.ts';

/** Commits a round, waits for the worker's checkpoint, then one large commit the writer's catch-up must copy. */
const CHILD = `
import { Kysely, sql } from '${import.meta.resolve('kysely')}';
import { CHECKPOINT_EVERY, DurableSqliteDialect, openNodeSqlite } from '${new URL('./node-sqlite.ts', import.meta.url)}';
process.on('warning', () => undefined);
const raw = openNodeSqlite(process.argv[2]);
const db = new Kysely({ dialect: new DurableSqliteDialect(raw) });
for (let i = 0; i < CHECKPOINT_EVERY; i++) await db.insertInto('items').values({ v: 'x' }).execute();
while (raw.stats.checkpoints < 1) await new Promise((r) => setTimeout(r, 10));
let failed = null;
try {
  await db.insertInto('items').values({ v: 'y'.repeat(2_000_000) }).execute();
} catch (err) {
  failed = err.message;
}
const after = await Promise.race([
  sql\`select count(*) as n from items\`.execute(db).then((r) => Number(r.rows[0].n)),
  new Promise((r) => setTimeout(() => r('no answer'), 5000)),
]);
console.log(JSON.stringify({ failed, after }));
process.exit(0);
`;

test('a checkpoint the writer cannot finish (the file may not grow) neither fails the commit nor stops the store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-sqlite-'));
  try {
    const path = join(dir, 'x.db');
    // A database of ~8 MB, checkpointed whole; the child may grow no file beyond 1 MB more.
    const raw = openNodeSqlite(path);
    const db = new Kysely<{ items: { id?: number; v: string } }>({ dialect: new DurableSqliteDialect(raw) });
    await sql`create table items (id integer primary key, v text not null)`.execute(db);
    for (let i = 0; i < 4; i++)
      await db
        .insertInto('items')
        .values({ v: 'z'.repeat(2_000_000) })
        .execute();
    await db.destroy();
    const limitKb = Math.ceil(statSync(path).size / 1024) + 1024;
    const child = join(dir, 'child.mjs');
    writeFileSync(child, CHILD);
    const run = spawnSync(
      'bash',
      ['-c', `ulimit -f ${limitKb} && exec "$0" "$@"`, process.execPath, child, path],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {
      failed: string | null;
      after: unknown;
    };
    assert.deepEqual(out, { failed: null, after: 4 + 500 + 1 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
