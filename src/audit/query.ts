/** Reading the trail: filters, cursor pagination, one agent's sequence of actions. */

import type { Selectable } from 'kysely';
import { sql } from 'kysely';
import type { Db, OrgScope } from '../store/index.ts';
import type { AuditEntryTable } from '../store/schema.ts';
import { headerColumns, parseLeaf } from './entry.ts';

export interface AuditQuery {
  /** An exact action, or a prefix ending in `*` (`team.*`). */
  action?: string | undefined;
  /** Who acted: a person, token, agent or system id. */
  actor?: string | undefined;
  /** Events an agent did, or that were done to it. */
  agent?: string | undefined;
  /** Events of one agent run. */
  run?: string | undefined;
  outcome?: string | undefined;
  /** ISO times: from inclusive, to exclusive. */
  from?: string | undefined;
  to?: string | undefined;
  /** Free text, matched in the whole entry. */
  q?: string | undefined;
  /** Continue after this index (from a previous page's nextCursor). */
  cursor?: number | undefined;
  limit: number;
  /** `desc` (newest first, default) or `asc` (to replay a sequence). */
  order?: 'asc' | 'desc' | undefined;
}

export interface AuditEvent {
  index: number;
  id: string;
  time: string;
  actor: { type: string; id: string };
  action: string;
  target: { type: string; id: string } | null;
  outcome: string;
  requestId: string | null;
  runId: string | null;
  /** Null once erased (a retention run, a deletion request); the header above never is. */
  details: Record<string, unknown> | null;
  leafHash: string;
  erased: boolean;
  /** The entry that erased the details, when they were. */
  erasedBy: string | null;
  /** 2: the header commits to the details by a salted digest; 1: an entry from before that. */
  format: 1 | 2;
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * An entry as shown: every field from the hashed leaf (never from the indexed columns, which
 * `verify` checks against it), and the details from the stored payload.
 */
export function toAuditEvent(r: Selectable<AuditEntryTable>): AuditEvent {
  const leaf = r.leaf === null ? null : parseLeaf(r.leaf);
  const h = leaf ? headerColumns(leaf) : r;
  const details =
    leaf?.v === 1
      ? leaf.details
      : r.details === null
        ? null
        : (JSON.parse(r.details) as Record<string, unknown>);
  return {
    index: Number(r.idx),
    id: h.id,
    time: h.time,
    actor: { type: h.actor_type, id: h.actor_id },
    action: h.action,
    target: h.target_type && h.target_id ? { type: h.target_type, id: h.target_id } : null,
    outcome: h.outcome,
    requestId: h.request_id,
    runId: h.run_id,
    details,
    leafHash: r.leaf_hash,
    erased: details === null,
    erasedBy: r.erased_by,
    format: leaf?.v === 2 ? 2 : 1,
  };
}

export async function queryAudit(
  db: Db,
  scope: OrgScope,
  query: AuditQuery,
): Promise<{ events: AuditEvent[]; nextCursor: number | null }> {
  const order = query.order ?? 'desc';
  let q = db.selectFrom('audit_entries').selectAll().where('log_id', '=', scope.orgId);
  if (query.action?.endsWith('*')) {
    q = q.where(sql<boolean>`action like ${`${escapeLike(query.action.slice(0, -1))}%`} escape '\\'`);
  } else if (query.action) q = q.where('action', '=', query.action);
  if (query.actor) q = q.where('actor_id', '=', query.actor);
  if (query.agent) {
    const agent = query.agent;
    q = q.where((eb) =>
      eb.or([
        eb.and([eb('actor_type', '=', 'agent'), eb('actor_id', '=', agent)]),
        eb.and([eb('target_type', '=', 'agent'), eb('target_id', '=', agent)]),
      ]),
    );
  }
  if (query.run) q = q.where('run_id', '=', query.run);
  if (query.outcome) q = q.where('outcome', '=', query.outcome);
  if (query.from) q = q.where('time', '>=', query.from);
  if (query.to) q = q.where('time', '<', query.to);
  if (query.q) {
    const like = `%${escapeLike(query.q.toLowerCase())}%`;
    q = q.where(
      sql<boolean>`(lower(leaf) like ${like} escape '\\' or lower(details) like ${like} escape '\\')`,
    );
  }
  if (query.cursor !== undefined) q = q.where('idx', order === 'desc' ? '<' : '>', query.cursor);
  const rows = await q
    .orderBy('idx', order)
    .limit(query.limit + 1)
    .execute();
  const events = rows.slice(0, query.limit).map(toAuditEvent);
  return { events, nextCursor: rows.length > query.limit ? events.at(-1)!.index : null };
}

/** One entry of the org's log, by its index or by its id (`evt_…`, as a result record names its decision). */
export async function getAuditEvent(
  db: Db,
  scope: OrgScope,
  ref: number | string,
): Promise<AuditEvent | undefined> {
  const row = await db
    .selectFrom('audit_entries')
    .selectAll()
    .where('log_id', '=', scope.orgId)
    .where(typeof ref === 'number' ? 'idx' : 'id', '=', ref)
    .executeTakeFirst();
  return row ? toAuditEvent(row) : undefined;
}
