/**
 * What makes an evidence record checkable: its data is redacted and made plain JSON before
 * anything is hashed or stored (no secret value ever reaches evidence), and its hash is SHA-256
 * over the canonical JSON (RFC 8785) of `{ kind, data, figure }` — `figure` left out when there is
 * none, as canonical JSON leaves out an absent member. The package's verifier hashes alike.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { redact } from '../redact/index.ts';
import type { EvidenceDraft } from './types.ts';

/** The data as it is stored and hashed: redacted, with no undefined, Dates or functions left. */
export function plainData(data: unknown): unknown {
  return redact(JSON.parse(JSON.stringify(data ?? null)) as unknown);
}

/**
 * @example
 *   evidenceHash({ kind: 'secrets.inventory', data: { secrets: [] } }); // 'e3b0…' (64 hex digits)
 */
export function evidenceHash(e: EvidenceDraft): string {
  const body = e.figure ? { kind: e.kind, data: e.data, figure: e.figure } : { kind: e.kind, data: e.data };
  return createHash('sha256').update(canonicalize(body)!).digest('hex');
}
