/**
 * Verifying a log end to end: every entry against its leaf hash and its place in the tree,
 * every signed checkpoint (its signature, and its root against the tree recomputed from the
 * entries, which also proves consecutive checkpoints consistent), and checkpoints published
 * outside the database. `deep` also checks every stored inner node (what proofs are built
 * from). The same check runs offline on an export.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import { type Selectable, sql } from 'kysely';
import type { Db } from '../store/index.ts';
import type { AuditEntryTable, AuditLogTable } from '../store/schema.ts';
import { detailsDigest, type EntryHeader, type EntryV1, headerColumns, parseLeaf } from './entry.ts';
import { ERASURE, type IndexRanges, inRanges } from './erasure.ts';
import {
  consistencyProofRanges,
  EMPTY_ROOT,
  Frontier,
  type Hash,
  hashLeaf,
  hashRanges,
  leafHashBase64,
  nodesFor,
  rootFromRange,
  verifyConsistency,
} from './merkle.ts';
import { openCheckpoint, parseVerifierKey, type Verifier, verifierKey } from './note.ts';
import { b64, fetchNodes, nodeGetter } from './storage.ts';

export interface VerifyReport {
  log: string;
  ok: boolean;
  entries: number;
  checkpoints: number;
  pending: number;
  /** Payloads erased on record (a retention run or deletion request covers each). */
  erased: number;
  /** Format v1 entries erased whole before erasures were recorded: reported, not checkable. */
  v1Erased: number;
  /** The first problem found, with the index of the entry it concerns when there is one. */
  problem?: { index?: number; message: string };
}

class Broken extends Error {
  readonly index: number | undefined;
  constructor(message: string, index?: number) {
    super(message);
    this.index = index;
  }
}

const PAGE = 10_000;
/**
 * Checkpoints are signed within a second of a log growing (and at every start and stop), so
 * entries covered by no stored checkpoint that went on this long after the oldest of them mean
 * stored checkpoints were deleted.
 */
const CHECKPOINT_GRACE_MS = 5 * 60_000;

type Row = Pick<
  Selectable<AuditEntryTable>,
  | 'idx'
  | 'format'
  | 'leaf'
  | 'leaf_hash'
  | 'details'
  | 'salt'
  | 'erased_at'
  | 'erased_by'
  | keyof ReturnType<typeof headerColumns>
>;

const COLUMNS = [
  'idx',
  'format',
  'leaf',
  'leaf_hash',
  'details',
  'salt',
  'erased_at',
  'erased_by',
  'id',
  'time',
  'log_id',
  'actor_type',
  'actor_id',
  'action',
  'target_type',
  'target_id',
  'outcome',
  'request_id',
  'run_id',
] as const;

/** An erasure record (retention run, deletion request, format upgrade) and how many rows name it. */
interface Erasure {
  index: number | 'pending';
  action: string;
  details: {
    cutoff?: string;
    count?: number;
    entries?: IndexRanges;
    erasedBefore?: { entries: IndexRanges; count: number };
  };
  named: number;
}

/** Every indexed column of a row against the hashed entry it holds. */
function checkColumns(r: Row, e: EntryHeader | EntryV1, i: number): void {
  const want = headerColumns(e);
  for (const [col, value] of Object.entries(want) as Array<[keyof typeof want, unknown]>) {
    if ((r[col] ?? null) !== (value ?? null)) {
      throw new Broken(
        `entry ${i}: its ${col} column says ${JSON.stringify(r[col])} but its hashed entry says ${JSON.stringify(value)}`,
        i,
      );
    }
  }
  if (r.format !== e.v)
    throw new Broken(`entry ${i}: its format column says ${r.format}, its entry v${e.v}`, i);
}

