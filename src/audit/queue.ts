/**
 * The queue, with group commit. `append` resolves once the event is durable: committed (SQLite:
 * the WAL fdatasync'd after the commit; PostgreSQL: its commit) with its place in its log's
 * tree, and not before. Every event that arrives while one batch commits goes into the next,
 * so one transaction (one fsync) serves many; one batch runs at a time, which makes this
 * process the single writer of the logs it sequences.
 */
import type { Logger } from '../log/index.ts';
import { type AuditInput, type PreparedEntry, prepareEntry } from './entry.ts';
import type { Integrated } from './integrate.ts';
import type { EntryJournal } from './journal.ts';

export interface Receipt {
  id: string;
  log: string;
  index: number;
}

/** An entry written (journaled, or committed without its sync): its place in the log may come later. */
export type Written = Pick<Receipt, 'id' | 'log'> & { index?: number };

export interface QueueOptions {
  /**
   * Commits a batch, with what the outbox holds (`Integrator.integrate`): durable when it
   * resolves, or only written (`durable` false: see `appendWritten`).
   */
  integrate(batch: PreparedEntry[], durable: boolean): Promise<Integrated>;
  /** Told which logs grew after each commit; awaited before the next batch. */
  onIntegrated(logIds: string[]): Promise<void>;
  log: Logger;
}

const MAX_BATCH = 5000;
/** How long an event no one waits on may wait for company before it is committed alone. */
const LAZY_MS = 3;
/** How long a journaled entry may wait for the next batch before it is placed alone (then synced within 50 ms). */
const JOURNALED_MS = 20;

type Pending = {
  entry: PreparedEntry;
  /** Resolved once durable (else once written). */
  durable: boolean;
  /** In the journal until placed (`EntryJournal`). */
  journaled?: boolean;
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
   * Queues an event and commits it with the next batch; resolves once it is written (it survives
   * the process being killed), and it is durable against power loss soon after: a batch of such
   * events alone does not wait for its sync (see `Store.withLazySync`). With a journal
   * (`journalTo`), written means journaled: it resolves at once, before its place is known.
   */
  appendWritten(input: AuditInput): Promise<Written> {
    const journal = this.#journal;
    if (!journal) return this.#push(input, false, () => this.kick());
    if (this.#closed) return Promise.reject(new Error('the audit trail is closed'));
    // Journaled: written once this returns; placed with the next batch (or alone, soon).
    const entry = prepareEntry(input);
    journal.write(entry);
    this.#queue.push({
      entry,
      durable: false,
      journaled: true,
      resolve: () => undefined,
      reject: () => undefined,
    });
    this.#journaledTimer ??= setTimeout(() => {
      this.#journaledTimer = undefined;
      this.kick();
    }, JOURNALED_MS);
    return Promise.resolve({ id: entry.header.id, log: entry.header.log });
  }

  /** From now on, `appendWritten` journals its entries instead of committing them on their own. */
  journalTo(journal: EntryJournal): void {
    this.#journal = journal;
  }

  /** Places entries a killed process journaled and never placed (`EntryJournal.left`, counted by the caller), durably. */
  replay(entries: PreparedEntry[]): void {
    for (const entry of entries)
      this.#queue.push({
        entry,
        durable: true,
        journaled: true,
        resolve: () => undefined,
        reject: () => undefined,
      });
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
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
      // Work that arrived between the loop's last check and now would otherwise wait.
      if (this.#queue.length > 0 || this.#again) this.kick();
    });
  }

  /** Resolves once everything queued or pending so far is in the tree. */
  async flush(): Promise<void> {
    clearTimeout(this.#lazy);
    this.#lazy = undefined;
    clearTimeout(this.#journaledTimer);
    this.#journaledTimer = undefined;
    this.kick();
    while (this.#draining) await this.#draining;
  }

  /** Commits what is queued; later appends are refused. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
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
      try {
        done = await this.#opts.integrate(
          batch.map((p) => p.entry),
          batch.some((p) => p.durable),
        );
      } catch (err) {
        for (const p of batch) p.reject(err);
        this.#opts.log.error({ err }, 'audit batch failed');
        continue;
      }
      if (done.more) this.#again = true;
      // Placed: the journal may forget them (a failed batch's stay there, replayed at the next start).
      this.#journal?.placed(batch.filter((p) => p.journaled).length);
      batch.forEach((p, i) => {
        p.resolve({ id: p.entry.header.id, log: p.entry.header.log, index: done.indexes[i]! });
      });
      if (done.grown.length > 0) await this.#opts.onIntegrated(done.grown);
    } while (this.#queue.length > 0 || this.#again);
  }
}
