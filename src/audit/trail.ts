/**
 * The audit trail's single writer, with group commit. Every org has its own log (and the
 * platform one); all appends and pending entries go through one queue, so one transaction
 * (one fsync) makes a whole batch durable, puts each entry in its log's tree, and only then are
 * the appends acknowledged. Checkpoints are signed at most once per interval while a log
 * grows, and on demand. With PostgreSQL, a transaction-scoped advisory lock makes one replica
 * at a time the sequencer of a log.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { NotFoundError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { Database, Db, Store } from '../store/index.ts';
import type { Vault } from '../vault/index.ts';
import { type AuditInput, entryRow, type PreparedEntry, prepareEntry } from './entry.ts';
import {
  consistencyProofRanges,
  EMPTY_ROOT,
  Frontier,
  type Hash,
  hashRanges,
  inclusionProofRanges,
  type NodeKey,
  nodesFor,
  rangeProofRanges,
} from './merkle.ts';
import {
  checkpointText,
  type NoteSigner,
  newSigner,
  rawPublicKey,
  signNote,
  tlogProof,
  verifierKey,
} from './note.ts';

export interface Receipt {
  id: string;
  log: string;
  index: number;
}

export interface Head {
  size: number;
  root: Hash;
}

/** Somewhere outside the database a signed checkpoint is sent (a file, a webhook). */
export type CheckpointPublisher = (logId: string, size: number, note: string) => void;

export interface TrailOptions {
  store: Store;
  vault: Vault;
  /** Host part of checkpoint origins, e.g. `audit.example.com`; fixed per log when it is made. */
  originHost: string | (() => string);
  log: Logger;
  checkpointIntervalMs?: number;
  publishers?: CheckpointPublisher[];
  /** Told which logs grew, after each commit (for streaming to a SIEM). */
  onCommitted?: (logIds: string[]) => void;
}

const MAX_BATCH = 5000;
/** How long an event no one waits on may wait for company before it is committed alone. */
const LAZY_MS = 3;
const ROWS_PER_INSERT = 500;
const OUTBOX_BATCH = 5000;
const b64 = (h: Hash) => h.toString('base64');

type Pending = {
  entry: PreparedEntry;
  resolve: (r: Receipt) => void;
  reject: (e: unknown) => void;
  index?: number;
};

export class AuditTrail {
  readonly #db: Kysely<Database>;
  readonly #dialect: Store['dialect'];
  readonly #vault: Vault;
  readonly #originHost: () => string;
  readonly #log: Logger;
  readonly #interval: number;
  readonly #publishers: CheckpointPublisher[];
  readonly #onCommitted: ((logIds: string[]) => void) | undefined;

  #queue: Pending[] = [];
  #draining: Promise<void> | undefined;
  #again = false;
  #lazy: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #frontiers = new Map<string, Frontier>();
  readonly #signers = new Map<string, NoteSigner>();
  readonly #lastSigned = new Map<string, { at: number; size: number }>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #poll: NodeJS.Timeout | undefined;

  constructor(opts: TrailOptions) {
    this.#db = opts.store.db;
    this.#dialect = opts.store.dialect;
    this.#vault = opts.vault;
    const host = opts.originHost;
    this.#originHost = typeof host === 'string' ? () => host : host;
    this.#log = opts.log;
    this.#interval = opts.checkpointIntervalMs ?? 1000;
    this.#publishers = opts.publishers ?? [];
    this.#onCommitted = opts.onCommitted;
  }

  /** Sequences what other transactions left pending, now and every `pollMs` (e.g. CLI changes). */
  start(pollMs = 250): void {
    this.kick();
    // A head left unsigned by a crash is signed now, not at the log's next growth.
    void this.#signUnsigned().catch((err) => this.#log.error({ err }, 'checkpoint signing failed'));
    this.#poll = setInterval(() => this.kick(), pollMs);
    this.#poll.unref();
  }