/** The records that erased payloads in this log, placed or still pending, with their details. */
async function erasureRecords(db: Db, logId: string): Promise<Map<string, Erasure>> {
  const actions = Object.values(ERASURE);
  const placed = await db
    .selectFrom('audit_entries')
    .select(['idx', 'id', 'action', 'leaf', 'details', 'salt'])
    .where('log_id', '=', logId)
    .where('action', 'in', actions)
    .execute();
  const pending = await db
    .selectFrom('audit_outbox')
    .select(['id', 'action', 'leaf', 'details', 'salt'])
    .where('log_id', '=', logId)
    .where('action', 'in', actions)
    .execute();
  const out = new Map<string, Erasure>();
  for (const r of [...placed, ...pending]) {
    const h = r.leaf ? parseLeaf(r.leaf) : null;
    // Only a record whose details match their digest counts (the scan names any that does not).
    if (h?.v !== 2 || !r.details || !r.salt || detailsDigest(r.salt, r.details) !== h.detailsDigest) continue;
    if (h.id !== r.id || h.action !== r.action) continue;
    out.set(r.id, {
      index: 'idx' in r ? Number(r.idx) : 'pending',
      action: h.action,
      details: JSON.parse(r.details) as Erasure['details'],
      named: 0,
    });
  }
  return out;
}

/** An erased payload must be covered by the record its row names. */
function checkErasure(r: Row, i: number, time: string, v1: boolean, records: Map<string, Erasure>): void {
  const rec = r.erased_by ? records.get(r.erased_by) : undefined;
  if (!rec) {
    throw new Broken(
      `entry ${i}: its details were erased, and no retention run or deletion request in this log covers it`,
      i,
    );
  }
  const where = rec.index === 'pending' ? 'the pending' : `entry ${rec.index}, the`;
  const covered =
    (rec.index === 'pending' || rec.index > i) &&
    (rec.action === ERASURE.retention
      ? time < (rec.details.cutoff ?? '')
      : rec.action === ERASURE.request
        ? inRanges(rec.details.entries ?? [], i)
        : v1 && inRanges(rec.details.erasedBefore?.entries ?? [], i));
  if (!covered) {
    throw new Broken(
      `entry ${i}: its details were erased, but ${where} ${rec.action} record it names does not cover it`,
      i,
    );
  }
  rec.named++;
}

/** What a walk over entries checks them against, and what it adds to. */
interface Walk {
  /** Entries [from, to) are walked; `frontier` holds the tree of size `from` (its root verified). */
  from: number;
  to: number;
  /** The log's head size (no entry may lie beyond it). */
  head: number;
  frontier: Frontier;
  /** Roots signed for some tree sizes: the recomputed root must match at each. */
  expected: Map<number, { root: Hash; from: string }>;
  records: Map<string, Erasure>;
  /** The largest tree size a stored checkpoint covers. */
  covered: number;
  report: VerifyReport;
  /** When given, every leaf hash is kept (the deep check recomputes the tree from them). */
  leaves?: Hash[];
}

/**
 * Entries [from, to) in index order, each against its hash, its stored leaf node, its columns
 * and its details; the recomputed root against every signed root met on the way.
 */
