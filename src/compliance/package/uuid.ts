/**
 * Name-based UUIDs (RFC 9562 §5.5, version 5: SHA-1 of a namespace UUID and a name), so the
 * OSCAL and OCSF documents of a package carry the same ids every time it is built from the same
 * data, where a random UUID would change every file's hash.
 */
import { createHash } from 'node:crypto';

/** Paddock's namespace for evidence ids: UUIDv5 of "paddock.evidence" in the RFC 9562 URL namespace. */
export const EVIDENCE_NAMESPACE = uuidV5('6ba7b811-9dad-11d1-80b4-00c04fd430c8', 'paddock.evidence');

/**
 * RFC 9562 §5.5: SHA-1(namespace bytes || name), first 16 bytes, version nibble 5, variant 10.
 *
 * @example
 *   uuidV5(EVIDENCE_NAMESPACE, 'org_1/finding/PAD-GATE-01/2026-12-01T00:00:00.000Z');
 */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replaceAll('-', ''), 'hex');
  if (ns.length !== 16) throw new Error(`"${namespace}" is not a UUID`);
  const b = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** An evidence id for this package's data. */
export function evidenceUuid(name: string): string {
  return uuidV5(EVIDENCE_NAMESPACE, name);
}
