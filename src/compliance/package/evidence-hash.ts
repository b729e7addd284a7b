/** An evidence record's hash, as types.ts defines it: SHA-256 (hex) of the canonical JSON (RFC 8785) of `{ kind, data, figure }`. */
import canonicalize from 'canonicalize';
import type { EvidenceDraft } from '../types.ts';
import { sha256Hex } from './manifest.ts';

export function evidenceHash(d: EvidenceDraft): string {
  return sha256Hex(canonicalize({ kind: d.kind, data: d.data, figure: d.figure }) ?? '');
}
