/**
 * An audit entry as it goes into the tree: canonical JSON (RFC 8785) of who, what, when, on
 * what, with which outcome, and redacted details. The leaf hash covers exactly these bytes.
 */
import canonicalize from 'canonicalize';
import { newId } from '../identity/credentials.ts';
import { redact } from '../redact/index.ts';
import { hashLeaf } from './merkle.ts';

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
  /** Before/after or other facts; secrets are redacted before anything is stored. */
  details?: Record<string, unknown>;
}

/** The entry exactly as hashed. */
export interface EntryBody {
  v: 1;
  id: string;
  time: string;
  log: string;
  org: string | null;
  actor: Actor;
  action: string;
  target: { type: string; id: string } | null;
  outcome: Outcome;
  requestId: string | null;
  details: Record<string, unknown>;
}

export interface PreparedEntry {
  body: EntryBody;
  leaf: string;
  leafHash: string;
}

const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

export function prepareEntry(input: AuditInput, now = new Date()): PreparedEntry {
  if (!ACTION.test(input.action))
    throw new Error(`audit action "${input.action}" is not a dotted lowercase name`);
  const body: EntryBody = {
    v: 1,
    id: newId('evt'),
    time: now.toISOString(),
    log: input.orgId ?? PLATFORM_LOG,
    org: input.orgId,
    actor: { type: input.actor.type, id: input.actor.id },
    action: input.action,
    target: input.target ? { type: input.target.type, id: input.target.id } : null,
    outcome: input.outcome ?? 'success',
    requestId: input.requestId ?? null,
    // JSON round trip first: canonical JSON has no undefined, Dates or functions.
    details: redact(JSON.parse(JSON.stringify(input.details ?? {})) as Record<string, unknown>),
  };
  const leaf = canonicalize(body)!;
  return { body, leaf, leafHash: hashLeaf(leaf).toString('base64') };
}
