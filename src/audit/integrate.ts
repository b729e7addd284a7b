/**
 * Integration: one transaction places a batch in the logs' trees. Entries that other
 * transactions left in the outbox come first, then the queued events; each log's entries, its
 * new tree nodes and its head commit together or not at all. With PostgreSQL, a
 * transaction-scoped advisory lock per log makes one replica at a time its sequencer.
 */
import { type Kysely, sql } from 'kysely';
import type { Database, Db, Store } from '../store/index.ts';
import { entryRow, type PreparedEntry } from './entry.ts';
import { NotHere, SqlitePlacer } from './integrate-sqlite.ts';
import { EMPTY_ROOT, Frontier, type Hash, lastLeaf, type NodeKey } from './merkle.ts';
import { placeOrder } from './place-order.ts';
import type { Sync } from './queue.ts';
import { b64, fetchNodes } from './storage.ts';

const ROWS_PER_INSERT = 500;
const OUTBOX_BATCH = 5000;

export interface Integrated {
  /** Each queued event's index in its log, in the order they were given. */
  indexes: number[];
  /** The logs that grew. */
  grown: string[];
  /** The outbox held more than one batch: integrate again. */
  more: boolean;
}

/** Names and keys a log on first use, inside the transaction creating it (`LogSigners.create`). */
export type NewLog = (
  trx: Db,
  logId: string,
) => Promise<{ origin: string; public_key: string; private_key: string }>;

/** All or nothing per batch: entries, tree nodes and log heads commit in one transaction. */
export class Integrator {
  readonly #db: Kysely<Database>;
  readonly #store: Store;
  readonly #dialect: Store['dialect'];
  readonly #newLog: NewLog;
  /** Each log's frontier after this process's last commit, so the next batch need not read it. */
  readonly #frontiers = new Map<string, Frontier>();
  /** The embedded store's way without the query builder (prepared statements), once made. */
  #placer: SqlitePlacer | undefined;

  constructor(store: Store, newLog: NewLog) {
    this.#db = store.db;
    this.#store = store;
    this.#dialect = store.dialect;
    this.#newLog = newLog;
  }

