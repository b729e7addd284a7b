/**
 * An audit entry as it goes into the tree (format v2). The leaf is the canonical JSON (RFC 8785)
 * of a header that is never erased — who, what, when, on what, with which outcome, in which
 * request and run — and a salted digest of the details: `HMAC-SHA256(salt, canonical(details))`.
 * The details and their salt are stored beside the leaf and can be erased (retention, a deletion
 * request) while the leaf, and so every proof, still verifies. The random salt keeps a short
 * payload from being guessed from its digest.
 *
 * Format v1 (before this one) hashed the details into the leaf itself; such entries are still
 * read and verified (`EntryV1`).
 */
import { hash, randomFillSync } from 'node:crypto';
import canonicalize from 'canonicalize';
import { newTimeOrderedId, runTrace } from '../ids/index.ts';
import { redact } from '../redact/index.ts';
import { storableText } from '../store/index.ts';
import { leafHashBase64 } from './merkle.ts';

export const PLATFORM_LOG = 'platform';

export interface Actor {
  type: 'person' | 'token' | 'agent' | 'system';
  id: string;
}

export type Outcome = 'success' | 'failure' | 'denied';

export interface AuditInput {
  /** The org the event belongs to; null for the platform's own log. */
  orgId: string | null;
  actor: Actor;
  /** Dotted name: `person.invited`, `token.revoked`, `tool.call.denied`. */
  action: string;
  target?: { type: string; id: string } | undefined;
  outcome?: Outcome;
  requestId?: string | undefined;
  /** The agent run the event belongs to, if any. */
  runId?: string | undefined;
  /**
   * Before/after or other facts; secrets are redacted before anything is stored. An entry of a
   * run also gets the run's `traceId` (see `runTrace`), which leads to the run's trace.
   */
  details?: Record<string, unknown>;
}

/** The header, exactly as hashed: what the trail shows, filters and exports is read from it. */
export interface EntryHeader {
  v: 2;
  id: string;
  time: string;
  log: string;
  org: string | null;
  actor: Actor;
  action: string;
  target: { type: string; id: string } | null;
  outcome: Outcome;
  requestId: string | null;
  run: string | null;
  /** `hmac-sha256:` + base64 of HMAC-SHA256(salt, canonical JSON of the details). */
  detailsDigest: string;
}

/** A format v1 entry: the details were part of the hashed leaf. */
export interface EntryV1 extends Omit<EntryHeader, 'v' | 'run' | 'detailsDigest'> {
  v: 1;
  details: Record<string, unknown>;
}

export interface PreparedEntry {
  header: EntryHeader;
  /** The leaf: the header's canonical JSON. */
  leaf: string;
  leafHash: string;
  /** The details' canonical JSON (erasable). */
  details: string;
  /** base64 of the 32 random bytes the details' digest is keyed with (erasable). */
  salt: string;
}

const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const DIGEST_PREFIX = 'hmac-sha256:';

const IPAD = Buffer.alloc(64, 0x36);
const OPAD = Buffer.alloc(64, 0x5c);

/**
 * HMAC-SHA256 (RFC 2104) of `details` keyed with `key`, with two one-shot hashes: `createHmac`
 * builds a key object per call, and a `Hash` object costs more than hashing a few hundred bytes.
 */
function hmacDigest(key: Buffer, details: string): string {
  const block = key.length > 64 ? hash('sha256', key, 'buffer') : key;
  const inner = Buffer.allocUnsafe(64 + Buffer.byteLength(details));
  const outer = Buffer.allocUnsafe(96);
  IPAD.copy(inner);
  OPAD.copy(outer);
  for (let i = 0; i < block.length; i++) {
    inner[i]! ^= block[i]!;
    outer[i]! ^= block[i]!;
  }
  inner.write(details, 64);
  hash('sha256', inner, 'buffer').copy(outer, 64);
  return DIGEST_PREFIX + hash('sha256', outer, 'base64');
}

/** The digest a header commits its details to: HMAC-SHA256 keyed with the salt (base64). */
export function detailsDigest(salt: string, details: string): string {
  return hmacDigest(Buffer.from(salt, 'base64'), details);
}

/** Random salts drawn from the system's CSPRNG a few hundred at a time (one call per salt costs more than the rest of an entry's hashing). */
const SALT_BYTES = 32;
let salts = Buffer.alloc(0);
let nextSalt = 0;

