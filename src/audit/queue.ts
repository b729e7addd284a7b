/**
 * The queue, with group commit. `append` resolves once the event is durable: committed (SQLite:
 * the WAL fdatasync'd after the commit; PostgreSQL: its commit) with its place in its log's
 * tree, and not before. Every event that arrives while one batch commits goes into the next,
 * so one transaction (one fsync) serves many; one batch runs at a time, which makes this
 * process the single writer of the logs it sequences. With a journal (embedded store),
 * `appendDurable` is durable once journaled and synced, and placed later (`journal.ts`).
 */
import type { Logger } from '../log/index.ts';
import { type AuditInput, type PreparedEntry, prepareEntry } from './entry.ts';
import type { Integrated } from './integrate.ts';
import type { EntryJournal, LeftEntry } from './journal.ts';

export interface Receipt {
  id: string;
  log: string;
  index: number;
}

/** An entry written (journaled, or committed without its sync): its place in the log may come later. */
export type Written = Pick<Receipt, 'id' | 'log'> & { index?: number };

/**
 * How a batch's commit is synced: before it resolves (`now`); soon, shared with others
 * (`later`: `Store.withLazySync`); or not at all, every record of it being durable in the
 * journal until a sync of the database covers it (`elsewhere`).
 */
export type Sync = 'now' | 'later' | 'elsewhere';

export interface QueueOptions {
  /** Commits a batch, with what the outbox holds (`Integrator.integrate`), synced as `sync` says. */
  integrate(batch: PreparedEntry[], sync: Sync): Promise<Integrated>;
  /** Makes every commit so far durable (before the journal forgets what they placed). */
  syncPlaced(): Promise<void>;
  /**
   * Makes lazily synced commits so far durable (`Store.withLazySync`: a run's start), as a
   * decision's WAL sync did before decisions were journaled: nothing a run does is durable before it.
   */
  syncLazy?(): Promise<void>;
  /**
   * Runs the writer outside its waker's context (`Store.withSyncNow`): woken by an append made
   * inside `withLazySync`, its commits (batches, checkpoints) would otherwise not wait for their sync.
   */
  detach?<T>(fn: () => Promise<T>): Promise<T>;
  /** Told which logs grew after each commit; awaited before the next batch. */
  onIntegrated(logIds: string[]): Promise<void>;
  log: Logger;
}

const MAX_BATCH = 5000;
/** How long an event no one waits on may wait for company before it is committed alone. */
const LAZY_MS = 3;
/**
 * How long a journaled entry may wait for the next batch before it is placed, and how many may
 * wait before a batch starts at once: each placing commit has a fixed cost (~10 WAL pages: the
 * b-trees' inner pages, the log's head), so fewer, larger batches cost less a call (MCP endpoint
 * at concurrency 1: 20 → 100 ms, ~5% less CPU a call); under load the cap starts batches early,
 * so each holds about what arrived while the last was placed.
 */
const JOURNALED_MS = 100;
const JOURNALED_MAX = 128;
/** How long journaled entries of a failed batch wait before they are tried again. */
const RETRY_MS = 500;
/** Tries before a journaled entry is left to the next start's replay (it stays in the journal). */
const TRIES = 5;

/** An entry journaled: its id, its log, the journal file it is in. */
type Journaled = { id: string; log: string; file: number };

type Pending = {
  entry: PreparedEntry;
  /** Resolved once durable (else once written). */
  durable: boolean;
  /** In this file of the journal until placed (`EntryJournal`). */
  journaled?: number;
  /** Batches it was in that failed. */
  failed?: number;
  resolve: (r: Receipt) => void;
  reject: (e: unknown) => void;
};

/** Durable once resolved: an append resolves only after the commit that placed it (one per batch). */
export class AppendQueue {
  readonly #opts: QueueOptions;
  #queue: Pending[] = [];
  #draining: Promise<void> | undefined;
  #again = false;
  #lazy: NodeJS.Timeout | undefined;
  #closed = false;
  #journal: EntryJournal | undefined;
  #journaledTimer: NodeJS.Timeout | undefined;
  /** Journaled entries of a failed batch are tried again then. */
  #retry: NodeJS.Timeout | undefined;
  /** Journaled entries given up on after `TRIES` failed batches (left to the next start's replay). */
  #abandoned = 0;

  constructor(opts: QueueOptions) {
    this.#opts = opts;
  }

  /** Events queued and not yet committed (the batch being committed not counted). */
  get depth(): number {
    return this.#queue.length;
  }

