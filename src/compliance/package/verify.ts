/**
 * `paddock evidence verify`: checks a package offline, with no database and no trust in the
 * server, against the org's verifier key given from outside (a package vouching for itself with
 * a key it carries would prove nothing). In order: the manifest's signature; every file against
 * its SHA-256 (and no file the manifest does not list); every evidence record against its hash;
 * the anchor checkpoint's signature; each entries range against the anchor's root with its range
 * proof; each record's checkpoint, and the previous package's, consistent with the anchor
 * (RFC 6962); and every figure computed from the log, recomputed from the entries' headers
 * (`computeFigure`) and compared with the record. Every problem is named; none stops the others
 * except a manifest that cannot be trusted.
 */
import canonicalize from 'canonicalize';
import { type Checkpoint, openCheckpoint, parseVerifierKey, type Verifier } from '../../audit/index.ts';
import { computeFigure, type FigureEntry } from '../figures.ts';
import type { EvidenceRecord } from '../types.ts';
import { type ReadEntries, readEntries } from './entries-reader.ts';
import { evidenceHash } from './evidence-hash.ts';
import { MANIFEST, PATHS, SIGNATURE } from './layout.ts';
import type { ProofsFile } from './log-evidence.ts';
import { type Manifest, openManifest, sha256Hex } from './manifest.ts';
import { openArchive, type PackageArchive } from './read-zip.ts';
import { checkLog } from './verify-log.ts';

export interface PackageVerification {
  ok: boolean;
  org: { id: string; slug: string } | null;
  period: { from: string; to: string } | null;
  treeSize: number | null;
  files: number;
  entries: number;
  figures: number;
  /** What held, a sentence each. */
  passed: string[];
  /** What failed, each naming the file, record, range or proof. */
  problems: string[];
}

const ENTRIES = /^log\/entries\/(\d+)-(\d+)\.jsonl$/;
/** Files whose content later checks read (small); the rest are only hashed as they stream. */
const KEEP = (path: string) =>
  path === PATHS.records || path === PATHS.proofs || path.startsWith('log/checkpoints/');

export async function verifyPackage(zipPath: string, key: string): Promise<PackageVerification> {
  const v: PackageVerification = {
    ok: false,
    org: null,
    period: null,
    treeSize: null,
    files: 0,
    entries: 0,
    figures: 0,
    passed: [],
    problems: [],
  };
  let verifier: Verifier;
  try {
    verifier = parseVerifierKey(key);
  } catch (err) {
    v.problems.push(`the key is not a verifier key: ${(err as Error).message}`);
    return v;
  }
  let archive: PackageArchive;
  try {
    archive = await openArchive(zipPath);
  } catch (err) {
    v.problems.push(`the package is not a readable ZIP: ${(err as Error).message}`);
    return v;
  }
  try {
    await check(archive, verifier, v);
  } catch (err) {
    v.problems.push(`the package could not be read: ${(err as Error).message}`);
  } finally {
    archive.close();
  }
  v.ok = v.problems.length === 0;
  return v;
}