async function walkEntries(db: Db, logId: string, w: Walk): Promise<Uncovered> {
  const { frontier, expected, records, report } = w;
  let newest = '';
  let oldest: { i: number; time: string } | undefined;
  for (let at = w.from; at < w.to; at += PAGE) {
    const end = Math.min(w.to, at + PAGE);
    // Two range scans (entries, then their leaf nodes) read faster than a join's lookups.
    const rows: Row[] = await db
      .selectFrom('audit_entries')
      .select(COLUMNS)
      .where('log_id', '=', logId)
      .where('idx', '>=', at)
      .where('idx', '<', end)
      .orderBy('idx')
      .execute();
    const leafNodes = await db
      .selectFrom('audit_nodes')
      .select(['idx', 'hash'])
      .where('log_id', '=', logId)
      .where('last_idx', '>=', at)
      .where('last_idx', '<', end)
      .where('level', '=', 0)
      .orderBy('last_idx')
      .execute();
    const nodeAt = (i: number) => {
      const n = leafNodes[i - at];
      return n && Number(n.idx) === i ? n.hash : leafNodes.find((x) => Number(x.idx) === i)?.hash;
    };
    for (const r of rows) {
      const i = Number(r.idx);
      if (i !== frontier.size) throw new Broken(`entry ${frontier.size} is missing`, frontier.size);
      if (i >= w.head) throw new Broken(`entry ${i} is beyond the log's tree of ${w.head} entries`, i);
      let time = r.time;
      if (r.leaf !== null) {
        if (leafHashBase64(r.leaf) !== r.leaf_hash) {
          throw new Broken(`entry ${i}: its content does not match its hash`, i);
        }
        const e = parseLeaf(r.leaf);
        if (!e) throw new Broken(`entry ${i}: its content is not an audit entry`, i);
        checkColumns(r, e, i);
        time = e.time;
        if (e.v === 2 && r.details !== null) {
          if (r.salt === null || detailsDigest(r.salt, r.details) !== e.detailsDigest) {
            throw new Broken(
              `entry ${i}: its details do not match the digest its hashed header commits to`,
              i,
            );
          }
        } else if (e.v === 2) {
          checkErasure(r, i, time, false, records);
          report.erased++;
        }
      } else {
        // A v1 entry erased whole: only its record can vouch for it.
        checkErasure(r, i, time, true, records);
        report.erased++;
        report.v1Erased++;
      }
      if (nodeAt(i) !== r.leaf_hash) {
        throw new Broken(`entry ${i}: it is not the entry the tree has at this position`, i);
      }
      if (i >= w.covered) {
        if (!oldest || time < oldest.time) oldest = { i, time };
        if (time > newest) newest = time;
      }
      const hash = Buffer.from(r.leaf_hash, 'base64');
      frontier.push(hash);
      w.leaves?.push(hash);
      const want = expected.get(frontier.size);
      if (want && !frontier.root().equals(want.root)) {
        throw new Broken(
          `the ${want.from} at size ${frontier.size} does not match the entries up to ${frontier.size - 1}`,
          i,
        );
      }
    }
    if (rows.length < end - at) break;
  }
  if (frontier.size !== w.to)
    throw new Broken(`entry ${frontier.size} is missing (the log has ${w.head})`, frontier.size);
  return { oldest, newest };
}

/** The entries no stored checkpoint covers: the oldest of them, and the newest time among them. */
interface Uncovered {
  oldest: { i: number; time: string } | undefined;
  newest: string;
}

/**
 * Entries covered by no stored checkpoint, the newest of them long after the oldest: checkpoints
 * were deleted. The newest is among those entries only, not the whole log: records placed after a
 * restart with times ahead of the clock (written before it was stepped back), once covered, are
 * no measure for the entries that follow them at the clock as it is.
 */
function checkUncovered(w: Uncovered): void {
  const o = w.oldest;
  if (o && Date.parse(w.newest) - Date.parse(o.time) > CHECKPOINT_GRACE_MS) {
    throw new Broken(
      `entry ${o.i} (${o.time}) is covered by no stored checkpoint, though the log went on until ${w.newest}: stored checkpoints were deleted`,
      o.i,
    );
  }
}

type LogRow = Selectable<AuditLogTable>;

/**
 * The signed roots the entries must lead to: every stored checkpoint above size `above` (its
 * signature and its size checked) and every published one, whose stored copy must still be
 * there. No signed checkpoint, stored or published, may cover more entries than the log has.
 */
