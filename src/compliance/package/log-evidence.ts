/**
 * The log part of a package: the audit entries each figure was computed from, as contiguous
 * index ranges (overlapping and adjacent ranges merged), one range proof per range against the
 * anchor — the newest checkpoint any record was computed at — the records' signed checkpoints
 * with a consistency proof from each to the anchor (RFC 6962 §2.1.2), and one from the previous
 * package's checkpoint. Entries are their hashed headers, exactly as hashed (never the details,
 * which retention may have erased), one per line, read from the log a page at a time.
 */
import type { EvidenceRecord } from '../types.ts';

export type Range = [number, number];

export interface LogPlan {
  /** The checkpoint every range is proven against: the newest a record was computed at. */
  anchor: { size: number; note: string };
  /** Every record's checkpoint, by tree size. */
  checkpoints: Map<number, string>;
  /** Disjoint, sorted index ranges [a, b) covering every record's range. */
  ranges: Range[];
}

/** Merges ranges that overlap or touch; drops empty ones. */
export function mergeRanges(ranges: Range[]): Range[] {
  const sorted = ranges.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out: Range[] = [];
  for (const [a, b] of sorted) {
    const last = out.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** What the log part holds for these records; null when no record was computed from the log. */
export function planLog(records: EvidenceRecord[]): LogPlan | null {
  const logged = records.filter((r) => r.log !== null);
  if (logged.length === 0) return null;
  const checkpoints = new Map<number, string>();
  for (const r of logged) {
    const { treeSize, checkpoint, range } = r.log!;
    if (range[0] < 0 || range[1] < range[0] || range[1] > treeSize)
      throw new Error(
        `evidence ${r.id}: its range ${range[0]}–${range[1]} is not within its tree of ${treeSize}`,
      );
    const known = checkpoints.get(treeSize);
    if (known !== undefined && known !== checkpoint)
      throw new Error(`evidence records name two different checkpoints of tree size ${treeSize}`);
    checkpoints.set(treeSize, checkpoint);
  }
  const size = Math.max(...checkpoints.keys());
  return {
    anchor: { size, note: checkpoints.get(size)! },
    checkpoints,
    ranges: mergeRanges(logged.map((r) => [r.log!.range[0], r.log!.range[1]] as Range)),
  };
}

/** One line of an entries file: the leaf as hashed, or, for a v1 entry erased whole, its leaf hash alone. */
export function entryLine(leaf: string | null, leafHash: string): string {
  return `${leaf ?? JSON.stringify({ leafHash })}\n`;
}

/** What `log/proofs.json` holds (base64 hashes, in the order the RFC 6962 verifiers take them). */
export interface ProofsFile {
  origin: string;
  anchor: { size: number; checkpoint: string };
  ranges: Array<{ from: number; to: number; file: string; proof: string[] }>;
  /** From each record's checkpoint to the anchor. */
  consistency: Array<{ from: number; to: number; checkpoint: string; proof: string[] }>;
  /** From the previous package's checkpoint to the anchor; null for an org's first package. */
  previous: { from: number; to: number; checkpoint: string; proof: string[]; package: string } | null;
}