  /**
   * Appends an event to its org's log. Resolves once it is durable, with its index in the log.
   *
   * @example
   *   const { index } = await trail.append({ orgId, actor, action: 'tool.call.allowed', details });
   */
  append(input: AuditInput): Promise<Receipt> {
    if (this.#closed) return Promise.reject(new Error('the audit trail is closed'));
    const entry = prepareEntry(input);
    return new Promise((resolve, reject) => {
      this.#queue.push({ entry, resolve, reject });
      this.kick();
    });
  }

  /**
   * Appends an event no one is waiting on (a tool call's result): it rides along with the next
   * group commit, or is committed on its own within `LAZY_MS`. Resolves once durable, as `append`.
   */
  appendSoon(input: AuditInput): Promise<Receipt> {
    if (this.#closed) return Promise.reject(new Error('the audit trail is closed'));
    const entry = prepareEntry(input);
    return new Promise((resolve, reject) => {
      this.#queue.push({ entry, resolve, reject });
      this.#lazy ??= setTimeout(() => {
        this.#lazy = undefined;
        this.kick();
      }, LAZY_MS);
    });
  }

  async #signUnsigned(): Promise<void> {
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
    for (const l of logs) await this.#signIfGrown(l.id);
  }

  /** Asks the writer to run: appends waiting, or entries other transactions left pending. */
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

  /** Waits until everything queued or pending so far is in the tree. */
  async flush(): Promise<void> {
    clearTimeout(this.#lazy);
    this.#lazy = undefined;
    this.kick();
    while (this.#draining) await this.#draining;
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    if (this.#poll) clearInterval(this.#poll);
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    for (const logId of this.#frontiers.keys()) await this.#signIfGrown(logId).catch(() => undefined);
  }

  async #drain(): Promise<void> {
    do {
      this.#again = false;
      const batch = this.#queue.splice(0, MAX_BATCH);
      // Events waiting for company have it now: no lone commit for them later.
      if (this.#queue.length === 0) {
        clearTimeout(this.#lazy);
        this.#lazy = undefined;
      }
      // Nothing queued and nothing pending: no transaction (and no fsync) at all.
      if (batch.length === 0 && !(await this.#hasPending())) continue;
      let heads: Map<string, { frontier: Frontier }>;
      try {
        heads = await this.#db.transaction().execute((trx) => this.#commit(trx, batch));
      } catch (err) {
        this.#frontiers.clear();
        for (const p of batch) p.reject(err);
        this.#log.error({ err }, 'audit batch failed');
        continue;
      }
      for (const [logId, h] of heads) this.#frontiers.set(logId, h.frontier);
      for (const p of batch) p.resolve({ id: p.entry.header.id, log: p.entry.header.log, index: p.index! });
      if (heads.size > 0) {
        this.#onCommitted?.([...heads.keys()]);
        for (const logId of heads.keys()) await this.#checkpointIfDue(logId);
      }
    } while (this.#queue.length > 0 || this.#again);
  }

  async #hasPending(): Promise<boolean> {
    const row = await this.#db.selectFrom('audit_outbox').select('seq').limit(1).executeTakeFirst();
    return row !== undefined;
  }

  async #commit(trx: Kysely<Database>, batch: Pending[]): Promise<Map<string, { frontier: Frontier }>> {
    const heads = new Map<string, { frontier: Frontier }>();
    const outboxLogs = await trx.selectFrom('audit_outbox').select('log_id').distinct().execute();
    const logIds = new Set([...outboxLogs.map((r) => r.log_id), ...batch.map((p) => p.entry.header.log)]);
    for (const logId of logIds) {
      const frontier = await this.#openHead(trx, logId);
      const nodes: Array<NodeKey & { hash: Hash }> = [];
      const rows = [];
      // Entries written inside other transactions (configuration changes) come first; read
      // after taking the log's lock, so another replica cannot have placed them meanwhile.
      const waiting = !outboxLogs.some((r) => r.log_id === logId)
        ? []
        : await trx
            .selectFrom('audit_outbox')
            .selectAll()
            .where('log_id', '=', logId)
            .orderBy('seq')
            .limit(OUTBOX_BATCH)
            .execute();
      if (waiting.length === OUTBOX_BATCH) this.#again = true;
      for (const w of waiting) {
        const { seq: _, ...entry } = w;
        const idx = frontier.size;
        nodes.push(...frontier.append(Buffer.from(w.leaf_hash, 'base64')));
        rows.push({ ...entry, idx, erased_at: null, erased_by: null });
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
      for (const p of batch) {
        if (p.entry.header.log !== logId) continue;
        p.index = frontier.size;
        nodes.push(...frontier.append(Buffer.from(p.entry.leafHash, 'base64')));
        rows.push({ ...entryRow(p.entry), idx: p.index, erased_at: null, erased_by: null });
      }
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        await trx
          .insertInto('audit_entries')
          .values(rows.slice(i, i + ROWS_PER_INSERT))
          .execute();
      }
      const nodeRows = nodes.map((n) => ({ log_id: logId, level: n.level, idx: n.index, hash: b64(n.hash) }));
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
        heads.set(logId, { frontier });
      }
    }
    return heads;
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
      await this.#createLog(trx, logId);
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

  async #createLog(trx: Db, logId: string): Promise<void> {
    const origin = `${this.#originHost()}/audit/${logId}`;
    const signer = newSigner(origin);
    const pkcs8 = signer.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    await trx
      .insertInto('audit_logs')
      .values({
        id: logId,
        org_id: logId === 'platform' ? null : logId,
        origin,
        public_key: signer.publicKey.toString('base64'),
        private_key: await this.#vault.seal(
          trx,
          { orgId: logId, secretId: 'audit.log_key', version: 1 },
          pkcs8,
        ),
        tree_size: 0,
        root_hash: b64(EMPTY_ROOT),
        created_at: new Date().toISOString(),
      })
      .execute();
    this.#signers.set(logId, signer);
  }

  async #signer(logId: string): Promise<NoteSigner> {
    const cached = this.#signers.get(logId);
    if (cached) return cached;
    const row = await requireLog(this.#db, logId);
    const pkcs8 = await this.#vault.open(
      this.#db,
      { orgId: logId, secretId: 'audit.log_key', version: 1 },
      row.private_key,
    );
    const privateKey: KeyObject = createPrivateKey({
      key: Buffer.from(pkcs8, 'base64'),
      format: 'der',
      type: 'pkcs8',
    });
    const signer = { name: row.origin, publicKey: Buffer.from(row.public_key, 'base64'), privateKey };
    // A swapped public key would make every checkpoint unverifiable: refuse to sign with it.
    if (!rawPublicKey(createPublicKey(privateKey)).equals(signer.publicKey)) {
      throw new Error(`the signing key of log ${logId} does not match its published public key`);
    }
    this.#signers.set(logId, signer);
    return signer;
  }

  /** Signs now if the last checkpoint is an interval old; else makes sure one follows when it is. */
  async #checkpointIfDue(logId: string): Promise<void> {
    const running = this.#signing.get(logId);
    if (running) {
      // Look again once the signature under way is done (it may not cover this growth).
      void running.then(
        () => this.#checkpointIfDue(logId),
        () => undefined,
      );
      return;
    }
    const last = this.#lastSigned.get(logId)?.at ?? 0;
    const wait = last + this.#interval - Date.now();
    if (wait <= 0) {
      await this.#signIfGrown(logId).catch((err) =>
        this.#log.error({ err, logId }, 'checkpoint signing failed'),
      );
      return;
    }
    if (this.#timers.has(logId) || this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(logId);
      void this.#checkpointIfDue(logId);
    }, wait);
    timer.unref();
    this.#timers.set(logId, timer);
  }

  readonly #signing = new Map<string, Promise<{ size: number; note: string }>>();

  /** Signs a checkpoint for the log's current head unless one exists; returns the newest. */
  #signIfGrown(logId: string): Promise<{ size: number; note: string }> {
    const running = this.#signing.get(logId);
    if (running) return running.then(() => this.#signIfGrown(logId));
    const p = this.#sign(logId).finally(() => this.#signing.delete(logId));
    this.#signing.set(logId, p);
    return p;
  }

  async #sign(logId: string): Promise<{ size: number; note: string }> {
    const row = await requireLog(this.#db, logId);
    const size = Number(row.tree_size);
    const existing = await this.#db
      .selectFrom('audit_checkpoints')
      .select(['tree_size', 'note'])
      .where('log_id', '=', logId)
      .where('tree_size', '=', size)
      .executeTakeFirst();
    if (existing) return { size, note: existing.note };
    const signer = await this.#signer(logId);
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
    this.#lastSigned.set(logId, { at: Date.now(), size });
    // This one covers what a waiting timer was for.
    clearTimeout(this.#timers.get(logId));
    this.#timers.delete(logId);
    for (const publish of this.#publishers) {
      try {
        publish(logId, size, note);
      } catch (err) {
        this.#log.warn({ err, logId }, 'checkpoint could not be published');
      }
    }
    return { size, note };
  }

  /** A checkpoint for the log's head as it stands, without placing pending entries (offline use). */
  async checkpointAsIs(logId: string): Promise<{ size: number; note: string }> {
    return this.#signIfGrown(logId);
  }

  /** The newest checkpoint covering everything in the log now (signed on demand if needed). */
  async checkpoint(logId: string): Promise<{ size: number; note: string }> {
    await this.flush();
    return this.#signIfGrown(logId);
  }

  /** The signed checkpoint at exactly this tree size. */
  async checkpointAt(logId: string, size: number): Promise<{ size: number; note: string }> {
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

  async verifierKey(logId: string): Promise<{ origin: string; verifierKey: string }> {
    const row = await requireLog(this.#db, logId);
    return {
      origin: row.origin,
      verifierKey: verifierKey(row.origin, Buffer.from(row.public_key, 'base64')),
    };
  }

  /** An inclusion proof for entry `index` against the newest checkpoint, in C2SP tlog-proof form. */
  async inclusionProof(logId: string, index: number) {
    // The newest stored checkpoint serves when it already covers the entry.
    const latest = await this.#db
      .selectFrom('audit_checkpoints')
      .select(['tree_size', 'note'])
      .where('log_id', '=', logId)
      .orderBy('tree_size', 'desc')
      .limit(1)
      .executeTakeFirst();
    const cp =
      latest && index < Number(latest.tree_size)
        ? { size: Number(latest.tree_size), note: latest.note }
        : await this.checkpoint(logId);
    if (!Number.isInteger(index) || index < 0 || index >= cp.size) {
      throw new NotFoundError('entry_not_found', `No entry ${index} in this log (it has ${cp.size}).`);
    }
    const ranges = inclusionProofRanges(index, cp.size);
    const nodes = await fetchNodes(this.#db, logId, nodesFor(ranges));
    const hashes = hashRanges(ranges, nodeGetter(nodes));
    return {
      index,
      treeSize: cp.size,
      checkpoint: cp.note,
      hashes: hashes.map(b64),
      tlogProof: tlogProof(index, hashes, cp.note),
    };
  }

  /** A consistency proof between two tree sizes (both at most the current size). */
  async consistencyProof(logId: string, from: number, to: number) {
    const row = await requireLog(this.#db, logId);
    if (
      !(
        Number.isInteger(from) &&
        Number.isInteger(to) &&
        from >= 0 &&
        from <= to &&
        to <= Number(row.tree_size)
      )
    ) {
      throw new NotFoundError('size_not_found', `Sizes must satisfy 0 ≤ from ≤ to ≤ ${row.tree_size}.`);
    }
    const ranges = consistencyProofRanges(from, to);
    const nodes = await fetchNodes(this.#db, logId, nodesFor(ranges));
    return { from, to, hashes: hashRanges(ranges, nodeGetter(nodes)).map(b64) };
  }

  /** The hashes that let leaves [a, b) be checked against the root of a tree of `size`. */
  async rangeProof(logId: string, a: number, b: number, size: number): Promise<string[]> {
    const ranges = rangeProofRanges(a, b, size);
    const nodes = await fetchNodes(this.#db, logId, nodesFor(ranges));
    return hashRanges(ranges, nodeGetter(nodes)).map(b64);
  }
}

export async function requireLog(db: Db, logId: string) {
  const row = await db.selectFrom('audit_logs').selectAll().where('id', '=', logId).executeTakeFirst();
  if (!row) throw new NotFoundError('log_not_found', 'This organization has no audit log entries yet.');
  return row;
}

/** Reads the stored nodes for `keys` in one statement: a union of primary-key lookups. */
export async function fetchNodes(db: Db, logId: string, keys: NodeKey[]): Promise<Map<string, Hash>> {
  const out = new Map<string, Hash>();
  if (keys.length === 0) return out;
  const lookups = keys.map(
    (k) =>
      sql`select level, idx, hash from audit_nodes where log_id = ${logId} and level = ${k.level} and idx = ${k.index}`,
  );
  const { rows } = await sql<{
    level: number;
    idx: number;
    hash: string;
  }>`${sql.join(lookups, sql` union all `)}`.execute(db);
  for (const r of rows) out.set(`${r.level}/${Number(r.idx)}`, Buffer.from(r.hash, 'base64'));
  return out;
}

export function nodeGetter(nodes: Map<string, Hash>) {
  return (k: NodeKey): Hash => {
    const h = nodes.get(`${k.level}/${k.index}`);
    if (!h) throw new Error(`audit node ${k.level}/${k.index} is missing`);
    return h;
  };
}