/** The next salt's bytes, in the pool: the caller zeroes them once used (each salt is handed out once). */
function takeSalt(): Buffer {
  if (nextSalt >= salts.length) {
    salts = randomFillSync(Buffer.allocUnsafe(SALT_BYTES * 256));
    nextSalt = 0;
  }
  nextSalt += SALT_BYTES;
  return salts.subarray(nextSalt - SALT_BYTES, nextSalt);
}

/**
 * The header's canonical JSON (RFC 8785), written out in its keys' sorted order: every value is
 * text, null or the version number, so this is what `canonicalize(header)` gives (entry.test.ts
 * checks that), without its generic walk and sorts.
 */
export function canonicalHeader(h: EntryHeader): string {
  const text = (v: unknown) => typeof v === 'string';
  const orNull = (v: unknown) => v === null || typeof v === 'string';
  const plain =
    [h.action, h.actor?.id, h.actor?.type, h.detailsDigest, h.id, h.log, h.outcome, h.time].every(text) &&
    [h.org, h.requestId, h.run].every(orNull) &&
    (h.target === null || (text(h.target?.id) && text(h.target?.type)));
  // Anything else (a caller that broke the types) goes the generic way.
  if (!plain) return canonicalize(h)!;
  const s = JSON.stringify;
  const target = h.target ? `{"id":${s(h.target.id)},"type":${s(h.target.type)}}` : 'null';
  return `{"action":${s(h.action)},"actor":{"id":${s(h.actor.id)},"type":${s(h.actor.type)}},"detailsDigest":${s(h.detailsDigest)},"id":${s(h.id)},"log":${s(h.log)},"org":${s(h.org)},"outcome":${s(h.outcome)},"requestId":${s(h.requestId)},"run":${s(h.run)},"target":${target},"time":${s(h.time)},"v":2}`;
}

export function prepareEntry(input: AuditInput, now = new Date()): PreparedEntry {
  if (!ACTION.test(input.action))
    throw new Error(`audit action "${input.action}" is not a dotted lowercase name`);
  // JSON round trip first: canonical JSON has no undefined, Dates or functions.
  const given = input.runId ? { traceId: runTrace(input.runId).traceId, ...input.details } : input.details;
  const details = canonicalize(redact(JSON.parse(JSON.stringify(given ?? {})) as Record<string, unknown>))!;
  const key = takeSalt();
  const salt = key.toString('base64');
  const digest = hmacDigest(key, details);
  key.fill(0);
  const header: EntryHeader = {
    v: 2,
    id: newTimeOrderedId('evt', now.getTime()),
    time: now.toISOString(),
    log: input.orgId ?? PLATFORM_LOG,
    org: input.orgId,
    // The header is also stored in columns, where NUL cannot be (a model may name a tool with
    // one): the hashed header says what the columns hold, so verification reads them back alike.
    actor: { type: input.actor.type, id: storableText(input.actor.id) },
    action: input.action,
    target: input.target ? { type: input.target.type, id: storableText(input.target.id) } : null,
    outcome: input.outcome ?? 'success',
    requestId:
      input.requestId === undefined || input.requestId === null ? null : storableText(input.requestId),
    run: input.runId ?? null,
    detailsDigest: digest,
  };
  const leaf = canonicalHeader(header);
  return { header, leaf, leafHash: leafHashBase64(leaf), details, salt };
}

/** A leaf read back: its header (v2) or whole v1 entry, or null if it is not an entry. */
export function parseLeaf(leaf: string): EntryHeader | EntryV1 | null {
  try {
    const e = JSON.parse(leaf) as { v?: unknown };
    return e.v === 2 || e.v === 1 ? (e as EntryHeader | EntryV1) : null;
  } catch {
    return null;
  }
}

/** The indexed columns an entry's row must carry, as its hashed leaf says them. */
export function headerColumns(h: EntryHeader | EntryV1) {
  return {
    id: h.id,
    time: h.time,
    log_id: h.log,
    actor_type: h.actor?.type,
    actor_id: h.actor?.id,
    action: h.action,
    target_type: h.target?.type ?? null,
    target_id: h.target?.id ?? null,
    outcome: h.outcome,
    request_id: h.requestId ?? null,
    run_id: h.v === 2 ? h.run : null,
  };
}

/** The row an entry is stored as (in the outbox while it waits, then in its log). */
export function entryRow(e: PreparedEntry) {
  const { log_id, ...columns } = headerColumns(e.header);
  return {
    log_id,
    format: 2,
    ...columns,
    leaf: e.leaf,
    leaf_hash: e.leafHash,
    details: e.details,
    salt: e.salt,
  };
}
