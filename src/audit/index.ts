/**
 * The one audit entry point. Every change to people, roles, tokens and settings is recorded
 * here, in the same transaction as the change itself, so a change is never on disk without its
 * record. Details pass through the redaction layer first.
 */
import { sql } from 'kysely';
import { newId } from '../identity/credentials.ts';
import type { OrgScope } from '../identity/scope.ts';
import { redact } from '../redact/index.ts';
import type { Db } from '../store/index.ts';
import type { AuditEventTable } from '../store/schema.ts';

export interface Actor {
  type: 'person' | 'token' | 'agent' | 'system';
  id: string;
}

export interface AuditInput {
  orgId: string | null;
  actor: Actor;
  /** Dotted name: `person.invited`, `token.revoked`, `org.settings.updated`. */
  action: string;
  target?: { type: string; id: string } | undefined;
  outcome?: AuditEventTable['outcome'];
  requestId?: string | undefined;
  /** Before/after or other facts; secrets are redacted before storing. */
  details?: Record<string, unknown>;
}

export interface AuditEvent {
  seq: number;
  id: string;
  orgId: string | null;
  time: string;
  actor: Actor;
  action: string;
  target: { type: string; id: string } | null;
  outcome: string;
  requestId: string | null;
  details: Record<string, unknown>;
}

export async function recordAudit(db: Db, input: AuditInput): Promise<string> {
  const id = newId('evt');
  await db
    .insertInto('audit_events')
    .values({
      id,
      org_id: input.orgId,
      time: new Date().toISOString(),
      actor_type: input.actor.type,
      actor_id: input.actor.id,
      action: input.action,
      target_type: input.target?.type ?? null,
      target_id: input.target?.id ?? null,
      outcome: input.outcome ?? 'success',
      request_id: input.requestId ?? null,
      details: JSON.stringify(redact(input.details ?? {})),
    })
    .execute();
  return id;
}

export interface AuditFilter {
  /** An exact action, or a prefix ending in `*` (`team.*`). */
  action?: string | undefined;
  actorId?: string | undefined;
  after?: number | undefined;
  limit: number;
}

/** Newest first; `after` is a cursor (a seq) for the next page. */
export async function listAudit(db: Db, scope: OrgScope, filter: AuditFilter): Promise<AuditEvent[]> {
  let q = db.selectFrom('audit_events').selectAll().where('org_id', '=', scope.orgId);
  if (filter.action?.endsWith('*')) {
    // `person.*` matches every action under `person.`.
    const prefix = filter.action.slice(0, -1).replace(/[\\%_]/g, (ch) => `\\${ch}`);
    q = q.where(sql<boolean>`action like ${`${prefix}%`} escape '\\'`);
  } else if (filter.action) q = q.where('action', '=', filter.action);
  if (filter.actorId) q = q.where('actor_id', '=', filter.actorId);
  if (filter.after !== undefined) q = q.where('seq', '<', filter.after);
  const rows = await q.orderBy('seq', 'desc').limit(filter.limit).execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    id: r.id,
    orgId: r.org_id,
    time: r.time,
    actor: { type: r.actor_type, id: r.actor_id },
    action: r.action,
    target: r.target_type && r.target_id ? { type: r.target_type, id: r.target_id } : null,
    outcome: r.outcome,
    requestId: r.request_id,
    details: JSON.parse(r.details) as Record<string, unknown>,
  }));
}
