/**
 * The events a session's SSE streams were sent, kept a short while so a client that lost a stream
 * can resume it with `Last-Event-ID` (Streamable HTTP resumability). In memory, per session, on
 * the replica that sent them: at most `KEEP` events, `KEEP_BYTES` in all and `KEEP_MS` old (on
 * PostgreSQL each is also handed to `onStored`, which keeps it for the other replicas). Event ids
 * are the session's own sequence numbers, from the copy's own random start (so each replica's ids
 * are its own), and say nothing about any other session.
 */
import type { EventStore } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** Events kept per session, at most. */
export const KEEP = 200;
/** How long an event can be replayed. */
export const KEEP_MS = 5 * 60_000;
/**
 * The size of the events kept per session, at most (as JSON): a tool's result may be megabytes,
 * and a person's agent may hold a hundred sessions on each replica; older ones go first.
 */
export const KEEP_BYTES = 1024 * 1024;

/** What a `Last-Event-ID` this endpoint gave looks like: a sequence number. */
export const EVENT_ID = /^[0-9]{1,15}$/;

interface Event {
  seq: number;
  streamId: string;
  message: JSONRPCMessage;
  at: number;
  size: number;
}

/** What `onStored` is told of each event. */
export interface StoredEvent {
  seq: number;
  streamId: string;
  message: JSONRPCMessage;
  /** The oldest event kept here after it was stored: those before it (it too, when larger) are gone. */
  oldest: number;
}

export class SessionEvents implements EventStore {
  readonly #events: Event[] = [];
  #seq: number;
  #bytes = 0;
  readonly #onStored: ((e: StoredEvent) => void) | undefined;

  /** Ids begin after `start`; `onStored` hears of every event as it is stored. */
  constructor(start = 0, onStored?: (e: StoredEvent) => void) {
    this.#seq = start;
    this.#onStored = onStored;
  }

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const now = Date.now();
    this.#seq += 1;
    const size = JSON.stringify(message)?.length ?? 0;
    this.#events.push({ seq: this.#seq, streamId, message, at: now, size });
    this.#bytes += size;
    // Only the oldest go (ids stay consecutive); one larger than the whole budget goes at once.
    while (
      this.#events[0] &&
      (this.#events.length > KEEP || this.#bytes > KEEP_BYTES || now - this.#events[0].at > KEEP_MS)
    )
      this.#bytes -= this.#events.shift()!.size;
    // The copy for other replicas is bounded as this one is (by size too).
    this.#onStored?.({ seq: this.#seq, streamId, message, oldest: this.#events[0]?.seq ?? this.#seq + 1 });
    return String(this.#seq);
  }

  /** The size of the events kept (as JSON). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Is `eventId` one this session can resume from here? */
  knows(eventId: string): boolean {
    return this.#find(eventId) !== undefined;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.#find(eventId)?.streamId;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const last = this.#find(lastEventId);
    if (!last) return '';
    // Priming events (no message) only gave the client a cursor.
    for (const e of this.#events)
      if (e.seq > last.seq && e.streamId === last.streamId && 'jsonrpc' in e.message)
        await send(String(e.seq), e.message);
    return last.streamId;
  }

  #find(eventId: string): Event | undefined {
    if (!EVENT_ID.test(eventId)) return undefined;
    const seq = Number(eventId);
    const first = this.#events[0];
    if (!first || seq < first.seq || seq > this.#seq) return undefined;
    return this.#events[seq - first.seq];
  }
}
