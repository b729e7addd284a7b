/**
 * The kill switch across server replicas. The stopped state is in the database, so every
 * replica's next call is refused; this bus also tells every replica to end the calls it has in
 * flight for that agent (or org) at once. On PostgreSQL it is LISTEN/NOTIFY; the embedded
 * SQLite store runs one server process, so there it has nothing to do.
 */
import { sql } from 'kysely';
import pg from 'pg';
import type { Logger } from '../log/index.ts';
import type { Store } from '../store/index.ts';

const CHANNEL = 'paddock_stop';

export interface StopBus {
  /** Tells every replica (this one included) to end the agent's, or the whole org's, calls. */
  publish(orgId: string, agentId: string | null): Promise<void>;
  close(): Promise<void>;
}

type OnStop = (orgId: string, agentId: string | null) => void;

export function stopBus(store: Store, databaseUrl: string | undefined, onStop: OnStop, log: Logger): StopBus {
  if (store.dialect !== 'postgres' || !databaseUrl) {
    return { publish: async () => undefined, close: async () => undefined };
  }
  let client: pg.Client | undefined;
  let closed = false;
  let retryMs = 100;
  const listen = async () => {
    const c = new pg.Client({ connectionString: databaseUrl });
    c.on('notification', (n) => {
      try {
        const { orgId, agentId } = JSON.parse(n.payload ?? '{}') as { orgId: string; agentId: string | null };
        onStop(orgId, agentId ?? null);
      } catch (err) {
        log.warn({ err }, 'malformed stop notification ignored');
      }
    });
    // A lost listener reconnects with backoff; meanwhile the database state still refuses new calls.
    c.on('error', (err) => {
      log.warn({ err }, 'stop listener lost; reconnecting');
      client = undefined;
      void c.end().catch(() => undefined);
      if (!closed) setTimeout(() => void listen(), retryMs).unref();
      retryMs = Math.min(retryMs * 2, 10_000);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANNEL}`);
      client = c;
      retryMs = 100;
      if (closed) await c.end();
    } catch (err) {
      c.emit('error', err);
    }
  };
  const ready = listen();
  return {
    async publish(orgId, agentId) {
      await sql`select pg_notify(${CHANNEL}, ${JSON.stringify({ orgId, agentId })})`.execute(store.db);
    },
    async close() {
      closed = true;
      await ready;
      await client?.end().catch(() => undefined);
    },
  };
}