async function signedRoots(
  db: Db,
  log: LogRow,
  verifier: Verifier,
  report: VerifyReport,
  opts: { above: number; publishedDir?: string | undefined },
): Promise<{ expected: Map<number, { root: Hash; from: string }>; covered: number }> {
  const size = Number(log.tree_size);
  const stored = await db
    .selectFrom('audit_checkpoints')
    .selectAll()
    .where('log_id', '=', log.id)
    .where('tree_size', '>', opts.above)
    .orderBy('tree_size')
    .execute();
  const expected = new Map<number, { root: Hash; from: string }>();
  for (const c of stored) {
    let cp: ReturnType<typeof openCheckpoint>;
    try {
      cp = openCheckpoint(c.note, verifier);
    } catch {
      throw new Broken(`checkpoint at size ${c.tree_size}: the signature does not verify`);
    }
    if (cp.size !== Number(c.tree_size) || cp.origin !== log.origin) {
      throw new Broken(
        `checkpoint at size ${c.tree_size}: its signed text says size ${cp.size} of ${cp.origin}`,
      );
    }
    expected.set(cp.size, { root: cp.root, from: 'stored checkpoint' });
  }
  const storedSizes = new Set(expected.keys());
  const newest = await db
    .selectFrom('audit_checkpoints')
    .select((eb) => eb.fn.max('tree_size').as('s'))
    .where('log_id', '=', log.id)
    .executeTakeFirst();
  const covered = Number(newest?.s ?? 0);
  report.checkpoints = stored.length;
  let largest = covered;
  if (opts.publishedDir) {
    const file = join(opts.publishedDir, `${log.id}.checkpoints.jsonl`);
    if (existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
        const { note } = JSON.parse(line) as { note: string };
        const cp = openCheckpoint(note, verifier);
        largest = Math.max(largest, cp.size);
        if (cp.size <= opts.above) continue;
        if (cp.size <= size && !storedSizes.has(cp.size)) {
          throw new Broken(
            `the stored checkpoint at size ${cp.size} is missing (its published copy in ${file} has it): stored checkpoints were deleted`,
          );
        }
        expected.set(cp.size, { root: cp.root, from: `published checkpoint in ${file}` });
        report.checkpoints++;
      }
    }
  }
  if (largest > size) {
    throw new Broken(
      `a signed checkpoint covers ${largest} entries but the log has ${size}: entries were removed`,
      size,
    );
  }
  return { expected, covered };
}

/**
 * No entry row may lie beyond the tree's head. The log may have grown since `head` was read
 * (entries and head commit together), so a row past it is checked against the head as it is now.
 */
async function checkNothingBeyond(db: Db, logId: string, head: number): Promise<void> {
  const beyond = await db
    .selectFrom('audit_entries')
    .select('idx')
    .where('log_id', '=', logId)
    .where('idx', '>=', head)
    .orderBy('idx', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!beyond) return;
  const now = await db
    .selectFrom('audit_logs')
    .select('tree_size')
    .where('id', '=', logId)
    .executeTakeFirst();
  const size = Number(now?.tree_size ?? 0);
  if (Number(beyond.idx) >= size)
    throw new Broken(`entry ${beyond.idx} is beyond the log's tree of ${size} entries`, Number(beyond.idx));
}

