/**
 * Proofs, read from the stored tree: inclusion of an entry (also in C2SP tlog-proof form),
 * consistency between two tree sizes (RFC 6962), and the range proof of an export. Pure reads:
 * each is one statement of primary-key lookups, and none writes or signs anything.
 */
import { NotFoundError } from '../errors/index.ts';
import type { Db } from '../store/index.ts';
import {
  consistencyProofRanges,
  hashRanges,
  inclusionProofRanges,
  nodesFor,
  type Range,
  rangeProofRanges,
} from './merkle.ts';
import { tlogProof } from './note.ts';
import { b64, fetchNodes, nodeGetter, requireLog } from './storage.ts';

async function hashesFor(db: Db, logId: string, ranges: Range[]) {
  const nodes = await fetchNodes(db, logId, nodesFor(ranges));
  return hashRanges(ranges, nodeGetter(nodes));
}

/** An inclusion proof for entry `index` against the signed checkpoint `cp`. */
export async function inclusionProof(
  db: Db,
  logId: string,
  index: number,
  cp: { size: number; note: string },
) {
  if (!Number.isInteger(index) || index < 0 || index >= cp.size) {
    throw new NotFoundError('entry_not_found', `No entry ${index} in this log (it has ${cp.size}).`);
  }
  const hashes = await hashesFor(db, logId, inclusionProofRanges(index, cp.size));
  return {
    index,
    treeSize: cp.size,
    checkpoint: cp.note,
    hashes: hashes.map(b64),
    tlogProof: tlogProof(index, hashes, cp.note),
  };
}

/** A consistency proof between two tree sizes (both at most the log's current size). */
export async function consistencyProof(db: Db, logId: string, from: number, to: number) {
  const row = await requireLog(db, logId);
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
  const hashes = await hashesFor(db, logId, consistencyProofRanges(from, to));
  return { from, to, hashes: hashes.map(b64) };
}

/** The hashes that let leaves [a, b) be checked against the root of a tree of `size`. */
export async function rangeProof(
  db: Db,
  logId: string,
  a: number,
  b: number,
  size: number,
): Promise<string[]> {
  return (await hashesFor(db, logId, rangeProofRanges(a, b, size))).map(b64);
}
