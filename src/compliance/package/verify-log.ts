/**
 * The log part of a package's verification: the anchor checkpoint signed by the org's key and
 * naming the manifest's tree size, every entries range leading to the anchor's root through its
 * range proof, and every other checkpoint (the records', the previous package's) proven
 * consistent with the anchor (RFC 9162 §2.1.4.2). Returns what was proven, for the figures.
 */
import { type Checkpoint, rootFromRange, type Verifier, verifyConsistency } from '../../audit/index.ts';
import type { ReadEntries } from './entries-reader.ts';
import type { ProofsFile } from './log-evidence.ts';
import type { Manifest } from './manifest.ts';

export interface ProvenLog {
  /** Roots of the checkpoints proven consistent with the anchor (the anchor's own included), by size. */
  roots: Map<number, Buffer>;
  /** The ranges whose entries lead to the anchor's root. */
  ranges: Array<{ from: number; to: number; file: string }>;
  entries: number;
}

const b64 = (hashes: string[]) => hashes.map((h) => Buffer.from(h, 'base64'));

export function checkLog(
  proofs: ProofsFile,
  manifest: Manifest,
  ranges: Map<string, ReadEntries>,
  open: (path: string) => Checkpoint | null,
  verifier: Verifier,
  v: { passed: string[]; problems: string[] },
): ProvenLog | null {
  const anchor = open(proofs.anchor.checkpoint);
  if (!anchor) return null;
  if (
    anchor.size !== manifest.log.treeSize ||
    anchor.size !== proofs.anchor.size ||
    anchor.origin !== verifier.name
  ) {
    v.problems.push(
      `${proofs.anchor.checkpoint}: the signed checkpoint is of ${anchor.origin} at size ${anchor.size}, not the manifest's ${manifest.log.origin} at ${manifest.log.treeSize}`,
    );
    return null;
  }
  const n = anchor.size;
  v.passed.push(`the anchor checkpoint (tree size ${n}) is signed by ${verifier.name}`);
  const proven: ProvenLog = { roots: new Map([[n, anchor.root]]), ranges: [], entries: 0 };

  for (const r of proofs.ranges) {
    const read = ranges.get(r.file);
    const what = `entries ${r.from}–${r.to - 1} (${r.file})`;
    if (!read) {
      v.problems.push(`${what}: the file is missing`);
      continue;
    }
    if (read.leaves.length !== r.to - r.from) {
      v.problems.push(`${what}: the file holds ${read.leaves.length} entries, not ${r.to - r.from}`);
      continue;
    }
    const root = rootFromRange(r.from, read.leaves, n, b64(r.proof));
    if (!root?.equals(anchor.root)) {
      v.problems.push(
        `${what}: they do not lead to the signed root of tree size ${n} (an entry was changed, added, removed or reordered)`,
      );
      continue;
    }
    proven.ranges.push({ from: r.from, to: r.to, file: r.file });
    proven.entries += r.to - r.from;
  }
  v.passed.push(
    `${proven.entries} entries in ${proven.ranges.length} ranges lead to the signed root through their range proofs`,
  );

  const consistent = (c: { from: number; to: number; checkpoint: string; proof: string[] }, what: string) => {
    const cp = open(c.checkpoint);
    if (!cp) return false;
    if (
      cp.size !== c.from ||
      c.to !== n ||
      !verifyConsistency(cp.size, n, cp.root, anchor.root, b64(c.proof))
    ) {
      v.problems.push(
        `${what} at tree size ${c.from} (${c.checkpoint}) is not proven consistent with the anchor at ${n}`,
      );
      return false;
    }
    proven.roots.set(cp.size, cp.root);
    return true;
  };
  let ok = 0;
  for (const c of proofs.consistency) if (consistent(c, 'the checkpoint')) ok++;
  v.passed.push(`${ok} record checkpoints are consistent with the anchor`);
  if (proofs.previous) {
    if (consistent(proofs.previous, `the previous package's (${proofs.previous.package}) checkpoint`))
      v.passed.push(
        `the log grew append-only from the previous package's checkpoint (tree size ${proofs.previous.from})`,
      );
  } else v.passed.push('no previous package: this is the first one proven against this log');
  return proven;
}
