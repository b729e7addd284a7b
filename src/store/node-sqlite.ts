/**
 * Adapts `node:sqlite` (Node's built-in SQLite) to Kysely, so the embedded store needs no native
 * addon, and makes commits durable without blocking the event loop.
 *
 * `node:sqlite` is synchronous: with `synchronous=FULL` every commit's fsync (0.1–1 ms, more on
 * slow disks) would stall every request, MCP pipe and timer of the process. Instead SQLite
 * commits to the WAL without syncing, and the WAL is then fdatasync'd on libuv's thread pool
 * (one sync covering every commit before it); the query or transaction that wrote resolves only
 * after that sync. Checkpoints, which copy the WAL into the database file, run with full syncs
 * on their own connection in a worker thread (`checkpointer.ts`).
 *
 * A commit made inside `withLazySync` is handed back once written, without waiting for its sync:
 * written to the WAL, it survives the process being killed (the kernel keeps the page cache),
 * and the next sync, at most `SYNC_LATER_MS` later, makes it durable against power loss too.
 *
 * Because it knows when a commit is durable, it also delivers notifications (`notify.ts`): the
 * connection defines `pg_notify(channel, payload)`, which holds them until the transaction
 * commits and its sync is done, and drops them if it rolls back.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  SqliteAdapter,
  type SqliteDatabase,
  SqliteDialect,
  SqliteDriver,
  type SqliteStatement,
} from 'kysely';
import { FileSync, type FileSyncOptions } from './file-sync.ts';
import { deliver, type OnNotify } from './notify.ts';
import { storableText } from './nul.ts';

export { SYNC_LATER_MS } from './file-sync.ts';

/** How commits made inside `withLazySync` / `withSyncElsewhere` are synced. */
const lazy = new AsyncLocalStorage<'later' | 'elsewhere'>();

/**
 * Runs `fn`; what it commits is handed back once written, not once synced (see the header).
 * For records no one waits on to be durable: they survive a kill -9 when this resolves.
 */
export function withLazySync<T>(fn: () => Promise<T>): Promise<T> {
  return lazy.run('later', fn);
}

/**
 * Runs `fn`; what it commits is not synced at all, because it is already durable elsewhere (the
 * audit journal, synced, which keeps its records until a sync of the database covers them: see
 * `sync`). A later sync, or a checkpoint, makes it durable here.
 */
export function withSyncElsewhere<T>(fn: () => Promise<T>): Promise<T> {
  return lazy.run('elsewhere', fn);
}

/**
 * Runs `fn` with its commits synced before they are handed back, whatever context it was called
 * from: the audit writer's batches are woken by whoever appends, maybe inside `withLazySync`.
 */
export function withSyncNow<T>(fn: () => Promise<T>): Promise<T> {
  return lazy.exit(fn);
}

function bindable(parameters: ReadonlyArray<unknown>): SQLInputValue[] {
  // node:sqlite binds no booleans or Dates; store them the way the schema expects.
  return parameters.map((p) => {
    if (typeof p === 'boolean') return p ? 1 : 0;
    if (p instanceof Date) return p.toISOString();
    if (p === undefined) return null;
    // As on PostgreSQL, which cannot store NUL (nul.ts).
    if (typeof p === 'string') return storableText(p);
    return p as SQLInputValue;
  });
}

/** A statement that reads alone: one that begins with SELECT (or PRAGMA, EXPLAIN, VALUES), or a WITH naming no write. */
function readsOnly(sql: string): boolean {
  if (/^\s*(select|pragma|explain|values)\b/i.test(sql)) return true;
  return /^\s*with\b/i.test(sql) && !/\b(insert|update|delete|replace)\b/i.test(sql);
}

