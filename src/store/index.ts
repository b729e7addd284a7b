/**
 * The store: one schema and one typed query layer (Kysely) over embedded SQLite (default, in
 * `$PADDOCK_HOME/paddock.db`) or PostgreSQL (when a `DATABASE_URL` is given).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { FileSyncOptions } from './file-sync.ts';
import { migrationProvider } from './migrations/index.ts';
import {
  DurableSqliteDialect,
  openNodeSqlite,
  readsNowOn,
  withLazySync,
  withSyncElsewhere,
  withSyncNow,
} from './node-sqlite.ts';
import type { OnNotify } from './notify.ts';
import { storableParameters } from './nul.ts';
import { pgListen } from './pg-listen.ts';
import type { Database } from './schema.ts';
import type { Dialect } from './types.ts';

export { isUniqueViolation, orConflict } from './errors.ts';
export { committed } from './node-sqlite.ts';
export { notify, type OnNotify } from './notify.ts';
export { storableText } from './nul.ts';
export { precompiled } from './precompiled.ts';
export type { Database, Role } from './schema.ts';
export type { OrgScope } from './scope.ts';
export { DataFolderInUseError, holdDataFolder } from './server-lock.ts';
export type { Db, Dialect } from './types.ts';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Human description without credentials, for start-up messages. */
  describe: string;
  /**
   * Calls `onNotify` for each `notify(…, channel, payload)` whose transaction has committed (see
   * `notify.ts`: PostgreSQL hears every process on the database, the embedded store this one),
   * and with no payload when some may have been missed. Returns the way to stop.
   */
  listen(channel: string, onNotify: OnNotify): () => Promise<void>;
  /**
   * After a deletion on request: leaves no copy of the deleted rows in the database's own files.
   * SQLite zeroes deleted content as it goes (`secure_delete`); this empties the WAL, which still
   * holds the pages as they were. PostgreSQL keeps that to its own WAL recycling and vacuum
   * (docs/memory.md says so): nothing to do here.
   */
  purge(): Promise<void>;
  /**
   * Runs `fn`; its commits are handed back once written (they survive the process being killed)
   * and made durable by a sync soon after, shared with other commits (embedded store: see
   * `node-sqlite.ts`; PostgreSQL: once committed, as always).
   */
  withLazySync<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Embedded store only: runs `fn` synchronously in one write transaction on the raw connection,
   * for hot paths that use prepared statements instead of the query builder. It holds the
   * store's one connection meanwhile, and resolves as a transaction of `db` does: once durable,
   * or once written inside `withLazySync`.
   */
  rawTransaction?<T>(fn: (db: DatabaseSync) => T): Promise<T>;
  /**
   * Embedded store only: runs `fn`; its commits are not synced at all, their records being
   * durable in the audit journal until `sync` covers them (see `node-sqlite.ts`).
   */
  withSyncElsewhere?<T>(fn: () => Promise<T>): Promise<T>;
  /** Embedded store only: runs `fn` with its commits synced as they return, even inside `withLazySync`. */
  withSyncNow?<T>(fn: () => Promise<T>): Promise<T>;
  /** Embedded store only: makes every commit so far durable (one WAL fdatasync). */
  sync?(): Promise<void>;
  /** Embedded store only: makes every commit made inside `withLazySync` so far durable (a sync only if one waits). */
  syncLazy?(): Promise<void>;
  /** Embedded store only: the file where the audit writer journals records before placing them (`audit/journal.ts`). */
  auditJournal?: string;
  /** Embedded store only: told when the audit journal cannot be synced (as `onFatal`). */
  journalSync?: FileSyncOptions;
  /** Embedded store, for benchmarks: WAL fdatasyncs made so far, and checkpoints (each syncs the WAL and the file). */
  syncStats?: () => { fdatasyncs: number; checkpoints: number };
  close(): Promise<void>;
}

export interface StoreOptions {
  home: string;
  databaseUrl?: string | undefined;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  /** Embedded store: told when commits can no longer be made durable (see `SqliteOptions`). */
  onFatal?: (err: Error) => void;
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  const store = opts.databaseUrl ? openPostgres(opts.databaseUrl) : openSqlite(opts.home, opts.onFatal);
  if (opts.migrate !== false) {
    try {
      await migrate(store);
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}

function openSqlite(home: string, onFatal?: (err: Error) => void): Store {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const file = join(home, 'paddock.db');
  const database = openNodeSqlite(file, onFatal ? { onFatal } : {});
  const db = new Kysely<Database>({ dialect: new DurableSqliteDialect(database) });
  readsNowOn(db, database);
  return {
    db,
    dialect: 'sqlite',
    describe: `SQLite at ${file}`,
    listen: (channel, onNotify) => database.listen(channel, onNotify),
    purge: () => emptyWal(db),
    withLazySync,
    withSyncElsewhere,
    withSyncNow,
    sync: () => database.sync(),
    syncLazy: () => database.syncLazy(),
    rawTransaction: (fn) => db.connection().execute(async () => database.transact(fn)),
    auditJournal: join(home, 'audit-journal.jsonl'),
    journalSync: onFatal ? { onFatal } : {},
    syncStats: () => ({ fdatasyncs: database.stats.fdatasyncs, checkpoints: database.stats.checkpoints }),
    close: () => db.destroy(),
  };
}

/**
 * Copies the WAL into the database file and truncates it (the old page images it held are gone),
 * fully synced first; on the store's one connection, so no transaction is open meanwhile. Retried
 * while the checkpoint worker holds the WAL.
 */
async function emptyWal(db: Kysely<Database>): Promise<void> {
  await db.connection().execute(async (c) => {
    await sql`PRAGMA synchronous = FULL`.execute(c);
    try {
      for (let tries = 0; ; tries++) {
        const r = await sql<{ busy: number }>`PRAGMA wal_checkpoint(TRUNCATE)`.execute(c);
        if (Number(r.rows[0]?.busy ?? 0) === 0) return;
        if (tries >= 50) throw new Error('the WAL could not be emptied: the database stayed busy');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await sql`PRAGMA synchronous = NORMAL`.execute(c);
    }
  });
}

function openPostgres(url: string): Store {
  // int8 (bigserial, count) as JS numbers: our sequences stay far below 2^53.
  pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle connection the server closed (restart, failover) is dropped by the pool and the
  // next query reconnects; without a listener the process would crash on it.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool,
      // NUL in a string parameter would fail the write: stored as U+FFFD instead (nul.ts).
      onCreateConnection: async (connection) => {
        const run = connection.executeQuery.bind(connection);
        connection.executeQuery = (query) => {
          const parameters = storableParameters(query.parameters);
          return run(parameters === query.parameters ? query : ({ ...query, parameters } as typeof query));
        };
      },
    }),
  });
  const u = new URL(url);
  // A listener left open would keep the process alive: closing the store ends them all.
  const listening = new Set<() => Promise<void>>();
  return {
    db,
    dialect: 'postgres',
    describe: `PostgreSQL at ${u.hostname}:${u.port || 5432}${u.pathname}`,
    withLazySync: (fn) => fn(),
    listen: (channel, onNotify) => {
      const stop = pgListen(url, channel, onNotify);
      const stopOnce = async () => {
        listening.delete(stopOnce);
        await stop();
      };
      listening.add(stopOnce);
      return stopOnce;
    },
    purge: async () => undefined,
    close: async () => {
      await Promise.all([...listening].map((stop) => stop()));
      await db.destroy();
    },
  };
}

export async function migrate(store: Store): Promise<string[]> {
  const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