  /** Queues an event and commits it with the next batch; resolves once it is durable. */
  append(input: AuditInput): Promise<Receipt> {
    return this.#push(input, true, () => this.kick());
  }

  /**
   * Resolves once the event is durable, as `append`, but without waiting for its place in the
   * log: with a journal (`journalTo`) it is journaled and the journal synced (one sync serves
   * every record written before it), and it is placed with a later batch; its index is then not
   * known yet. Without one, it is `append`.
   */
  appendDurable(input: AuditInput): Promise<Written> {
    const journal = this.#journal;
    if (!journal) return this.append(input);
    return this.#durable(journal, input);
  }

  /** Written before the first await (a failure, the disk full, is this promise's rejection), then synced. */
  async #durable(journal: EntryJournal, input: AuditInput): Promise<Written> {
    const entry = this.#journaled(journal, input);
    await Promise.all([journal.sync(entry.file), this.#opts.syncLazy?.()]);
    return { id: entry.id, log: entry.log };
  }

  /**
   * Queues an event and commits it with the next batch; resolves once it is written (it survives
   * the process being killed), and it is durable against power loss soon after: a batch of such
   * events alone does not wait for its sync (see `Store.withLazySync`). With a journal
   * (`journalTo`), written means journaled: it resolves at once, before its place is known.
   */
  appendWritten(input: AuditInput): Promise<Written> {
    const journal = this.#journal;
    if (!journal) return this.#push(input, false, () => this.kick());
    return this.#written(journal, input);
  }

  /** Journaled (written once this returns: an async body runs to its first await at once); durable with the journal's next sync. */
  async #written(journal: EntryJournal, input: AuditInput): Promise<Written> {
    const entry = this.#journaled(journal, input);
    journal.syncSoon(entry.file);
    return { id: entry.id, log: entry.log };
  }

