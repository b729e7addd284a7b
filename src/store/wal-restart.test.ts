/**
 * When the WAL starts over (after a checkpoint copied it all), its new header must reach the disk
 * before the frames written after it: otherwise a power cut can leave the old header with a
 * prefix of the old frames, which recovery replays over a database file that already holds
 * later pages (SQLite's ticket ff5be73dee). SQLite makes that sync itself unless the connection
 * runs with synchronous=OFF; the writer's syscalls are watched with strace here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Kysely, sql } from 'kysely';
import { DurableSqliteDialect, openNodeSqlite } from './node-sqlite.ts';

test('between transactions the writer runs with synchronous=NORMAL: checkpoints and a WAL restart sync, commits leave it to the WAL’s FileSync', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-sqlite-'));
  const raw = openNodeSqlite(join(dir, 'x.db'));
  const db = new Kysely<{ items: { id: number } }>({ dialect: new DurableSqliteDialect(raw) });
  try {
    await sql`create table items (id integer primary key)`.execute(db);
    await db.insertInto('items').values({ id: 1 }).execute();
    const level = raw.raw.prepare('PRAGMA synchronous').get() as { synchronous: number };
    assert.equal(level.synchronous, 1);
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Commits in rounds, each followed by a checkpoint, so the WAL starts over several times. */
const CHILD = `
import { Kysely, sql } from '${import.meta.resolve('kysely')}';
import { CHECKPOINT_EVERY, DurableSqliteDialect, openNodeSqlite } from '${new URL('./node-sqlite.ts', import.meta.url)}';
const raw = openNodeSqlite(process.argv[2]);
const db = new Kysely({ dialect: new DurableSqliteDialect(raw) });
await sql\`create table items (id integer primary key, v text not null)\`.execute(db);
let id = 0;
for (let r = 0; r < 4; r++)
  for (let i = 0; i < CHECKPOINT_EVERY; i++) await db.insertInto('items').values({ id: ++id, v: 'x'.repeat(3000) }).execute();
await db.destroy();
`;

test('a WAL that starts over has its new header synced before any frame is written after it', (t) => {
  // strace watches the writer's system calls; where it is missing or may not trace, say so.
  if (spawnSync('strace', ['-f', '-o', '/dev/null', 'true']).status !== 0)
    return t.skip('strace is not installed, or may not trace here');
  const dir = mkdtempSync(join(tmpdir(), 'paddock-sqlite-'));
  try {
    const out = join(dir, 'trace.txt');
    const child = join(dir, 'commits.mjs');
    writeFileSync(child, CHILD);
    const run = spawnSync(
      'strace',
      [
        '-f',
        '-y',
        '-e',
        'trace=pwrite64,fsync,fdatasync',
        '-o',
        out,
        process.execPath,
        child,
        join(dir, 'x.db'),
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(run.status, 0, run.stderr);
    // Per thread: after a header write (32 bytes at offset 0 of the WAL), what that thread does next to the WAL.
    const lines = readFileSync(out, 'utf8').split('\n');
    const pending = new Map<string, number>();
    let restarts = 0;
    const unsynced: number[] = [];
    lines.forEach((line, n) => {
      const m = /^(\d+)\s+(pwrite64|fsync|fdatasync)\(\d+<[^>]*-wal>(.*)$/.exec(line);
      if (!m) return;
      const [, tid, call, rest] = m;
      if (call === 'pwrite64' && /, 32, 0\) = 32$/.test(rest!)) {
        restarts++;
        pending.set(tid!, n);
      } else if (pending.has(tid!)) {
        if (call === 'pwrite64') unsynced.push(pending.get(tid!)!);
        pending.delete(tid!);
      }
    });
    assert.ok(restarts >= 3, `the WAL started over ${restarts} times`);
    assert.deepEqual(
      unsynced,
      [],
      `WAL headers written without a sync before the next frame (trace lines ${unsynced.join(', ')})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
