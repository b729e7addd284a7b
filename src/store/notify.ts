/**
 * Notifications that travel with a transaction: sent inside it with `notify`, delivered to the
 * store's `listen`ers only once it has committed (embedded: once the commit is durable), never
 * if it rolls back. On PostgreSQL this is NOTIFY/LISTEN and reaches every process on the
 * database; the embedded store defines `pg_notify` on its connection, so the same statement
 * serves both, and delivers in this process only.
 *
 * A notification is a hint to look at the database again, never the data itself: a listener
 * may also be called with no payload, meaning some may have been missed (it began listening,
 * or listens again after a lost connection), and a process that did not send one (another
 * replica, a CLI command on the embedded store) is heard late or not at all.
 */
import { sql } from 'kysely';
import type { Db } from './types.ts';

/** Called with the payload of each notification, or with none when some may have been missed. */
export type OnNotify = (payload?: string) => void;

/** A channel is a plain lower-case identifier (it is written into `LISTEN` as is). */
export function assertChannel(channel: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new Error(`bad notification channel "${channel}"`);
}

/**
 * Sends `payload` on `channel` when the transaction `db` belongs to commits (at once outside one).
 *
 * @example
 *   await db.transaction().execute(async (trx) => {
 *     await trx.insertInto('audit_outbox').values(row).execute();
 *     await notify(trx, 'paddock_audit', row.log_id);
 *   });
 */
export async function notify(db: Db, channel: string, payload: string): Promise<void> {
  assertChannel(channel);
  await sql`select pg_notify(${channel}, ${payload})`.execute(db);
}

/** Calls each listener of `channel`; one that throws does not stop the others (nor the commit). */
export function deliver(listeners: Map<string, Set<OnNotify>>, channel: string, payload?: string): void {
  for (const fn of listeners.get(channel) ?? []) {
    try {
      fn(payload);
    } catch (err) {
      process.emitWarning(`a listener of "${channel}" failed: ${(err as Error).message}`);
    }
  }
}
