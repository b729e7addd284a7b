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
import type { Db } from '../store/index.ts';
import { Frontier, type Hash, hashChildren, hashLeaf, leafHashBase64, rootFromRange } from './merkle.ts';
import { openCheckpoint, parseVerifierKey, verifierKey } from './note.ts';

export interface VerifyReport {
  log: string;
  ok: boolean;
  entries: number;
  checkpoints: number;
  pending: number;
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

/** Verifies one log in the database; `publishedDir` adds the checkpoints shipped to files. */
export async function verifyLog(
  db: Db,
  logId: string,
  opts: { publishedDir?: string | undefined; deep?: boolean } = {},
): Promise<VerifyReport> {
  const report: VerifyReport = { log: logId, ok: false, entries: 0, checkpoints: 0, pending: 0 };
  try {
    const log = await db.selectFrom('audit_logs').selectAll().where('id', '=', logId).executeTakeFirst();
    if (!log) throw new Broken(`no audit log "${logId}"`);
    const size = Number(log.tree_size);
    const verifier = parseVerifierKey(verifierKey(log.origin, Buffer.from(log.public_key, 'base64')));
    const stored = await db
      .selectFrom('audit_checkpoints')
      .selectAll()
      .where('log_id', '=', logId)
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
    report.checkpoints = stored.length;
    if (opts.publishedDir) {
      const file = join(opts.publishedDir, `${logId}.checkpoints.jsonl`);
      if (existsSync(file)) {
        for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
          const { note } = JSON.parse(line) as { note: string };
          const cp = openCheckpoint(note, verifier);
          expected.set(cp.size, { root: cp.root, from: `published checkpoint in ${file}` });
          report.checkpoints++;
        }
      }
    }
    const largest = Math.max(0, ...expected.keys());
    if (largest > size) {
      throw new Broken(
        `a signed checkpoint covers ${largest} entries but the log has ${size}: entries were removed`,
        size,
      );
    }

    // Entries in index order, each against its hash and its stored leaf node.
    const frontier = new Frontier();
    const leaves: Hash[] = [];
    for (let at = 0; ; at += PAGE) {
      // Two range scans (entries, then their leaf nodes) read faster than a join's lookups.
      const rows = await db
        .selectFrom('audit_entries')
        .select(['idx', 'leaf', 'leaf_hash'])
        .where('log_id', '=', logId)
        .where('idx', '>=', at)
        .where('idx', '<', at + PAGE)
        .orderBy('idx')
        .execute();
      const leafNodes = await db
        .selectFrom('audit_nodes')
        .select(['idx', 'hash'])
        .where('log_id', '=', logId)
        .where('level', '=', 0)
        .where('idx', '>=', at)
        .where('idx', '<', at + PAGE)
        .orderBy('idx')
        .execute();
      const nodeAt = (i: number) => {
        const n = leafNodes[i - at];
        return n && Number(n.idx) === i ? n.hash : leafNodes.find((x) => Number(x.idx) === i)?.hash;
      };
      for (const r of rows) {
        const i = Number(r.idx);
        if (i !== frontier.size) throw new Broken(`entry ${frontier.size} is missing`, frontier.size);
        if (i >= size) throw new Broken(`entry ${i} is beyond the log's tree of ${size} entries`, i);
        if (r.leaf !== null && leafHashBase64(r.leaf) !== r.leaf_hash) {
          throw new Broken(`entry ${i}: its content does not match its hash`, i);
        }
        if (nodeAt(i) !== r.leaf_hash) {
          throw new Broken(`entry ${i}: it is not the entry the tree has at this position`, i);
        }
        const hash = Buffer.from(r.leaf_hash, 'base64');
        frontier.push(hash);
        if (opts.deep) leaves.push(hash);
        const want = expected.get(frontier.size);
        if (want && !frontier.root().equals(want.root)) {
          throw new Broken(
            `the ${want.from} at size ${frontier.size} does not match the entries up to ${frontier.size - 1}`,
            i,
          );
        }
      }
      if (rows.length < PAGE) break;
    }
    if (frontier.size !== size)
      throw new Broken(`entry ${frontier.size} is missing (the log has ${size})`, frontier.size);
    if (!frontier.root().equals(Buffer.from(log.root_hash, 'base64')))
      throw new Broken('the log head root does not match its entries');
    report.entries = size;

    // Deep: every stored inner node (what proofs are built from) against a recomputation.
    let level = leaves;
    for (let l = 1; opts.deep && level.length > 1; l++) {
      const next: Hash[] = [];
      for (let i = 0; i + 1 < level.length; i += 2) next.push(hashChildren(level[i]!, level[i + 1]!));
      const rows = await db
        .selectFrom('audit_nodes')
        .select(['idx', 'hash'])
        .where('log_id', '=', logId)
        .where('level', '=', l)
        .orderBy('idx')
        .execute();
      if (rows.length !== next.length)
        throw new Broken(`tree level ${l} has ${rows.length} nodes, expected ${next.length}`);
      for (const r of rows) {
        if (!Buffer.from(r.hash, 'base64').equals(next[Number(r.idx)] ?? Buffer.alloc(0))) {
          const first = Number(r.idx) * 2 ** l;
          throw new Broken(
            `tree node ${l}/${r.idx} (entries ${first}–${first + 2 ** l - 1}) was altered`,
            first,
          );
        }
      }
      level = next;
    }
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
  expired: number;
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
    expired: 0,
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
    let cp: ReturnType<typeof openCheckpoint>;
    try {
      cp = openCheckpoint(proofText.slice(split + 2), parseVerifierKey(vkey));
    } catch {
      throw new Broken('the checkpoint is not signed by that verifier key');
    }
    report.treeSize = cp.size;
    const leaves: Hash[] = [];
    const lines = jsonl.split('\n').filter((l) => l.trim());
    for (const [n, line] of lines.entries()) {
      let row: { index?: unknown; leafHash?: unknown; entry?: unknown };
      try {
        row = JSON.parse(line);
      } catch {
        throw new Broken(`line ${n + 1} is not JSON`, a + n);
      }
      if (row.index !== a + n)
        throw new Broken(`line ${n + 1} should hold entry ${a + n} but holds ${String(row.index)}`, a + n);
      if (typeof row.leafHash !== 'string') throw new Broken(`entry ${a + n} has no leaf hash`, a + n);
      const hash = Buffer.from(row.leafHash, 'base64');
      if (row.entry === null || row.entry === undefined) report.expired++;
      else if (!hashLeaf(canonicalize(row.entry) ?? '').equals(hash)) {
        throw new Broken(`entry ${a + n}: its content does not match its hash`, a + n);
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
