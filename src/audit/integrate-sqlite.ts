/**
 * Integration on the embedded store without the query builder: the same rows as `Integrator`'s
 * transaction (outbox entries first, then the batch; their tree nodes; each log's head), written
 * with prepared statements in one synchronous transaction. It places a batch only when every log
 * it touches exists and its head is the frontier this process holds; otherwise it writes nothing
 * and leaves the batch to the query-builder path (a log's first entry, the first batch after a
 * start, another process having grown a log).
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { entryRow, type PreparedEntry } from './entry.ts';
import type { Frontier } from './merkle.ts';
import { placeOrder } from './place-order.ts';
import { b64 } from './storage.ts';

const OUTBOX_BATCH = 5000;

/** The columns an entry is placed with (the others start empty: `erased_at`, `erased_by`). */
const COLUMNS = [
  'log_id',
  'idx',
  'id',
  'time',
  'actor_type',
  'actor_id',
  'action',
  'target_type',
  'target_id',
  'outcome',
  'request_id',
  'leaf_hash',
  'leaf',
  'format',
  'run_id',
  'details',
  'salt',
] as const;

const SQL = {
  outboxLogs: 'SELECT DISTINCT log_id FROM audit_outbox',
  head: 'SELECT tree_size FROM audit_logs WHERE id = ?',
  waiting: `SELECT * FROM audit_outbox WHERE log_id = ? ORDER BY seq LIMIT ${OUTBOX_BATCH}`,
  unqueue: 'DELETE FROM audit_outbox WHERE seq = ?',
  entry: `INSERT INTO audit_entries (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
  node: 'INSERT INTO audit_nodes (log_id, last_idx, level, idx, hash) VALUES (?, ?, ?, ?, ?)',
  grow: 'UPDATE audit_logs SET tree_size = ?, root_hash = ? WHERE id = ?',
} as const;

type Row = Record<(typeof COLUMNS)[number], SQLInputValue>;

/** Thrown inside the transaction to roll it back untouched: the batch goes the other way. */
export class NotHere extends Error {}

export interface Placed {
  heads: Map<string, Frontier>;
  more: boolean;
}

/** The prepared statements of one database connection, and the placing of a batch with them. */
export class SqlitePlacer {
  readonly #db: DatabaseSync;
  readonly #stmts = new Map<keyof typeof SQL, StatementSync>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  #stmt(name: keyof typeof SQL): StatementSync {
    let s = this.#stmts.get(name);
    if (!s) {
      s = this.#db.prepare(SQL[name]);
      this.#stmts.set(name, s);
    }
    return s;
  }

  /**
   * Inside the caller's transaction: places the outbox's entries and `batch` (setting `indexes`);
   * throws `NotHere`, before any write, when a log's head is not the frontier held for it.
   */
  place(batch: PreparedEntry[], indexes: number[], frontiers: Map<string, Frontier>): Placed {
    const outboxLogs = new Set(
      (this.#stmt('outboxLogs').all() as Array<{ log_id: string }>).map((r) => r.log_id),
    );
    const logIds = new Set([...outboxLogs, ...batch.map((e) => e.header.log)]);
    // Every head checked before anything is written.
    const open = new Map<string, Frontier>();
    for (const logId of logIds) {
      const head = this.#stmt('head').get(logId) as { tree_size: number | bigint } | undefined;
      const held = frontiers.get(logId);
      if (!head || !held || held.size !== Number(head.tree_size)) throw new NotHere();
      open.set(logId, held.clone());
    }
    const heads = new Map<string, Frontier>();
    let more = false;
    const insert = this.#stmt('entry');
    for (const [logId, frontier] of open) {
      const rows: Row[] = [];
      const leaves: Buffer[] = [];
      const waiting = outboxLogs.has(logId)
        ? (this.#stmt('waiting').all(logId) as Array<Row & { seq: number; time: string }>)
        : [];
      if (waiting.length === OUTBOX_BATCH) more = true;
      const unqueue = this.#stmt('unqueue');
      for (const w of waiting) unqueue.run(w.seq);
      const queued = batch.flatMap((e, i) => (e.header.log === logId ? [{ queued: e, i }] : []));
      for (const item of placeOrder(waiting, queued)) {
        if ('queued' in item) {
          indexes[item.i] = frontier.size + rows.length;
          rows.push({ ...entryRow(item.queued), idx: 0 });
          leaves.push(Buffer.from(item.queued.leafHash, 'base64'));
        } else {
          rows.push(item);
          leaves.push(Buffer.from(String(item.leaf_hash), 'base64'));
        }
      }
      if (rows.length === 0) continue;
      const node = this.#stmt('node');
      rows.forEach((row, k) => {
        const idx = frontier.size;
        insert.run(...COLUMNS.map((c) => (c === 'idx' ? idx : row[c])));
        for (const n of frontier.append(leaves[k]!)) node.run(logId, idx, n.level, n.index, b64(n.hash));
      });
      this.#stmt('grow').run(frontier.size, b64(frontier.root()), logId);
      heads.set(logId, frontier);
    }
    return { heads, more };
  }
}