  /**
   * Places what the outbox holds and `batch` in one transaction, and resolves once it is
   * committed: durable (`now`), or only written (`later`: `Store.withLazySync`; `elsewhere`:
   * `Store.withSyncElsewhere`, its records being durable in the journal).
   * Nothing queued and nothing pending: no transaction (and no fsync) at all.
   */
  async integrate(batch: PreparedEntry[], sync: Sync = 'now'): Promise<Integrated> {
    if (batch.length === 0 && !(await this.#hasPending())) return { indexes: [], grown: [], more: false };
    const indexes = new Array<number>(batch.length);
    let result: { heads: Map<string, Frontier>; more: boolean };
    try {
      const as =
        sync === 'now'
          ? <T>(fn: () => Promise<T>) => fn()
          : sync === 'later'
            ? this.#store.withLazySync
            : (this.#store.withSyncElsewhere ?? this.#store.withLazySync);
      const general = () => this.#db.transaction().execute((trx) => this.#commit(trx, batch, indexes));
      // The general way (a log's first entry, with its keys; the first batch after a start; another
      // process's entries) is rare: synced at once even for journaled records, so a log is never
      // created, or another process's head taken up, by a commit a power cut could undo.
      result =
        (await as(async () => this.#placeRaw(batch, indexes))) ??
        (await (sync === 'elsewhere' ? general() : as(general)));
    } catch (err) {
      // A frontier computed in a rolled-back transaction is not the log's.
      this.#frontiers.clear();
      throw err;
    }
    for (const [logId, frontier] of result.heads) this.#frontiers.set(logId, frontier);
    return { indexes, grown: [...result.heads.keys()], more: result.more };
  }

  /**
   * The embedded store's hot path: the batch placed with prepared statements in one synchronous
   * transaction, when every log's head is the frontier held here; else null (nothing written).
   */
  #placeRaw(batch: PreparedEntry[], indexes: number[]) {
    const raw = this.#store.rawTransaction;
    if (!raw || batch.some((e) => !this.#frontiers.has(e.header.log))) return null;
    return raw((db) => {
      this.#placer ??= new SqlitePlacer(db);
      return this.#placer.place(batch, indexes, this.#frontiers);
    }).catch((err: unknown) => {
      if (err instanceof NotHere) return null;
      throw err;
    });
  }

  async #hasPending(): Promise<boolean> {
    const row = await this.#db.selectFrom('audit_outbox').select('seq').limit(1).executeTakeFirst();
    return row !== undefined;
  }

  async #commit(
    trx: Kysely<Database>,
    batch: PreparedEntry[],
    indexes: number[],
  ): Promise<{ heads: Map<string, Frontier>; more: boolean }> {
    const heads = new Map<string, Frontier>();
    let more = false;
    const outboxLogs = await trx.selectFrom('audit_outbox').select('log_id').distinct().execute();
    const logIds = new Set([...outboxLogs.map((r) => r.log_id), ...batch.map((e) => e.header.log)]);
    for (const logId of logIds) {
      const frontier = await this.#openHead(trx, logId);
      const nodes: Array<NodeKey & { hash: Hash }> = [];
      const rows = [];
      // Entries written inside other transactions (configuration changes), merged by time with
      // the batch's (`placeOrder`); read after taking the log's lock, so another replica cannot
      // have placed them meanwhile.
      const waiting = !outboxLogs.some((r) => r.log_id === logId)
        ? []
        : await trx
            .selectFrom('audit_outbox')
            .selectAll()
            .where('log_id', '=', logId)
            .orderBy('seq')
            .limit(OUTBOX_BATCH)
            .execute();
      if (waiting.length === OUTBOX_BATCH) more = true;
      const queued = batch.flatMap((e, i) => (e.header.log === logId ? [{ queued: e, i }] : []));
      for (const item of placeOrder(waiting, queued)) {
        const idx = frontier.size;
        if ('queued' in item) {
          indexes[item.i] = idx;
          nodes.push(...frontier.append(Buffer.from(item.queued.leafHash, 'base64')));
          rows.push({ ...entryRow(item.queued), idx, erased_at: null, erased_by: null });
        } else {
          const { seq: _, ...entry } = item;
          nodes.push(...frontier.append(Buffer.from(item.leaf_hash, 'base64')));
          rows.push({ ...entry, idx, erased_at: null, erased_by: null });
        }
      }
      if (waiting.length > 0) {
        await trx
          .deleteFrom('audit_outbox')
          .where(
            'seq',
            'in',
            waiting.map((w) => w.seq),
          )
          .execute();
      }
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        await trx
          .insertInto('audit_entries')
          .values(rows.slice(i, i + ROWS_PER_INSERT))
          .execute();
      }
      const nodeRows = nodes.map((n) => ({
        log_id: logId,
        last_idx: lastLeaf(n),
        level: n.level,
        idx: n.index,
        hash: b64(n.hash),
      }));
      for (let i = 0; i < nodeRows.length; i += ROWS_PER_INSERT * 2) {
        await trx
          .insertInto('audit_nodes')
          .values(nodeRows.slice(i, i + ROWS_PER_INSERT * 2))
          .execute();
      }
      if (nodes.length > 0) {
        await trx
          .updateTable('audit_logs')
          .set({ tree_size: frontier.size, root_hash: b64(frontier.root()) })
          .where('id', '=', logId)
          .execute();
        heads.set(logId, frontier);
      }
    }
    return { heads, more };
  }

  /** Locks a log for this transaction (PostgreSQL), creating it on first use; returns its frontier. */
  async #openHead(trx: Kysely<Database>, logId: string): Promise<Frontier> {
    if (this.#dialect === 'postgres') {
      await sql`select pg_advisory_xact_lock(hashtext(${`paddock.audit:${logId}`}))`.execute(trx);
    }
    let head = await trx
      .selectFrom('audit_logs')
      .select('tree_size')
      .where('id', '=', logId)
      .executeTakeFirst();
    if (!head) {
      await trx
        .insertInto('audit_logs')
        .values({
          id: logId,
          org_id: logId === 'platform' ? null : logId,
          ...(await this.#newLog(trx, logId)),
          tree_size: 0,
          root_hash: b64(EMPTY_ROOT),
          created_at: new Date().toISOString(),
        })
        .execute();
      head = { tree_size: 0 };
    }
    const size = Number(head.tree_size);
    const cached = this.#frontiers.get(logId);
    if (cached && cached.size === size) return cached.clone();
    const keys = Frontier.keys(size);
    const nodes = await fetchNodes(trx, logId, keys);
    const levels = new Map<number, Hash>(keys.map((k) => [k.level, nodes.get(`${k.level}/${k.index}`)!]));
    return new Frontier(size, levels);
  }
}