class Statement implements SqliteStatement {
  readonly reader: boolean;
  readonly #stmt: StatementSync;
  readonly #wrote: () => void;
  /** It returns rows yet writes (`… RETURNING`): counted as a write, as `run`'s are, so it is synced and seen. */
  readonly #writesRows: boolean;
  constructor(stmt: StatementSync, wrote: () => void) {
    this.#stmt = stmt;
    this.#wrote = wrote;
    this.reader = stmt.columns().length > 0;
    this.#writesRows = this.reader && !readsOnly(stmt.sourceSQL);
  }
  all(parameters: ReadonlyArray<unknown>): unknown[] {
    const rows = this.#stmt.all(...bindable(parameters));
    if (this.#writesRows) this.#wrote();
    return rows;
  }
  run(parameters: ReadonlyArray<unknown>) {
    const r = this.#stmt.run(...bindable(parameters));
    this.#wrote();
    return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
  }
  iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    const rows = this.#stmt.iterate(...bindable(parameters)) as IterableIterator<unknown>;
    if (this.#writesRows) this.#wrote();
    return rows;
  }
}

export interface DurableSqlite extends SqliteDatabase {
  raw: DatabaseSync;
  /**
   * Runs `fn` synchronously inside `BEGIN IMMEDIATE` … `COMMIT` on the raw connection (rolled
   * back if it throws), the commit counted as a write to sync. The caller holds the connection.
   */
  transact<T>(fn: (db: DatabaseSync) => T): T;
  /** Whether a write committed since the last call (and so needs a sync). */
  takeUnsynced(): boolean;
  sync(): Promise<void>;
  /** A sync within `SYNC_LATER_MS`, unless one that starts meanwhile covers what is written now. */
  syncSoon(): void;
  /** Resolves once every lazily synced commit so far is durable (a sync only if one is waiting). */
  syncLazy(): Promise<void>;
  /** Asks the checkpoint worker to copy the WAL into the database file (every few hundred commits). */
  maybeCheckpoint(): void;
  /** Notifications sent since the last call (by `pg_notify`), or by the transaction now rolling back. */
  takeSent(): Sent[];
  /** Hands notifications whose transaction is committed, and durable, to their listeners. */
  deliver(sent: Sent[]): void;
  listen(channel: string, onNotify: OnNotify): () => Promise<void>;
  /** Counts, for tests and benchmarks: syncs asked for, fdatasyncs made (one serves many asks), checkpoints. */
  readonly stats: { syncs: number; fdatasyncs: number; checkpoints: number };
  /** Moves with every commit on this connection (`committed`). */
  readonly generation: number;
}

/**
 * Commits between checkpoints. Each checkpoint syncs twice (the WAL, the database file): every
 * 500 commits, with the writer's catch-up copy, is 0.008 syncs per commit, with a WAL of ~25–40 MB
 * (commits of ~12 pages each), and pages written many times in between are copied once.
 */
export const CHECKPOINT_EVERY = 500;
/**
 * The WAL file's size kept between rounds (SQLite truncates it to this when it starts over):
 * above what one round of checkpointing writes, so commits overwrite it rather than grow it — a
 * sync of a file that grew also writes its inode (on this ext4, ~25 µs more CPU and ~80 µs more
 * wait per commit).
 */
const WAL_KEPT_BYTES = 64 * 1024 * 1024;

type Sent = { channel: string; payload: string };

/** Opens a SQLite file in WAL mode; commits are made durable by `DurableSqliteDialect`. */
export type SqliteOptions = FileSyncOptions;

/**
 * The database holds every org's data: its files are readable by their owner only. The main file
 * is made 0600 before SQLite opens it (an empty file is an empty database), and SQLite gives its
 * -wal and -shm files the main file's mode; files left by an older install are narrowed too.
 */
function ownerOnly(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}

export function openNodeSqlite(path: string, opts: SqliteOptions = {}): DurableSqlite {
  ownerOnly(path);
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  // The WAL is synced by a FileSync after each commit; checkpoints run below with synchronous=FULL.
  // NORMAL, not OFF: a commit still syncs nothing, but a WAL that starts over has its new header
  // synced before frames overwrite the old ones — without it a power cut can leave the old header
  // and a prefix of the old frames, replayed over a database file that holds later pages.
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA wal_autocheckpoint = 0');
  db.exec(`PRAGMA journal_size_limit = ${WAL_KEPT_BYTES}`);
  db.exec('PRAGMA foreign_keys = ON');
  db.exec('PRAGMA busy_timeout = 5000');
  // Deleted content is overwritten with zeros, so a deletion on request leaves no copy in the file.
  db.exec('PRAGMA secure_delete = ON');
  const wal = new FileSync(`${path}-wal`, 'the database log', opts);
  const stats = {
    syncs: 0,
    get fdatasyncs() {
      return wal.made;
    },
    checkpoints: 0,
  };
  // Checkpoints (WAL → database file, fully synced) run on their own connection in a worker;
  // a worker that dies is replaced, or the WAL would grow without end.
  let checkpointing = false;
  /** The worker's checkpoint is done: the few commits made meanwhile are to be copied here. */
  let catchUp = false;
  let closing = false;
  let checkpointer: Worker;
  let alive = false;
  const startCheckpointer = () => {
    checkpointing = false;
    alive = true;
    checkpointer = new Worker(new URL('./checkpointer.ts', import.meta.url), { workerData: { path } });
    checkpointer.unref();
    checkpointer.on('message', (m: { ok: boolean; error?: string }) => {
      checkpointing = false;
      catchUp = m.ok;
      if (m.ok) stats.checkpoints += 1;
      else process.emitWarning(`SQLite checkpoint failed: ${m.error}`);
    });
    checkpointer.on('error', (err) => process.emitWarning(`SQLite checkpoint worker failed: ${err.message}`));
    checkpointer.on('exit', () => {
      checkpointing = false;
      alive = false;
      // Replaced after a pause, and only while the database is still there (no restart loop).
      if (!closing) setTimeout(() => !closing && existsSync(path) && startCheckpointer(), 1000).unref();
    });
  };
  startCheckpointer();
  let unsynced = false;
  let commits = 0;
  let generation = 0;
  // A write outside a transaction, or a COMMIT, has made something that must reach the disk.
  const wrote = () => {
    if (!db.isTransaction) {
      unsynced = true;
      commits += 1;
      generation += 1;
    }
  };
  // Notifications wait here for their transaction's outcome; repeats are sent once (as PostgreSQL does).
  let sent: Sent[] = [];
  db.function('pg_notify', { deterministic: false }, (channel, payload) => {
    const note = { channel: String(channel), payload: String(payload) };
    if (!sent.some((s) => s.channel === note.channel && s.payload === note.payload)) sent.push(note);
    return null;
  });
  const listeners = new Map<string, Set<OnNotify>>();
  // Kysely prepares every query anew; reusing prepared statements saves most of a lookup's cost.
  const cache = new Map<string, Statement>();
  return {
    raw: db,
    get generation() {
      return generation;
    },
    transact: (fn) => {
      db.exec('BEGIN IMMEDIATE');
      let out: ReturnType<typeof fn>;
      try {
        out = fn(db);
      } catch (err) {
        if (db.isTransaction) db.exec('ROLLBACK');
        sent = [];
        throw err;
      }
      db.exec('COMMIT');
      wrote();
      return out;
    },
    close: () => {
      cache.clear();
      closing = true;
      checkpointer.postMessage('close');
      // A last full checkpoint (on close) leaves the database file complete on its own.
      db.exec('PRAGMA synchronous = FULL');
      void wal.close();
      db.close();
    },
    prepare: (sql: string) => {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = new Statement(db.prepare(sql), wrote);
        if (cache.size >= 500) cache.delete(cache.keys().next().value!);
        cache.set(sql, stmt);
      }
      return stmt;
    },
    takeUnsynced: () => {
      const was = unsynced;
      unsynced = false;
      return was;
    },
    sync: () => {
      stats.syncs += 1;
      return wal.sync();
    },
    syncSoon: () =>
      wal.syncSoon(() => {
        stats.syncs += 1;
      }),
    syncLazy: () => wal.settled(),
    stats,
    takeSent: () => {
      const was = sent;
      sent = [];
      return was;
    },
    deliver: (notes) => {
      for (const n of notes) deliver(listeners, n.channel, n.payload);
    },
    listen: (channel, onNotify) => {
      const set = listeners.get(channel) ?? new Set();
      listeners.set(channel, set.add(onNotify));
      return async () => {
        set.delete(onNotify);
      };
    },
    maybeCheckpoint: () => {
      // SQLite starts the WAL over only at a write that finds it wholly copied, which the worker,
      // copying while commits go on, never leaves it: without this the WAL grows without end. The
      // commits since its copy began are copied here, between transactions (a few pages, synced
      // as the worker syncs), so the next transaction writes the WAL from its start.
      // A copy that fails (the disk full) is a warning, as the worker's is: the commit this follows
      // stands, and the caller's connection must still be handed back.
      if (catchUp && !db.isTransaction) {
        catchUp = false;
        db.exec('PRAGMA synchronous = FULL');
        try {
          db.exec('PRAGMA wal_checkpoint(PASSIVE)');
          stats.checkpoints += 1;
        } catch (err) {
          process.emitWarning(`SQLite checkpoint failed: ${(err as Error).message}`);
        } finally {
          db.exec('PRAGMA synchronous = NORMAL');
        }
      }
      if (commits < CHECKPOINT_EVERY || checkpointing || !alive) return;
      commits = 0;
      checkpointing = true;
      checkpointer.postMessage('checkpoint');
    },
  };
}

