/**
 * Ending sessions across server replicas: the kill switch (an agent, an org), a deleted
 * connection, a secret rotated, rescoped or deleted, agent tokens revoked (one, or every token a
 * removed person issued). The state is in the database, so every
 * replica's next call sees it; this bus also tells every replica to end what it has open or in
 * flight at once. On PostgreSQL it is LISTEN/NOTIFY; the embedded SQLite store runs one server
 * process, so there only the local gateway acts.
 */
import { sql } from 'kysely';
import pg from 'pg';
import type { Logger } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import type { StopTarget } from './kill-registry.ts';

const CHANNEL = 'paddock_stop';

/** A stop (its calls end and its sessions close), or a change that ends the sessions depending on it. */
export type SessionEvent =
  | StopTarget
  | { kind: 'connection'; orgId: string; connectionId: string }
  | { kind: 'secret'; orgId: string; secretId: string }
  /** A person's OAuth authorization ended: their sessions on per-person connections close. */
  | { kind: 'person-connection'; orgId: string; userId: string; connectionId?: string | undefined };

/**
 * How events cross between replicas when they must be sealed (stops: `sealedStops`): each sealed
 * as it is sent, opened and checked as it arrives; one that does not open is ignored.
 */
export interface BusWire<E> {
  seal(event: E): Promise<unknown>;
  /** The event, or undefined when it was not sealed by a replica (or is not one to act on). */
  open(sent: unknown): Promise<E | undefined>;
}

export interface StopBus<E extends { kind: string } = SessionEvent> {
  /** Acts on this replica (awaited), then tells every other replica. */
  publish(event: E): Promise<void>;
  /** Resolves once this replica listens (at once where there is nothing to listen to). */
  listening(): Promise<void>;
  /** Events received from other replicas, of them those ignored (not sealed, or malformed), and catch-ups after a lost listener (for tests). */
  readonly stats: { received: number; ignored: number; resyncs: number };
  close(): Promise<void>;
}

export interface StopBusOptions<E> {
  /**
   * Runs when a lost listener is back: events sent meanwhile never arrive, so the replica checks
   * what it has open against the database instead.
   */
  onResync?: () => Promise<void>;
  /** Another channel carries other events the same way (the MCP sessions' notifications, which seal their own content). */
  channel?: string;
  /** Events cross sealed, and only those that open are acted on (stops: `sealedStops`). */
  wire?: BusWire<E>;
}

export function stopBus<E extends { kind: string } = SessionEvent>(
  store: Store,
  databaseUrl: string | undefined,
  onEvent: (event: E) => Promise<void>,
  log: Logger,
  { onResync = async () => undefined, channel = CHANNEL, wire }: StopBusOptions<E> = {},
): StopBus<E> {
  const stats = { received: 0, ignored: 0, resyncs: 0 };
  if (store.dialect !== 'postgres' || !databaseUrl) {
    return {
      publish: (event) => onEvent(event),
      listening: async () => undefined,
      close: async () => undefined,
      stats,
    };
  }
  /** Ignored events on the log: the first few a minute each, then how many more (a flood writes no flood). */
  let warned = 0;
  let unwarned = 0;
  let minute: NodeJS.Timeout | undefined;
  const ignored = (why: string) => {
    stats.ignored += 1;
    if (!minute) {
      minute = setTimeout(() => {
        if (unwarned > 0)
          log.warn({ channel, ignored: unwarned }, 'more bus events were ignored this minute');
        minute = undefined;
        warned = 0;
        unwarned = 0;
      }, 60_000);
      minute.unref();
    }
    if (warned < 10) {
      warned += 1;
      log.warn({ channel }, why);
    } else unwarned += 1;
  };
  /** An event from another replica: acted on once it parses (and, with a wire, opens). */
  const receive = async (payload: string | undefined) => {
    let sent: unknown;
    try {
      sent = JSON.parse(payload ?? '{}');
    } catch {
      return ignored('a malformed bus event was ignored');
    }
    const event = wire ? await wire.open(sent) : (sent as E | null);
    if (event && typeof event === 'object' && event.kind) return onEvent(event);
    if (wire) ignored('a bus event not sealed by a replica, stale or seen before, was ignored');
    else stats.ignored += 1;
  };
  let client: pg.Client | undefined;
  let closed = false;
  let retryMs = 250;
  let lost = false;
  const listen = async () => {
    const c = new pg.Client({ connectionString: databaseUrl });
    c.on('notification', (n) => {
      stats.received += 1;
      void receive(n.payload).catch((err: unknown) => log.error({ err }, 'session event failed'));
    });
    // A lost listener reconnects with backoff; meanwhile the database state still refuses new calls.
    let dead = false;
    c.on('error', (err) => {
      if (dead) return; // one reconnect per lost client
      dead = true;
      log.warn({ err }, 'stop listener lost; reconnecting');
      lost = true;
      client = undefined;
      void c.end().catch(() => undefined);
      if (!closed) setTimeout(() => void listen(), retryMs).unref();
      retryMs = Math.min(retryMs * 2, 10_000);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
      client = c;
      retryMs = 250;
      if (closed) await c.end();
      else if (lost) {
        lost = false;
        stats.resyncs += 1;
        await onResync().catch((err: unknown) =>
          log.error({ err }, 'catching up after a lost listener failed'),
        );
      }
    } catch (err) {
      c.emit('error', err);
    }
  };
  const ready = listen();
  return {
    async publish(event) {
      await onEvent(event);
      const sent = wire ? await wire.seal(event) : event;
      await sql`select pg_notify(${channel}, ${JSON.stringify(sent)})`.execute(store.db);
    },
    async listening() {
      while (!client && !closed) await new Promise((r) => setTimeout(r, 20));
    },
    stats,
    async close() {
      closed = true;
      await ready;
      await client?.end().catch(() => undefined);
    },
  };
}
