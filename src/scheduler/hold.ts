/**
 * One replica at a time. On PostgreSQL a run holds a session advisory lock on a connection of
 * its own, opened for the run and ended after it: ending the session is the release, so nothing
 * can leave the lock held. A holder that dies (process killed, connection cut) loses its session
 * and the lock with it, and the next replica to try takes the job over. A pooled connection
 * would go back to the pool still holding a session lock whenever an unlock was missed, and one
 * that dies while checked out and idle throws an unhandled error; hence a connection of our own.
 * On SQLite one process owns the database file, so holding is trivial (the scheduler still keeps
 * one run per job in flight).
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database, Store } from '../store/index.ts';

export type Held<T> = { held: true; value: T } | { held: false };

/** The run's lock connection died: the lock is gone, another replica may run the job now. */
export class JobLockLost extends Error {
  readonly code = 'job_lock_lost';
  constructor(job: string, cause: unknown) {
    super(`lost the lock of job ${job}: its database connection ended`, { cause });
    this.name = 'JobLockLost';
  }
  static isInstance(err: unknown): err is JobLockLost {
    return (err as { code?: unknown } | null)?.code === 'job_lock_lost';
  }
}

// The two-key form of advisory locks is a key space of its own, apart from the one-key locks of
// the audit writer; the first key says "a Paddock job".
const JOB_LOCKS = 0x7064_6a62;

/**
 * Runs `fn` if this replica gets the job's lock, else returns `{ held: false }` at once. `fn`
 * gets the database to work through (on PostgreSQL, the lock's own connection, so a run that
 * lost its lock cannot write) and a signal aborted if the lock is lost.
 */
export async function holdJob<T>(
  store: Store,
  databaseUrl: string | undefined,
  job: string,
  fn: (db: Kysely<Database>, lost: AbortSignal) => Promise<T>,
): Promise<Held<T>> {
  if (store.dialect !== 'postgres')
    return { held: true, value: await fn(store.db, new AbortController().signal) };
  if (!databaseUrl) throw new Error('job locks on PostgreSQL need the database URL');
  const lost = new AbortController();
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: `paddock job ${job}`.slice(0, 63),
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  });
  // Without a listener a dead connection's error would crash the process.
  client.on('error', (err) => lost.abort(new JobLockLost(job, err)));
  await client.connect();
  try {
    const r = await client.query<{ held: boolean }>('select pg_try_advisory_lock($1, hashtext($2)) as held', [
      JOB_LOCKS,
      job,
    ]);
    if (!r.rows[0]?.held) return { held: false };
    // One connection, so one statement or transaction at a time: `connection()` queues them.
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: onlyConnection(client) }) });
    return { held: true, value: await db.connection().execute((conn) => fn(conn, lost.signal)) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A "pool" that is one client, which Kysely never ends (the caller does). */
function onlyConnection(client: pg.Client) {
  const lease = Object.assign(client, { release: () => undefined });
  return { connect: async () => lease, end: async () => undefined };
}