/** The embedded store's connection behind each of its query builder handles (`readNow`). */
const connections = new WeakMap<object, DurableSqlite>();

/** Makes `db` (the store's own handle, no plugins) one `readNow` may read through. */
export function readsNowOn(db: object, sqlite: DurableSqlite): void {
  connections.set(db, sqlite);
}

/**
 * Runs a read now, synchronously, on the embedded store's connection behind `db`, when no
 * transaction is open on it: it then sees committed data only, as a read through the query
 * builder does, without the promises of taking its turn for the connection (the agent token's
 * check on every MCP request). Undefined where that is not so (another
 * engine or handle, a transaction open): the caller goes the query builder's way.
 */
export function readNow(db: object, sql: string, parameters: ReadonlyArray<unknown>): unknown[] | undefined {
  const sqlite = connections.get(db);
  if (!sqlite || sqlite.raw.isTransaction) return undefined;
  return sqlite.prepare(sql).all(parameters);
}

/**
 * A mark that moves with every commit made through `db` (the embedded store's own handle; any
 * of its transactions too), or undefined for another engine or handle. What was read while it
 * stood still is what the database holds, as far as this process changed it (another process
 * writing the file, a CLI command, does not move it).
 */
export function committed(db: object): number | undefined {
  return connections.get(db)?.generation;
}

