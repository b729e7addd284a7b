/** The embedded store's commits: resolved only after a WAL sync; checkpoints fill the database file. */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, fdatasync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { Kysely, sql } from 'kysely';
import { openStore } from './index.ts';
import {
  CHECKPOINT_EVERY,
  DurableSqliteDialect,
  openNodeSqlite,
  SYNC_LATER_MS,
  withLazySync,
} from './node-sqlite.ts';

interface T {
  items: { id: number; v: string };
}

test('a write resolves after a WAL sync, a read never syncs, and checkpoints reach the database file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-sqlite-'));
  const raw = openNodeSqlite(join(dir, 'x.db'));
  const db = new Kysely<T>({ dialect: new DurableSqliteDialect(raw) });
  try {
    await sql`create table items (id integer primary key, v text not null)`.execute(db);
    const before = raw.stats.syncs;
    await db.insertInto('items').values({ id: 1, v: 'a' }).execute();
    assert.equal(raw.stats.syncs, before + 1, 'a plain write waits for a sync');
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ id: 2, v: 'b' }).execute();
      await trx.insertInto('items').values({ id: 3, v: 'c' }).execute();
    });
    assert.equal(raw.stats.syncs, before + 2, 'a transaction syncs once, at its commit');
    await db.selectFrom('items').selectAll().execute();
    await sql`with x as (select 1) select * from items`.execute(db);
    assert.equal(raw.stats.syncs, before + 2, 'reads do not sync');
    // A write that returns rows is a write: synced before it resolves, and it moves the commit mark.
    const mark = raw.generation;
    const updated = await db
      .updateTable('items')
      .set({ v: 'z' })
      .where('id', '=', 1)
      .returning('id')
      .execute();
    assert.deepEqual(
      updated.map((r) => r.id),
      [1],
    );
    assert.equal(raw.stats.syncs, before + 3, 'a write with RETURNING waits for a sync');
    assert.equal(raw.generation, mark + 1, 'and is counted as a commit');
    await db.deleteFrom('items').where('id', '=', 3).returning('id').execute();
    await db.insertInto('items').values({ id: 3, v: 'c' }).returning('id').execute();
    assert.equal(raw.stats.syncs, before + 5);
    // Concurrent writers share syncs (group commit) yet every one of them waited for one.
    await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        db
          .insertInto('items')
          .values({ id: 10 + i, v: 'x' })
          .execute(),
      ),
    );
    // The checkpoint runs in a worker thread, on its own connection: wait for it.
    for (let i = 0; i < 250 && raw.stats.checkpoints < 1; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(raw.stats.checkpoints >= 1, 'hundreds of commits trigger a checkpoint');
    // The database file alone (without its WAL) holds what was checkpointed.
    copyFileSync(join(dir, 'x.db'), join(dir, 'alone.db'));
    const alone = new DatabaseSync(join(dir, 'alone.db'));
    const n = (alone.prepare('select count(*) as n from items').get() as { n: number }).n;
    alone.close();
    assert.ok(n >= 200, `only ${n} rows in the database file after a checkpoint`);
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('under commits that never stop, the WAL starts over after each checkpoint instead of growing without end', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-sqlite-'));
  const raw = openNodeSqlite(join(dir, 'x.db'));
  const db = new Kysely<T>({ dialect: new DurableSqliteDialect(raw) });
  const walBytes = () => statSync(join(dir, 'x.db-wal')).size;
  try {
    await sql`create table items (id integer primary key, v text not null)`.execute(db);
    // One commit after another, as calls at concurrency 1 make them: the checkpoint worker copies
    // while they go on, so the WAL is never wholly copied when a transaction begins.
    const v = 'x'.repeat(3000);
    let id = 0;
    const round = async () => {
      for (let i = 0; i < CHECKPOINT_EVERY; i++)
        await db.insertInto('items').values({ id: ++id, v }).execute();
    };
    await round();
    await round();
    const early = walBytes();
    for (let r = 0; r < 4; r++) await round();
    const late = walBytes();
    assert.ok(raw.stats.checkpoints >= 4, `${raw.stats.checkpoints} checkpoints in ${id} commits`);
    // Grown by 4 rounds of ~2 pages a commit (~16 MB) when never started over; here it stays put.
    assert.ok(
      late <= early + 2 * 1024 * 1024,
      `the WAL grew from ${(early / 1048576).toFixed(1)} MB to ${(late / 1048576).toFixed(1)} MB`,
    );
    assert.equal(
      (
        (await db.selectFrom('items').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()) as {
          n: number;
        }
      ).n,
      id,
    );
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a lazily synced write resolves once written, and a sync follows on its own or rides with the next write', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-sqlite-'));
  const raw = openNodeSqlite(join(dir, 'x.db'));
  const db = new Kysely<T>({ dialect: new DurableSqliteDialect(raw) });
  try {
    await sql`create table items (id integer primary key, v text not null)`.execute(db);
    const made = raw.stats.fdatasyncs;
    await withLazySync(() => db.insertInto('items').values({ id: 1, v: 'a' }).execute());
    assert.equal(raw.stats.fdatasyncs, made, 'handed back without a sync');
    // Written: another connection (another process) reads it from the WAL already.
    const other = new DatabaseSync(join(dir, 'x.db'));
    assert.equal((other.prepare('select v from items where id = 1').get() as { v: string }).v, 'a');
    other.close();
    await new Promise((r) => setTimeout(r, SYNC_LATER_MS * 5));
    assert.equal(raw.stats.fdatasyncs, made + 1, 'then synced on its own, once');
    // One that a waited-for write follows at once: the latter's sync covers both.
    await withLazySync(() => db.insertInto('items').values({ id: 2, v: 'b' }).execute());
    await db.insertInto('items').values({ id: 3, v: 'c' }).execute();
    await new Promise((r) => setTimeout(r, SYNC_LATER_MS * 5));
    assert.equal(raw.stats.fdatasyncs, made + 2, 'one sync for the two');
    // Calls one after another (a decision synced, then its result written lazily), for longer
    // than the window: each result rides with the next decision's sync, none gets its own.
    const t0 = performance.now();
    const asked = raw.stats.syncs;
    let decisions = 0;
    for (let id = 10; performance.now() - t0 < SYNC_LATER_MS * 6; id += 2) {
      await db.insertInto('items').values({ id, v: 'decision' }).execute();
      decisions += 1;
      await withLazySync(() =>
        db
          .insertInto('items')
          .values({ id: id + 1, v: 'result' })
          .execute(),
      );
      await new Promise((r) => setTimeout(r, 3));
    }
    assert.equal(raw.stats.syncs - asked, decisions, 'one sync per decision, none of a result’s own');
    await new Promise((r) => setTimeout(r, SYNC_LATER_MS * 3));
    assert.equal(raw.stats.syncs - asked, decisions + 1, 'the last result synced on its own once calls stop');
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed WAL sync refuses that write and every later one, and is reported once as fatal', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-sqlite-'));
  let failing = false;
  const fatal: Error[] = [];
  const raw = openNodeSqlite(join(dir, 'x.db'), {
    onFatal: (err) => fatal.push(err),
    // An I/O error from the disk, as fdatasync reports it.
    fdatasync: (fd, cb) =>
      failing
        ? cb(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))
        : fdatasync(fd, cb),
  });
  const db = new Kysely<T>({ dialect: new DurableSqliteDialect(raw) });
  try {
    await sql`create table items (id integer primary key, v text not null)`.execute(db);
    await db.insertInto('items').values({ id: 1, v: 'a' }).execute();
    failing = true;
    await assert.rejects(
      db.insertInto('items').values({ id: 2, v: 'b' }).execute(),
      /could not be made durable/,
    );
    failing = false;
    // The disk "recovered", but pages may have been dropped: nothing is acknowledged again.
    await assert.rejects(
      db.insertInto('items').values({ id: 3, v: 'c' }).execute(),
      /could not be made durable/,
    );
    assert.equal(fatal.length, 1);
    assert.match(fatal[0]!.message, /EIO/);
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the database, its WAL and shared-memory files are readable by their owner only, new or left 0644', async () => {
  // The usual umask would leave new files 0644: the store must not rely on the caller's umask.
  const umask = process.umask(0o022);
  const home = mkdtempSync(join(tmpdir(), 'paddock-modes-'));
  const files = ['paddock.db', 'paddock.db-wal', 'paddock.db-shm'].map((f) => join(home, f));
  const modes = () => files.map((f) => (statSync(f).mode & 0o777).toString(8));
  const openAndWrite = async (id: string) => {
    const store = await openStore({ home });
    try {
      await store.db.insertInto('orgs').values(orgRow(id)).execute();
      return modes();
    } finally {
      await store.close();
    }
  };
  try {
    assert.deepEqual(await openAndWrite('org_modes'), ['600', '600', '600']);
    // An older install's files (made under that umask) are narrowed when the store opens.
    await openAndWrite('org_modes2');
    for (const f of files) if (existsSync(f)) chmodSync(f, 0o644);
    assert.deepEqual(await openAndWrite('org_modes3'), ['600', '600', '600']);
  } finally {
    process.umask(umask);
    rmSync(home, { recursive: true, force: true });
  }
});

function orgRow(id: string) {
  return {
    id,
    slug: id.replace('_', '-'),
    name: id,
    settings: '{}',
    created_at: new Date().toISOString(),
    agents_stopped_at: null,
    agents_stopped_by: null,
  };
}
