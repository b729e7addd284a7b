/**
 * A session's stream events, kept where every replica reads them (PostgreSQL), so a client that
 * lost its stream on one replica can resume it with `Last-Event-ID` on another. Each replica
 * writes what its copy of the session sent, in batches off the request's path (a resume comes
 * a second or more after the loss, as clients wait before reconnecting), sealed with the session
 * key (only holders of the session id can read them), bounded like the memory copy (`KEEP` per
 * session and replica, `KEEP_MS` old), and scoped to the org and the session.
 *
 * @example
 *   const shared = new SharedEvents(db, log, replica);
 *   const events = new SessionEvents(start, (e) => shared.keep(session, e));
 *   const found = await shared.after(session, lastEventId); // on another replica
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../log/index.ts';
import type { Db } from '../../store/index.ts';
import { openSealed, seal } from '../../vault/index.ts';
import { KEEP, KEEP_MS, type StoredEvent } from './events.ts';
import type { AnswerSession } from './passed-answers.ts';

/** How long events wait before they are written, at most (they go in one insert). */
const BATCH_MS = 25;

/** A replica's standalone (GET) stream id in the SDK's transport. */
export const GET_STREAM = '_GET_stream';

/** What a resume on this replica can replay of a stream another replica sent. */
export interface Foreign {
  /** The stream's id on the replica that sent it; `GET_STREAM` for a session's GET stream. */
  streamId: string;
  /** Its events after the client's last one, in order. */
  events: Array<{ id: string; message: JSONRPCMessage }>;
}

const aad = (s: AnswerSession, seq: number) => `mcp_session_events|${s.orgId}|${s.idHash}|${seq}`;

export class SharedEvents {
  readonly #db: Db;
  readonly #log: Logger;
  readonly #replica: string;
  #queue: Array<{ session: AnswerSession; e: StoredEvent; at: string }> = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(db: Db, log: Logger, replica: string) {
    this.#db = db;
    this.#log = log;
    this.#replica = replica;
  }

  /** Keeps an event this replica stored for the session (written within `BATCH_MS`). */
  keep(session: AnswerSession, e: StoredEvent): void {
    this.#queue.push({ session, e, at: new Date().toISOString() });
    this.#timer ??= setTimeout(() => void this.flush(), BATCH_MS);
  }

  /** Writes what waits (tests, and closing). */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue;
    this.#queue = [];
    this.#writing = this.#writing.then(() => this.#write(batch));
    await this.#writing;
  }

  async #write(batch: Array<{ session: AnswerSession; e: StoredEvent; at: string }>): Promise<void> {
    if (batch.length === 0) return;
    // An event this replica's memory did not keep (larger than its whole budget) is not kept here either.
    const kept = batch.filter(({ e }) => e.seq >= e.oldest);
    try {
      if (kept.length)
        await this.#db
          .insertInto('mcp_session_events')
          .values(
            kept.map(({ session, e, at }) => ({
              session_hash: session.idHash,
              seq: e.seq,
              org_id: session.orgId,
              replica: this.#replica,
              stream_id: e.streamId,
              sealed: seal(session.key, Buffer.from(JSON.stringify(e.message)), aad(session, e.seq)),
              created_at: at,
            })),
          )
          .onConflict((oc) => oc.doNothing())
          .execute();
      // As in memory: what this replica's copy of the session still keeps (`KEEP` events, `KEEP_BYTES`).
      const oldest = new Map<string, number>();
      for (const { session, e } of batch)
        oldest.set(session.idHash, Math.max(oldest.get(session.idHash) ?? 0, e.oldest));
      for (const [idHash, seq] of oldest)
        await this.#db
          .deleteFrom('mcp_session_events')
          .where('session_hash', '=', idHash)
          .where('replica', '=', this.#replica)
          .where('seq', '<', seq)
          .execute();
    } catch (err) {
      this.#log.warn({ err }, 'could not keep MCP stream events for other replicas');
    }
  }

  /**
   * The stream `lastEventId` belongs to, if another replica sent it and still keeps it, with its
   * events after that one (priming events left out); undefined otherwise.
   */
  async after(session: AnswerSession, lastEventId: string): Promise<Foreign | undefined> {
    const seq = Number(lastEventId);
    const last = await this.#db
      .selectFrom('mcp_session_events')
      .select(['replica', 'stream_id', 'created_at'])
      .where('session_hash', '=', session.idHash)
      .where('org_id', '=', session.orgId)
      .where('seq', '=', seq)
      .executeTakeFirst();
    if (!last) return undefined;
    if (Date.now() - Date.parse(last.created_at) > KEEP_MS) return undefined;
    const rows = await this.#db
      .selectFrom('mcp_session_events')
      .select(['seq', 'sealed'])
      .where('session_hash', '=', session.idHash)
      .where('org_id', '=', session.orgId)
      .where('replica', '=', last.replica)
      .where('stream_id', '=', last.stream_id)
      .where('seq', '>', seq)
      .orderBy('seq')
      .limit(KEEP)
      .execute();
    const events: Foreign['events'] = [];
    for (const r of rows) {
      let message: JSONRPCMessage;
      try {
        message = JSON.parse(
          openSealed(session.key, r.sealed, aad(session, r.seq)).toString(),
        ) as JSONRPCMessage;
      } catch {
        return undefined; // not sealed with this session's key: not this session's to read
      }
      if ('jsonrpc' in message) events.push({ id: String(r.seq), message });
    }
    return { streamId: last.stream_id, events };
  }

  /** Forgets events older than `KEEP_MS` (any replica may). */
  async expire(now = Date.now()): Promise<void> {
    await this.#db
      .deleteFrom('mcp_session_events')
      .where('created_at', '<', new Date(now - KEEP_MS).toISOString())
      .execute();
  }

  /** Forgets a session's events (it ended). */
  async forget(idHash: string): Promise<void> {
    await this.#db.deleteFrom('mcp_session_events').where('session_hash', '=', idHash).execute();
  }
}
