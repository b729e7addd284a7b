/**
 * Checkpoints: a log's head signed as a C2SP checkpoint — at most once per interval while the
 * log grows (and once more when it stops growing, so its last state is signed unasked), on
 * demand, and at start for heads a crash left unsigned. Each new checkpoint is stored, then
 * handed to every publisher (a file, a webhook), so a copy lives outside the database.
 */
import type { Kysely } from 'kysely';
import { NotFoundError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { Database } from '../store/index.ts';
import { checkpointText, type NoteSigner, signNote } from './note.ts';
import { requireLog } from './storage.ts';

/** Somewhere outside the database a signed checkpoint is sent (a file, a webhook). */
export type CheckpointPublisher = (logId: string, size: number, note: string) => void;

export interface Checkpoint {
  size: number;
  /** The signed note. */
  note: string;
}

export interface CheckpointOptions {
  db: Kysely<Database>;
  /** The log's signer (`LogSigners.signer`). */
  signer(logId: string): Promise<NoteSigner>;
  intervalMs: number;
  publishers: CheckpointPublisher[];
  log: Logger;
}

/** Signed at most once per interval while a log grows; stored before it is published. */
export class Checkpoints {
  readonly #db: Kysely<Database>;
  readonly #opts: CheckpointOptions;
  readonly #lastSigned = new Map<string, number>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #signing = new Map<string, Promise<Checkpoint>>();
  /** Logs that grew in this process: their heads are signed on close. */
  readonly #grown = new Set<string>();
  #closed = false;

  constructor(opts: CheckpointOptions) {
    this.#db = opts.db;
    this.#opts = opts;
  }

  /** Told that a log grew: signs now if the last checkpoint is an interval old, else when it is. */
  async grew(logId: string): Promise<void> {
    this.#grown.add(logId);
    const running = this.#signing.get(logId);
    if (running) {
      // Look again once the signature under way is done (it may not cover this growth).
      void running.then(
        () => this.grew(logId),
        () => undefined,
      );
      return;
    }
    // A monotonic clock: a step of the wall clock neither hurries nor holds back the next one.
    const wait =
      (this.#lastSigned.get(logId) ?? Number.NEGATIVE_INFINITY) + this.#opts.intervalMs - performance.now();
    if (wait <= 0) {
      await this.latest(logId).catch((err) =>
        this.#opts.log.error({ err, logId }, 'checkpoint signing failed'),
      );
      return;
    }
    if (this.#timers.has(logId) || this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(logId);
      void this.grew(logId);
    }, wait);
    timer.unref();
    this.#timers.set(logId, timer);
  }

  /** Signs every log whose head is newer than its newest checkpoint (a crash between the two). */
  async signUnsigned(): Promise<void> {
    const logs = await this.#db
      .selectFrom('audit_logs')
      .select(['id', 'tree_size'])
      .where((eb) =>
        eb(
          'tree_size',
          '>',
          eb.fn.coalesce(
            eb
              .selectFrom('audit_checkpoints')
              .select((c) => c.fn.max('tree_size').as('s'))
              .whereRef('audit_checkpoints.log_id', '=', 'audit_logs.id'),
            eb.lit(0),
          ),
        ),
      )
      .execute();
    for (const l of logs) await this.latest(l.id);
  }

  /** The checkpoint of the log's head as stored now: signed unless one exists already. */
  latest(logId: string): Promise<Checkpoint> {
    const running = this.#signing.get(logId);
    if (running) return running.then(() => this.latest(logId));
    const p = this.#sign(logId).finally(() => this.#signing.delete(logId));
    this.#signing.set(logId, p);
    return p;
  }

  /** The newest stored checkpoint, if any (signs nothing). */
  async newest(logId: string): Promise<Checkpoint | undefined> {
    const row = await this.#db
      .selectFrom('audit_checkpoints')
      .select(['tree_size', 'note'])
      .where('log_id', '=', logId)
      .orderBy('tree_size', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && { size: Number(row.tree_size), note: row.note };
  }

  /** The signed checkpoint at exactly this tree size. */
  async at(logId: string, size: number): Promise<Checkpoint> {
    const row = await this.#db
      .selectFrom('audit_checkpoints')
      .select('note')
      .where('log_id', '=', logId)
      .where('tree_size', '=', size)
      .executeTakeFirst();
    if (!row)
      throw new NotFoundError(
        'checkpoint_not_found',
        `No signed checkpoint at tree size ${size}. Get one from GET …/audit/checkpoint.`,
      );
    return { size, note: row.note };
  }

  /** Stops waiting timers and signs the head of every log that grew here. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    for (const logId of this.#grown) await this.latest(logId).catch(() => undefined);
  }

  async #sign(logId: string): Promise<Checkpoint> {
    const row = await requireLog(this.#db, logId);
    const size = Number(row.tree_size);
    const existing = await this.#db
      .selectFrom('audit_checkpoints')
      .select(['tree_size', 'note'])
      .where('log_id', '=', logId)
      .where('tree_size', '=', size)
      .executeTakeFirst();
    if (existing) return { size, note: existing.note };
    const signer = await this.#opts.signer(logId);
    const note = signNote(
      checkpointText({ origin: row.origin, size, root: Buffer.from(row.root_hash, 'base64') }),
      signer,
    );
    await this.#db
      .insertInto('audit_checkpoints')
      .values({
        log_id: logId,
        tree_size: size,
        root_hash: row.root_hash,
        note,
        created_at: new Date().toISOString(),
      })
      .onConflict((oc) => oc.columns(['log_id', 'tree_size']).doNothing())
      .execute();
    this.#lastSigned.set(logId, performance.now());
    // This one covers what a waiting timer was for.
    clearTimeout(this.#timers.get(logId));
    this.#timers.delete(logId);
    for (const publish of this.#opts.publishers) {
      try {
        publish(logId, size, note);
      } catch (err) {
        this.#opts.log.warn({ err, logId }, 'checkpoint could not be published');
      }
    }
    return { size, note };
  }
}