/** Kysely's SQLite driver, plus: a connection is handed back only once its writes are durable. */
class DurableSqliteDriver extends SqliteDriver {
  readonly #db: DurableSqlite;
  constructor(db: DurableSqlite) {
    super({ database: db });
    this.#db = db;
  }

  // Take the write lock at the start: a transaction that reads then writes cannot then fail with
  // SQLITE_BUSY because another process (a CLI command) wrote in between.
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    this.#db.takeSent();
    await super.rollbackTransaction(connection);
  }

  override async releaseConnection(): Promise<void> {
    const needsSync = this.#db.takeUnsynced();
    if (needsSync) this.#db.maybeCheckpoint();
    // Whatever was sent on this connection is committed now (a rollback took its own).
    const sent = this.#db.takeSent();
    // Others may use the connection while this caller waits for its sync.
    await super.releaseConnection();
    // Lazily synced only when it sent nothing: a notification is delivered once durable.
    const mode = sent.length === 0 ? lazy.getStore() : undefined;
    if (needsSync && mode === 'later') this.#db.syncSoon();
    else if (needsSync && mode !== 'elsewhere') await this.#db.sync();
    if (sent.length > 0) this.#db.deliver(sent);
  }
}

export class DurableSqliteDialect extends SqliteDialect {
  readonly #db: DurableSqlite;
  constructor(db: DurableSqlite) {
    super({ database: db });
    this.#db = db;
  }

  override createDriver(): Driver {
    return new DurableSqliteDriver(this.#db);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlAdapter();
  }
}

/**
 * SQLite's schema changes are transactional (Kysely's adapter says not, for safety across
 * drivers): each run of migrations then commits whole or not at all, so a kill mid-migration
 * leaves the database as it was, and the next start runs it again.
 */
class TransactionalDdlAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}