/** Verifies one log in the database; `publishedDir` adds the checkpoints shipped to files. */
export async function verifyLog(
  db: Db,
  logId: string,
  opts: { publishedDir?: string | undefined; deep?: boolean } = {},
): Promise<VerifyReport> {
  const report: VerifyReport = {
    log: logId,
    ok: false,
    entries: 0,
    checkpoints: 0,
    pending: 0,
    erased: 0,
    v1Erased: 0,
  };
  try {
    const log = await db.selectFrom('audit_logs').selectAll().where('id', '=', logId).executeTakeFirst();
    if (!log) throw new Broken(`no audit log "${logId}"`);
    const size = Number(log.tree_size);
    const verifier = parseVerifierKey(verifierKey(log.origin, Buffer.from(log.public_key, 'base64')));
    const { expected, covered } = await signedRoots(db, log, verifier, report, {
      above: -1,
      publishedDir: opts.publishedDir,
    });

    const records = await erasureRecords(db, logId);
    const frontier = new Frontier();
    const leaves: Hash[] = [];
    const walked = await walkEntries(db, logId, {
      from: 0,
      to: size,
      head: size,
      frontier,
      expected,
      records,
      covered,
      report,
      ...(opts.deep ? { leaves } : {}),
    });
    await checkNothingBeyond(db, logId, size);
    if (!frontier.root().equals(Buffer.from(log.root_hash, 'base64')))
      throw new Broken('the log head root does not match its entries');
    for (const [id, rec] of records) {
      const claimed = rec.action === ERASURE.upgrade ? rec.details.erasedBefore?.count : rec.details.count;
      if (rec.named !== (claimed ?? 0)) {
        const at = rec.index === 'pending' ? `pending record ${id}` : `entry ${rec.index}`;
        throw new Broken(
          `${at} (${rec.action}) says it erased ${claimed ?? 0} payloads, but ${rec.named} erased entries name it`,
          rec.index === 'pending' ? undefined : rec.index,
        );
      }
    }
    checkUncovered(walked);
    report.entries = size;

    if (opts.deep) await checkStoredNodes(db, logId, leaves);
    const pending = await db
      .selectFrom('audit_outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('log_id', '=', logId)
      .executeTakeFirstOrThrow();
    report.pending = Number(pending.n);
    report.ok = true;
  } catch (err) {
    if (!(err instanceof Broken)) throw err;
    report.problem =
      err.index === undefined ? { message: err.message } : { index: err.index, message: err.message };
  }
  return report;
}

/**
 * Deep: every stored node (what proofs are built from) against the tree recomputed from the
 * leaves, read in the order appends made them (their key's), a page of entries at a time; none
 * missing, none that is no node of the tree. Nodes of entries placed since the walk read the
 * log's size are left to the next verify (the log is live); one beyond the log's size now is not.
 */
async function checkStoredNodes(db: Db, logId: string, leaves: Hash[]): Promise<void> {
  const tree = new Frontier();
  const named = (level: number, index: number) => {
    const first = index * 2 ** level;
    return `tree node ${level}/${index} (entries ${first}–${first + 2 ** level - 1})`;
  };
  for (let at = 0; at === 0 || at < leaves.length; at += PAGE) {
    const end = Math.min(at + PAGE, leaves.length);
    const rows = await db
      .selectFrom('audit_nodes')
      .select(['last_idx', 'level', 'idx', 'hash'])
      .where('log_id', '=', logId)
      // The first page has no lower bound: a row keyed below 0 is no node either.
      .where(at === 0 ? sql<boolean>`true` : sql<boolean>`last_idx >= ${at}`)
      .where('last_idx', '<', end)
      .execute();
    const stored = new Map(rows.map((r) => [`${r.level}/${Number(r.idx)}`, r]));
    const used = new Set<(typeof rows)[number]>();
    for (let i = at; i < end; i++) {
      for (const n of tree.append(leaves[i]!)) {
        const row = stored.get(`${n.level}/${n.index}`);
        const first = n.index * 2 ** n.level;
        if (!row || Number(row.last_idx) !== i)
          throw new Broken(`${named(n.level, n.index)} is missing`, first);
        if (!Buffer.from(row.hash, 'base64').equals(n.hash))
          throw new Broken(`${named(n.level, n.index)} was altered`, first);
        used.add(row);
      }
    }
    const e = rows.find((r) => !used.has(r));
    if (e)
      throw new Broken(
        `${named(e.level, Number(e.idx))} is no node of the log's tree`,
        Math.max(0, Number(e.idx) * 2 ** e.level),
      );
  }
  // Beyond the log as it is now (one statement: a batch commits its nodes and the log's size together).
  const beyond = await db
    .selectFrom('audit_nodes')
    .select(['level', 'idx'])
    .where('log_id', '=', logId)
    .where('last_idx', '>=', (eb) => eb.selectFrom('audit_logs').select('tree_size').where('id', '=', logId))
    .executeTakeFirst();
  if (beyond)
    throw new Broken(
      `${named(beyond.level, Number(beyond.idx))} is no node of the log's tree (beyond its size)`,
      Number(beyond.idx) * 2 ** beyond.level,
    );
}

export interface IncrementalReport extends VerifyReport {
  /** The size verified before (its root checked against its signed checkpoint), and the new one. */
  from: number;
  to: number;
  /** The RFC 6962 consistency proof from the tree of `from` to the tree of `to`, base64. */
  consistency: string[];
}

/**
 * Verifies what a log gained since a checkpoint that was verified before: the checkpoint `to`
 * and every one signed after `since`, that the tree of `to` extends the tree of `since` (an
 * RFC 6962 consistency proof between their signed roots, and the stored frontier of `since`
 * against its root), and the new entries [since, to) one by one as `verifyLog` checks every
 * entry, each leading to the signed roots met on the way. Entries before `since` are not read:
 * an edit to one of those is for the full `verifyLog` to find.
 *
 * @example
 *   const r = await verifyLogSince(db, orgId, lastVerified, await trail.checkpoint(orgId));
 *   r.ok; // true: entries [lastVerified.size, r.to) verified, and the log extends the verified one
 */
export async function verifyLogSince(
  db: Db,
  logId: string,
  since: { size: number; note: string },
  to: { size: number; note: string },
  opts: { publishedDir?: string | undefined } = {},
): Promise<IncrementalReport> {
  const report: IncrementalReport = {
    log: logId,
    ok: false,
    entries: 0,
    checkpoints: 0,
    pending: 0,
    erased: 0,
    v1Erased: 0,
    from: since.size,
    to: to.size,
    consistency: [],
  };
  try {
    const log = await db.selectFrom('audit_logs').selectAll().where('id', '=', logId).executeTakeFirst();
    if (!log) throw new Broken(`no audit log "${logId}"`);
    const head = Number(log.tree_size);
    const verifier = parseVerifierKey(verifierKey(log.origin, Buffer.from(log.public_key, 'base64')));
    const open = (cp: { size: number; note: string }, which: string) => {
      let c: ReturnType<typeof openCheckpoint>;
      try {
        c = openCheckpoint(cp.note, verifier);
      } catch {
        throw new Broken(`the ${which} checkpoint (size ${cp.size}) is not signed by this log's key`);
      }
      if (c.size !== cp.size || c.origin !== log.origin)
        throw new Broken(`the ${which} checkpoint says size ${c.size} of ${c.origin}, not ${cp.size}`);
      return c;
    };
    const old = since.size === 0 ? { root: EMPTY_ROOT } : open(since, 'previously verified');
    const now = open(to, 'new');
    if (to.size < since.size)
      throw new Broken(
        `the new checkpoint (size ${to.size}) is smaller than the verified one (${since.size})`,
      );
    if (to.size > head)
      throw new Broken(
        `a signed checkpoint covers ${to.size} entries but the log has ${head}: entries were removed`,
        head,
      );
    const { expected, covered } = await signedRoots(db, log, verifier, report, {
      above: since.size,
      publishedDir: opts.publishedDir,
    });
    expected.set(to.size, { root: now.root, from: 'new checkpoint' });

    // The tree of `to` extends the tree of `since`: a consistency proof between the signed roots.
    const ranges = consistencyProofRanges(since.size, to.size);
    let proof: Hash[];
    try {
      proof = hashRanges(ranges, nodeGetter(await fetchNodes(db, logId, nodesFor(ranges))));
    } catch (err) {
      throw new Broken(
        `the consistency proof cannot be read from the stored tree: ${(err as Error).message}`,
      );
    }
    if (!verifyConsistency(since.size, to.size, old.root, now.root, proof)) {
      throw new Broken(
        `the tree of size ${to.size} is not an extension of the verified tree of size ${since.size}: entries before ${since.size} changed`,
      );
    }
    report.consistency = proof.map(b64);
    // The new entries are appended to the verified tree's frontier, read from the stored nodes.
    const keys = Frontier.keys(since.size);
    const nodes = await fetchNodes(db, logId, keys);
    const frontier = new Frontier(
      since.size,
      new Map(keys.map((k) => [k.level, nodes.get(`${k.level}/${k.index}`) ?? Buffer.alloc(0)])),
    );
    if (!frontier.root().equals(old.root)) {
      throw new Broken(
        `the stored tree at size ${since.size} does not match its verified checkpoint`,
        since.size,
      );
    }

    const records = await erasureRecords(db, logId);
    const walked = await walkEntries(db, logId, {
      from: since.size,
      to: to.size,
      head,
      frontier,
      expected,
      records,
      covered,
      report,
    });
    await checkNothingBeyond(db, logId, head);
    if (head === to.size && !now.root.equals(Buffer.from(log.root_hash, 'base64')))
      throw new Broken('the log head root does not match its entries');
    checkUncovered(walked);
    report.entries = to.size - since.size;
    const pending = await db
      .selectFrom('audit_outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('log_id', '=', logId)
      .executeTakeFirstOrThrow();
    report.pending = Number(pending.n);
    report.ok = true;
  } catch (err) {
    if (!(err instanceof Broken)) throw err;
    report.problem =
      err.index === undefined ? { message: err.message } : { index: err.index, message: err.message };
  }
  return report;
}

export interface ExportReport {
  ok: boolean;
  origin: string | undefined;
  range: [number, number] | undefined;
  treeSize: number | undefined;
  entries: number;
  /** Entries whose details were erased (their headers, v2, are still checked). */
  erased: number;
  problem?: { index?: number; message: string };
}

/** Verifies an exported JSON-lines file with its proof file, offline, against a verifier key. */
export function verifyExport(jsonl: string, proofText: string, vkey: string): ExportReport {
  const report: ExportReport = {
    ok: false,
    origin: undefined,
    range: undefined,
    treeSize: undefined,
    entries: 0,
    erased: 0,
  };
  try {
    const split = proofText.indexOf('\n\n');
    const head = proofText.slice(0, split).split('\n');
    if (split < 0 || head[0] !== 'paddock.audit.export@v1')
      throw new Broken('the proof file is not a paddock.audit.export@v1 proof');
    report.origin = head[1]?.replace(/^log /, '');
    const m = /^range (\d+) (\d+)$/.exec(head[2] ?? '');
    if (!m) throw new Broken('the proof file has no range line');
    const a = Number(m[1]);
    const b = Number(m[2]);
    report.range = [a, b];
    const hashes = head.slice(3).map((h) => Buffer.from(h, 'base64'));
    let key: ReturnType<typeof parseVerifierKey>;
    try {
      key = parseVerifierKey(vkey);
    } catch (err) {
      // A placeholder or a mistyped key is named as such, not taken for a forged checkpoint.
      throw new Broken(`the key is not a verifier key: ${(err as Error).message}`);
    }
    let cp: ReturnType<typeof openCheckpoint>;
    try {
      cp = openCheckpoint(proofText.slice(split + 2), key);
    } catch {
      throw new Broken('the checkpoint is not signed by that verifier key');
    }
    report.treeSize = cp.size;
    const leaves: Hash[] = [];
    const lines = jsonl.split('\n').filter((l) => l.trim());
    for (const [n, line] of lines.entries()) {
      let row: { index?: unknown; leafHash?: unknown; entry?: unknown; details?: unknown; salt?: unknown };
      try {
        row = JSON.parse(line);
      } catch {
        throw new Broken(`line ${n + 1} is not JSON`, a + n);
      }
      if (row.index !== a + n)
        throw new Broken(`line ${n + 1} should hold entry ${a + n} but holds ${String(row.index)}`, a + n);
      if (typeof row.leafHash !== 'string') throw new Broken(`entry ${a + n} has no leaf hash`, a + n);
      const hash = Buffer.from(row.leafHash, 'base64');
      if (row.entry === null || row.entry === undefined) report.erased++;
      else {
        if (!hashLeaf(canonicalize(row.entry) ?? '').equals(hash))
          throw new Broken(`entry ${a + n}: its content does not match its hash`, a + n);
        const e = row.entry as Partial<EntryHeader>;
        if (e.v === 2) {
          if (row.details === null || row.details === undefined) report.erased++;
          else if (
            typeof row.salt !== 'string' ||
            detailsDigest(row.salt, canonicalize(row.details) ?? '') !== e.detailsDigest
          ) {
            throw new Broken(
              `entry ${a + n}: its details do not match the digest its header commits to`,
              a + n,
            );
          }
        }
      }
      leaves.push(hash);
    }
    if (a + leaves.length !== b)
      throw new Broken(
        `the export should hold entries ${a} to ${b - 1} but ends at ${a + leaves.length - 1}`,
        a + leaves.length,
      );
    const root = rootFromRange(a, leaves, cp.size, hashes);
    if (!root?.equals(cp.root))
      throw new Broken(`entries ${a} to ${b - 1} do not lead to the signed root of size ${cp.size}`);
    report.entries = leaves.length;
    report.ok = true;
  } catch (err) {
    if (!(err instanceof Broken)) throw err;
    report.problem =
      err.index === undefined ? { message: err.message } : { index: err.index, message: err.message };
  }
  return report;
}