  /** Writes an event to the journal and queues it, to be placed with the next batch (or soon). */
  #journaled(journal: EntryJournal, input: AuditInput): Journaled {
    if (this.#closed) throw new Error('the audit trail is closed');
    const entry = prepareEntry(input);
    const file = journal.write(entry);
    this.#queue.push({
      entry,
      durable: false,
      journaled: file,
      resolve: () => undefined,
      reject: () => undefined,
    });
    if (this.#queue.length >= JOURNALED_MAX) {
      clearTimeout(this.#journaledTimer);
      this.#journaledTimer = undefined;
      this.kick();
    } else {
      this.#journaledTimer ??= setTimeout(() => {
        this.#journaledTimer = undefined;
        this.kick();
      }, JOURNALED_MS);
    }
    return { id: entry.header.id, log: entry.header.log, file };
  }

  /** From now on, `appendWritten` journals its entries instead of committing them on their own. */
  journalTo(journal: EntryJournal): void {
    this.#journal = journal;
  }

  /** Places entries a killed process journaled and never placed (`EntryJournal.left`): the journal keeps them until synced. */
  replay(entries: LeftEntry[]): void {
    // Ahead of what was journaled since the start: they were written before it.
    const replayed: Pending[] = entries.map(({ entry, file }) => ({
      entry,
      durable: false,
      journaled: file,
      resolve: () => undefined,
      reject: () => undefined,
    }));
    this.#queue = [...replayed, ...this.#queue];
    if (entries.length > 0) this.kick();
  }

  /**
   * Queues an event no one is waiting on (a tool call's result): it rides along with the next
   * group commit, or is committed on its own within `LAZY_MS`. Resolves once durable, as `append`.
   */
  appendSoon(input: AuditInput): Promise<Receipt> {
    return this.#push(input, true, () => {
      this.#lazy ??= setTimeout(() => {
        this.#lazy = undefined;
        this.kick();
      }, LAZY_MS);
    });
  }

  #push(input: AuditInput, durable: boolean, then: () => void): Promise<Receipt> {
    if (this.#closed) return Promise.reject(new Error('the audit trail is closed'));
    const entry = prepareEntry(input);
    return new Promise((resolve, reject) => {
      this.#queue.push({ entry, durable, resolve, reject });
      then();
    });
  }

  /** Runs the writer: events queued, or entries other transactions left in the outbox. */
  kick(): void {
    // A failed batch's records wait out RETRY_MS first (the retry kicks): every try counts
    // against their TRIES, and one made at each append's kick would spend them at once.
    if (this.#retry) return;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    const detach = this.#opts.detach ?? ((fn: () => Promise<void>) => fn());
    this.#draining = detach(() => this.#drain()).finally(() => {
      this.#draining = undefined;
      // Work that arrived between the loop's last check and now would otherwise wait (not entries
      // of a failed batch waiting for their retry).
      if ((this.#queue.length > 0 || this.#again) && !this.#retry) this.kick();
    });
  }

  /**
   * Resolves once everything queued or pending so far is in the tree. Journaled records of a
   * failed batch are waited for (their retries); if they cannot be placed it throws: a caller
   * such as a deletion on request must not go on as if every acknowledged record were placed.
   */
  async flush(): Promise<void> {
    const abandoned = this.#abandoned;
    await this.#settle();
    if (this.#abandoned > abandoned)
      throw new Error(
        `${this.#abandoned - abandoned} journaled audit records could not be placed (they stay in the journal for the next start)`,
      );
  }

  /** Runs the writer until nothing is queued, waiting out the retries of a failed batch. */
  async #settle(): Promise<void> {
    for (;;) {
      clearTimeout(this.#lazy);
      this.#lazy = undefined;
      clearTimeout(this.#journaledTimer);
      this.#journaledTimer = undefined;
      clearTimeout(this.#retry);
      this.#retry = undefined;
      this.kick();
      while (this.#draining) await this.#draining;
      // A batch failed: its journaled records (acknowledged) are not in the tree yet.
      if (!this.#retry) return;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }

  /**
   * After a flush: empties the journal of what is placed, once a sync of the database covers it
   * (no copy of a placed record's details is left there: a deletion on request flushes first).
   */
  async emptyJournal(): Promise<void> {
    const journal = this.#journal;
    if (!journal) return;
    await journal.emptyPlaced(() => this.#opts.syncPlaced(), true);
    if (!journal.heldBack) return;
    // Records written since the flush held a file back: placed now, it is emptied.
    await this.flush();
    await journal.emptyPlaced(() => this.#opts.syncPlaced(), true);
  }

  /** Commits what is queued and empties the journal; later appends are refused. */
  async close(): Promise<void> {
    await this.#settle();
    this.#closed = true;
    // What was journaled between that flush and the refusal of appends is placed too.
    await this.#settle();
    await this.emptyJournal().catch((err) =>
      this.#opts.log.error({ err }, 'the audit journal could not be emptied at close'),
    );
    // No retry of a failed batch after the close (what it held stays in the journal for the next start).
    clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.#journal?.close();
  }

  async #drain(): Promise<void> {
    do {
      this.#again = false;
      const batch = this.#queue.splice(0, MAX_BATCH);
      // Events waiting for company have it now: no lone commit for them later.
      if (this.#queue.length === 0) {
        clearTimeout(this.#lazy);
        this.#lazy = undefined;
        clearTimeout(this.#journaledTimer);
        this.#journaledTimer = undefined;
      }
      let done: Integrated;
      // Synced now if someone waits on it; not at all if all of it is durable in the journal.
      const sync: Sync = batch.some((p) => p.durable)
        ? 'now'
        : batch.every((p) => p.journaled !== undefined)
          ? 'elsewhere'
          : 'later';
      try {
        done = await this.#opts.integrate(
          batch.map((p) => p.entry),
          sync,
        );
      } catch (err) {
        for (const p of batch) p.reject(err);
        this.#opts.log.error({ err }, 'audit batch failed');
        // Journaled entries are acknowledged: tried again shortly, first in line. Dropped, they would
        // wait for a restart, and their file (never all placed) could not be emptied meanwhile.
        for (const p of batch) p.failed = (p.failed ?? 0) + 1;
        const again = batch.filter((p) => p.journaled !== undefined && p.failed! < TRIES);
        this.#abandoned += batch.filter((p) => p.journaled !== undefined && p.failed! >= TRIES).length;
        if (again.length === 0) continue;
        this.#queue = [...again, ...this.#queue];
        this.#retry ??= setTimeout(() => {
          this.#retry = undefined;
          this.kick();
        }, RETRY_MS);
        return;
      }
      if (done.more) this.#again = true;
      // Placed: the journal may forget them once synced (a failed batch's stay there, replayed at the next start).
      const journal = this.#journal;
      journal?.placed(batch.flatMap((p) => (p.journaled === undefined ? [] : [p.journaled])));
      batch.forEach((p, i) => {
        p.resolve({ id: p.entry.header.id, log: p.entry.header.log, index: done.indexes[i]! });
      });
      if (done.grown.length > 0) await this.#opts.onIntegrated(done.grown);
      if (journal?.retired)
        await journal
          .emptyPlaced(() => this.#opts.syncPlaced())
          .catch((err) => this.#opts.log.error({ err }, 'the audit journal could not be emptied'));
    } while (this.#queue.length > 0 || this.#again);
  }
}