async function check(archive: PackageArchive, verifier: Verifier, v: PackageVerification): Promise<void> {
  if (!archive.has(MANIFEST) || !archive.has(SIGNATURE)) {
    v.problems.push(`the package has no ${archive.has(MANIFEST) ? SIGNATURE : MANIFEST}`);
    return;
  }
  let manifest: Manifest;
  try {
    manifest = openManifest(
      await archive.read(MANIFEST),
      (await archive.read(SIGNATURE)).toString('utf8'),
      verifier,
    );
  } catch (err) {
    v.problems.push((err as Error).message);
    return;
  }
  v.org = manifest.org;
  v.period = manifest.period;
  v.treeSize = manifest.log.treeSize;
  v.passed.push(
    `the manifest is signed by ${verifier.name} (${manifest.org.slug}, ${manifest.period.from} to ${manifest.period.to})`,
  );

  // Every file against the manifest, and nothing unlisted.
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const name of archive.names) {
    if (name !== MANIFEST && name !== SIGNATURE && !listed.has(name))
      v.problems.push(`${name} is in the package but not in the signed manifest`);
  }
  const texts = new Map<string, string>();
  const ranges = new Map<string, ReadEntries>();
  let good = 0;
  for (const f of manifest.files) {
    if (!archive.has(f.path)) {
      v.problems.push(`${f.path} is listed in the manifest but missing from the package`);
      continue;
    }
    let sha256: string;
    let size: number;
    const m = ENTRIES.exec(f.path);
    try {
      if (m) {
        const read = await readEntries(await archive.open(f.path), Number(m[1]));
        ranges.set(f.path, read);
        ({ sha256, size } = read);
        if (read.problem) v.problems.push(`${f.path}: ${read.problem}`);
      } else {
        const bytes = await archive.read(f.path);
        sha256 = sha256Hex(bytes);
        size = bytes.length;
        if (KEEP(f.path)) texts.set(f.path, bytes.toString('utf8'));
      }
    } catch (err) {
      // A damaged archive entry (bad deflate data, a CRC or size that does not match).
      v.problems.push(
        `${f.path} was changed: it cannot be read from the archive (${(err as Error).message})`,
      );
      continue;
    }
    if (sha256 !== f.sha256 || size !== f.size)
      v.problems.push(`${f.path} was changed: its SHA-256 is not the one the signed manifest lists`);
    else good++;
  }
  v.files = manifest.files.length;
  v.passed.push(`${good} of ${manifest.files.length} files match their SHA-256 in the manifest`);

  const records = parseJson<EvidenceRecord[]>(texts, PATHS.records, v) ?? [];
  for (const r of records) {
    if (evidenceHash(r) !== r.hash)
      v.problems.push(`evidence record ${r.id} (${r.kind}): its content does not match its hash`);
  }
  v.passed.push(`${records.length} evidence records checked against their hashes`);

  if (manifest.log.treeSize === null) {
    if (records.some((r) => r.log || r.figure))
      v.problems.push('records carry figures from the log, but the manifest names no log checkpoint');
    return;
  }
  const proofs = parseJson<ProofsFile>(texts, PATHS.proofs, v);
  if (!proofs) return;
  const open = (path: string): Checkpoint | null => {
    const note = texts.get(path);
    if (note === undefined) {
      v.problems.push(`${path} is missing`);
      return null;
    }
    try {
      return openCheckpoint(note, verifier);
    } catch {
      v.problems.push(`${path}: the checkpoint is not signed by ${verifier.name}`);
      return null;
    }
  };
  const proven = checkLog(proofs, manifest, ranges, open, verifier, v);
  if (!proven) return;
  v.entries = proven.entries;

  // Each record's log position, and each figure recomputed from the headers it counts.
  for (const r of records) {
    if (!r.log) {
      if (r.figure)
        v.problems.push(`evidence record ${r.id} (${r.figure.name}) has a figure but no log position`);
      continue;
    }
    const { treeSize, checkpoint, range } = r.log;
    const name = `evidence record ${r.id} (${r.figure?.name ?? r.kind})`;
    let cp: Checkpoint;
    try {
      cp = openCheckpoint(checkpoint, verifier);
    } catch {
      v.problems.push(`${name}: its checkpoint is not signed by ${verifier.name}`);
      continue;
    }
    if (cp.size !== treeSize || !proven.roots.get(treeSize)?.equals(cp.root)) {
      v.problems.push(
        `${name}: its checkpoint at tree size ${treeSize} is not one proven consistent with the package's`,
      );
      continue;
    }
    const [a, b] = range;
    const file = proven.ranges.find((p) => p.from <= a && b <= p.to && b <= treeSize);
    if (!file) {
      v.problems.push(`${name}: its entries ${a}–${b - 1} are not among the proven entries of the package`);
      continue;
    }
    if (!r.figure) continue;
    const headers = ranges.get(file.file)!.headers;
    function* counted(): Generator<FigureEntry> {
      for (let i = a; i < b; i++) {
        const h = headers[i - file!.from];
        if (h) yield h;
      }
    }
    const value = computeFigure(r.figure, counted());
    // types.ts: a record with a figure has data.value = computeFigure(figure, its range).
    const claimed = (r.data as { value?: unknown } | null)?.value;
    if (canonicalize(value) !== canonicalize(claimed ?? null)) {
      v.problems.push(
        `${name}: it says ${JSON.stringify(claimed)}, but entries ${a}–${b - 1} give ${JSON.stringify(value)}`,
      );
    } else v.figures++;
  }
  v.passed.push(`${v.figures} figures recomputed from the entries' headers match their records`);
}

function parseJson<T>(texts: Map<string, string>, path: string, v: PackageVerification): T | null {
  const text = texts.get(path);
  if (text === undefined) {
    v.problems.push(`${path} is missing`);
    return null;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    v.problems.push(`${path} is not JSON`);
    return null;
  }
}
