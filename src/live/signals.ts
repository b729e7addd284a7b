/**
 * "Something happened in this org, look again": a hint sent once an org's audit log grew (every
 * change, decision, stop, tool call and cell event is on record, so the log is the one place that
 * hears them all), and heard by every replica. On PostgreSQL it is NOTIFY/LISTEN and crosses
 * replicas; the embedded store delivers in this process. Like every notification it carries no
 * data: a listener reads the database again.
 *
 * Sending is throttled per org (the first at once, then at most one a window), so a busy org
 * costs a notification a window however many calls it makes.
 */
import { notify, type Store } from '../store/index.ts';

export const LIVE_CHANNEL = 'paddock_live';

/** The throttle window: an org's hint goes out at once, then at most once per window. */
const WINDOW_MS = 250;

type Listener = () => void;

export class LiveSignals {
  readonly #store: Store;
  readonly #listeners = new Map<string, Set<Listener>>();
  /** Orgs inside a throttle window, and whether another hint is owed at its end. */
  readonly #windows = new Map<string, { owed: boolean; timer: NodeJS.Timeout }>();
  #stopListening: (() => Promise<void>) | undefined;
  #closed = false;

  constructor(store: Store) {
    this.#store = store;
  }

  /** The audit trail's `onCommitted`: these logs (an org's log id is its org id) grew. */
  grew(logIds: string[]): void {
    for (const orgId of logIds) this.#send(orgId);
  }

  #send(orgId: string): void {
    if (this.#closed) return;
    const window = this.#windows.get(orgId);
    if (window) {
      window.owed = true;
      return;
    }
    void notify(this.#store.db, LIVE_CHANNEL, orgId).catch(() => undefined);
    const timer = setTimeout(() => {
      const w = this.#windows.get(orgId);
      this.#windows.delete(orgId);
      if (w?.owed) this.#send(orgId);
    }, WINDOW_MS);
    timer.unref();
    this.#windows.set(orgId, { owed: false, timer });
  }

  /**
   * Calls `fn` when the org's log grew, on any replica, and also when some hints may have been
   * missed (a listener reconnected). Listening starts with the first subscriber.
   */
  subscribe(orgId: string, fn: Listener): () => void {
    if (!this.#stopListening && !this.#closed)
      this.#stopListening = this.#store.listen(LIVE_CHANNEL, (payload) => this.#deliver(payload));
    const set = this.#listeners.get(orgId) ?? new Set();
    this.#listeners.set(orgId, set);
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.#listeners.delete(orgId);
    };
  }

  #deliver(orgId?: string): void {
    const targets = orgId === undefined ? [...this.#listeners.values()] : [this.#listeners.get(orgId)];
    for (const set of targets) for (const fn of set ?? []) fn();
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#windows.values()) clearTimeout(w.timer);
    this.#windows.clear();
    this.#listeners.clear();
    await this.#stopListening?.();
  }
}
