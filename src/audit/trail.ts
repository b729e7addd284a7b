/**
 * The audit trail's public face: the single writer of every org's log (and the platform's) in
 * this process, composed of the queue (`queue.ts`: appends resolve once durable, group commit),
 * integration (`integrate.ts`: one transaction per batch, one replica per log), checkpoints
 * (`checkpoints.ts`), proofs (`proofs.ts`) and key custody (`keys.ts`). Once started, the commit
 * of any change that recorded an entry wakes it (`outbox.ts`); a slow poll is the backstop.
 */
import type { Logger } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import { type Checkpoint, type CheckpointPublisher, Checkpoints } from './checkpoints.ts';
import type { AuditInput } from './entry.ts';
import { Integrator } from './integrate.ts';
import { EntryJournal, type LeftEntry, type RefusedLine } from './journal.ts';
import { type LogKeys, LogSigners, logVerifierKey } from './keys.ts';
import { signNote, statementText } from './note.ts';
import { AUDIT_CHANNEL } from './outbox.ts';
import { consistencyProof, inclusionProof, rangeProof } from './proofs.ts';
import { AppendQueue, type Receipt, type Written } from './queue.ts';

export interface TrailOptions {
  store: Store;
  /** Custody of each log's signing key: the vault's, `vaultLogKeys(vault)`. */
  keys: LogKeys;
  /** Host part of checkpoint origins, e.g. `audit.example.com`; fixed per log when it is made. */
  originHost: string | (() => string);
  log: Logger;
  checkpointIntervalMs?: number;
  publishers?: CheckpointPublisher[];
  /** Told which logs grew, after each commit (for streaming to a SIEM). */
  onCommitted?: (logIds: string[]) => void;
  /** Told how appends and commits go (metrics); nothing waits on it. */
  observe?: TrailObserver | undefined;
  /**
   * Whether the journal's next sync may be made on the event loop, nothing else waiting to run
   * (the gate: no call but the one the sync is for); see `FileSync`'s `inline`.
   */
  syncInline?: () => boolean;
}

/** What the writer tells an observer: each waited-on append's latency, each commit's size. */
export interface TrailObserver {
  /** An `append` was durable this many milliseconds after it was asked for. */
  appended(ms: number): void;
  /** One transaction (one sync) placed `events` queued events in `ms` milliseconds. */
  committed(events: number, ms: number): void;
}

/** Tries at start to look up which journaled records are placed, and the pause between them. */
const REPLAY_TRIES = 10;
const REPLAY_RETRY_MS = 500;

/** How often a started writer looks for entries no notification announced (another process's). */
const BACKSTOP_MS = 5000;

/** The writer of this process: `append` resolves once the event is durable, with its index. */
export class AuditTrail {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #queue: AppendQueue;
  readonly #checkpoints: Checkpoints;
  readonly #signers: LogSigners;
  readonly #observe: TrailObserver | undefined;
  #stopListening: (() => Promise<void>) | undefined;
  #poll: NodeJS.Timeout | undefined;
  #journal: EntryJournal | undefined;
  readonly #syncInline: (() => boolean) | undefined;
  /** The replay of what a killed process journaled, once started (flushing waits for it). */
  #replayed: Promise<void> = Promise.resolve();
  /** Why that replay failed, if it did: its records are not placed (until the next start). */
  #unreplayed: Error | undefined;

