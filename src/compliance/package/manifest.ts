/**
 * The package's manifest: every file with its SHA-256 and size, in canonical JSON (RFC 8785), and
 * its signature — a statement signed with the org's audit log key (the key that signs its
 * checkpoints; see `statementText` in src/audit/note.ts) over the SHA-256 of the manifest's
 * bytes. A verifier holding the org's published verifier key checks the signature, then every
 * file against its hash: nothing in the package can change without the signature failing.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { openStatement, type Verifier } from '../../audit/index.ts';
import { FORMAT, MANIFEST_KIND } from './layout.ts';
import type { Period } from './source.ts';

export interface ManifestFile {
  path: string;
  /** Lowercase hex SHA-256 of the file's bytes. */
  sha256: string;
  size: number;
}

export interface Manifest {
  format: typeof FORMAT;
  org: { id: string; slug: string };
  period: Period;
  /** The log the package proves its entries against: origin, and the signed tree size (null: no figures from the log). */
  log: { origin: string; treeSize: number | null };
  /** When it was built: with the signature, the only thing two packages of the same data differ in. */
  generatedAt: string;
  files: ManifestFile[];
}

/** The manifest's bytes: canonical JSON (RFC 8785), files sorted by path. */
export function manifestBytes(m: Manifest): Buffer {
  const files = [...m.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return Buffer.from(canonicalize({ ...m, files })!, 'utf8');
}

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The body of the signed statement: the manifest's digest. */
export function manifestStatementBody(bytes: Buffer): string[] {
  return [`sha256 ${sha256Hex(bytes)}`];
}

/** Checks the signature over these manifest bytes and returns the manifest; throws saying what is wrong. */
export function openManifest(bytes: Buffer, signature: string, verifier: Verifier): Manifest {
  let body: string[];
  try {
    body = openStatement(signature, verifier, MANIFEST_KIND);
  } catch (err) {
    throw new Error(`the manifest signature does not verify with that key (${(err as Error).message})`);
  }
  if (body[0] !== manifestStatementBody(bytes)[0])
    throw new Error('manifest.json is not the manifest the signature covers (its SHA-256 differs)');
  const text = bytes.toString('utf8');
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch {
    throw new Error('manifest.json is not JSON');
  }
  if (m.format !== FORMAT) throw new Error(`manifest.json is not a ${FORMAT} manifest`);
  if (canonicalize(m) !== text) throw new Error('manifest.json is not in canonical JSON (RFC 8785)');
  if (!Array.isArray(m.files)) throw new Error('manifest.json lists no files');
  return m;
}