  constructor(opts: TrailOptions) {
    this.#store = opts.store;
    this.#syncInline = opts.syncInline;
    this.#log = opts.log;
    const host = opts.originHost;
    const signers = new LogSigners(opts.store.db, opts.keys, typeof host === 'string' ? () => host : host);
    this.#signers = signers;
    const integrator = new Integrator(opts.store, (trx, logId) => signers.create(trx, logId));
    this.#checkpoints = new Checkpoints({
      db: opts.store.db,
      signer: (logId) => signers.signer(logId),
      intervalMs: opts.checkpointIntervalMs ?? 1000,
      publishers: opts.publishers ?? [],
      log: opts.log,
    });
    const observe = opts.observe;
    this.#observe = observe;
    this.#queue = new AppendQueue({
      integrate: observe
        ? async (batch, sync) => {
            const t0 = performance.now();
            const done = await integrator.integrate(batch, sync);
            if (done.grown.length > 0) observe.committed(batch.length, performance.now() - t0);
            return done;
          }
        : (batch, sync) => integrator.integrate(batch, sync),
      syncPlaced: async () => {
        await opts.store.sync?.();
      },
      syncLazy: async () => {
        await opts.store.syncLazy?.();
      },
      detach: (fn) => (opts.store.withSyncNow ? opts.store.withSyncNow(fn) : fn()),
      onIntegrated: async (logIds) => {
        opts.onCommitted?.(logIds);
        for (const logId of logIds) await this.#checkpoints.grew(logId);
      },
      log: opts.log,
    });
  }

  /**
   * Starts the writer: it places what other transactions leave in the outbox as soon as they
   * commit (and, every `backstopMs`, what a process that could not wake it left), and signs
   * heads a crash left unsigned.
   */
  start(backstopMs = BACKSTOP_MS): void {
    // The embedded store journals the gate's records (`journal.ts`): what a killed process left goes first.
    if (this.#store.auditJournal && !this.#journal) {
      const inline = this.#syncInline;
      const journal = new EntryJournal(this.#store.auditJournal, {
        ...this.#store.journalSync,
        ...(inline && { inline }),
      });
      this.#journal = journal;
      // Counted before anything new is written: a file is not emptied before they are placed.
      const left = journal.left();
      if (journal.refused.length > 0) this.#refusedLines(journal.refused);
      this.#replayed = this.#replay(journal, left).catch((err: Error) => {
        this.#unreplayed = err;
        this.#log.error({ err }, 'journaled audit records could not be replayed');
      });
      this.#queue.journalTo(journal);
    }
    this.#stopListening = this.#store.listen(AUDIT_CHANNEL, () => this.#queue.kick());
    this.#queue.kick();
    void this.#checkpoints
      .signUnsigned()
      .catch((err) => this.#log.error({ err }, 'checkpoint signing failed'));
    this.#poll = setInterval(() => this.#queue.kick(), backstopMs);
    this.#poll.unref();
  }

  /**
   * Appends an event to its org's log. Resolves once it is durable, with its index in the log.
   *
   * @example
   *   const { index } = await trail.append({ orgId, actor, action: 'tool.call.allowed', details });
   */
  append(input: AuditInput): Promise<Receipt> {
    return this.#timed(() => this.#queue.append(input));
  }

  /** A waited-on append, its time to durable told to the observer (metrics) when there is one. */
  #timed<T>(append: () => Promise<T>): Promise<T> {
    const observe = this.#observe;
    if (!observe) return append();
    const t0 = performance.now();
    return append().then((r) => {
      observe.appended(performance.now() - t0);
      return r;
    });
  }

  /** fdatasyncs of the audit journal made so far (benchmarks). */
  get journalSyncs(): number {
    return this.#journal?.syncs ?? 0;
  }

  /** Of those, made on the event loop (benchmarks). */
  get journalSyncsInline(): number {
    return this.#journal?.syncsInline ?? 0;
  }

  /** Events queued in this process and not yet durable. */
  get queued(): number {
    return this.#queue.depth;
  }

  /**
   * Appends an event no one is waiting on (a tool call's result): it rides along with the next
   * group commit, or is committed on its own within a few milliseconds. Resolves once durable.
   */
  appendSoon(input: AuditInput): Promise<Receipt> {
    return this.#queue.appendSoon(input);
  }

  /**
   * Appends an event and resolves once it is durable, as `append`, without waiting for its place
   * in the log (a gate decision, before the call runs): on the embedded store it is journaled and
   * synced, and placed soon after; its index is then not known when this resolves.
   */
  appendDurable(input: AuditInput): Promise<Written> {
    return this.#timed(() => this.#queue.appendDurable(input));
  }

  /**
   * Appends an event whose record must survive the process being killed before the caller goes
   * on (a tool call's result, before the answer), but need not wait for a sync of its own: it
   * resolves once written, and is durable against power loss within a few milliseconds.
   */
  appendWritten(input: AuditInput): Promise<Written> {
    return this.#queue.appendWritten(input);
  }

  /**
   * Waits until everything queued or pending so far is in the tree; fails if acknowledged records
   * cannot be placed (a deletion on request must not erase around them).
   */
  async flush(): Promise<void> {
    await this.#replayed;
    if (this.#unreplayed)
      throw new Error(
        `journaled audit records left by the last run could not be placed: ${this.#unreplayed.message}`,
      );
    await this.#queue.flush();
    await this.#queue.emptyJournal();
  }

  async close(): Promise<void> {
    if (this.#poll) clearInterval(this.#poll);
    await this.#stopListening?.();
    await this.#replayed;
    await this.#queue.close();
    await this.#checkpoints.close();
  }

  /** Places what the journal holds and the logs do not (a kill before its batch committed). */
  /** Lines of the journal that were not records (tampered with, or damaged): left out, on record. */
  #refusedLines(refused: RefusedLine[]): void {
    const lines = refused.slice(0, 50);
    this.#log.error(
      { refused: lines, count: refused.length },
      'audit journal lines that are not records were left out',
    );
    void this.#queue
      .append({
        orgId: null,
        actor: { type: 'system', id: 'audit-journal' },
        action: 'audit.journal.refused',
        outcome: 'denied',
        details: { count: refused.length, lines, keptIn: `${this.#store.auditJournal}.refused` },
      })
      .catch((err) => this.#log.error({ err }, 'the refused journal lines could not be recorded'));
  }

  async #replay(journal: EntryJournal, left: LeftEntry[]): Promise<void> {
    // Tried again if the database is busy: left unreplayed, the records would wait for the next
    // start and their file, never all placed, could not be emptied meanwhile.
    for (let tries = 1; ; tries++) {
      try {
        return await this.#replayOnce(journal, left);
      } catch (err) {
        if (tries >= REPLAY_TRIES) throw err;
        this.#log.warn({ err }, 'journaled audit records could not be looked up; trying again');
        await new Promise((r) => setTimeout(r, REPLAY_RETRY_MS));
      }
    }
  }

  async #replayOnce(journal: EntryJournal, left: LeftEntry[]): Promise<void> {
    const placed = new Set<string>();
    for (let i = 0; i < left.length; i += 500) {
      const ids = left.slice(i, i + 500).map((e) => e.entry.header.id);
      const rows = await this.#store.db
        .selectFrom('audit_entries')
        .select('id')
        .where('id', 'in', ids)
        .execute();
      for (const r of rows) placed.add(r.id);
    }
    journal.placed(left.filter((e) => placed.has(e.entry.header.id)).map((e) => e.file));
    this.#queue.replay(left.filter((e) => !placed.has(e.entry.header.id)));
  }

  /** A checkpoint for the log's head as it stands, without placing pending entries (offline use). */
  checkpointAsIs(logId: string): Promise<Checkpoint> {
    return this.#checkpoints.latest(logId);
  }

  /** The newest checkpoint covering everything in the log now (signed on demand if needed). */
  async checkpoint(logId: string): Promise<Checkpoint> {
    await this.flush();
    return this.#checkpoints.latest(logId);
  }

  /**
   * Signs a statement about something other than the tree (an evidence package's manifest) with
   * the log's key, which never leaves the audit module; it can never pass for a checkpoint (see
   * `statementText`). Checked with the same verifier key as checkpoints (`openStatement`).
   */
  async signStatement(logId: string, kind: string, body: string[]): Promise<string> {
    const signer = await this.#signers.signer(logId);
    return signNote(statementText(kind, signer.name, body), signer);
  }

  /** The signed checkpoint at exactly this tree size. */
  checkpointAt(logId: string, size: number): Promise<Checkpoint> {
    return this.#checkpoints.at(logId, size);
  }

  verifierKey(logId: string): Promise<{ origin: string; verifierKey: string }> {
    return logVerifierKey(this.#store.db, logId);
  }

  /** An inclusion proof for entry `index` against the newest checkpoint, in C2SP tlog-proof form. */
  async inclusionProof(logId: string, index: number) {
    // The newest stored checkpoint serves when it already covers the entry.
    const newest = await this.#checkpoints.newest(logId);
    const cp = newest && index < newest.size ? newest : await this.checkpoint(logId);
    return inclusionProof(this.#store.db, logId, index, cp);
  }

  /** A consistency proof between two tree sizes (both at most the current size). */
  consistencyProof(logId: string, from: number, to: number) {
    return consistencyProof(this.#store.db, logId, from, to);
  }

  /** The hashes that let leaves [a, b) be checked against the root of a tree of `size`. */
  rangeProof(logId: string, a: number, b: number, size: number): Promise<string[]> {
    return rangeProof(this.#store.db, logId, a, b, size);
  }
}
