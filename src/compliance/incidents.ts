/**
 * The incident register: each incident with its severity, status, timeline and actions. Every
 * change adds a timeline line and an audit entry, so the register's history is the log's.
 */
import type { Kysely } from 'kysely';
import { recordChange } from '../audit/index.ts';
import { ConflictError, NotFoundError } from '../errors/index.ts';
import type { OrgContext } from '../identity/index.ts';
import { newId } from '../ids/index.ts';
import type { Database, Db } from '../store/index.ts';
import type { ComplianceIncidentTable } from '../store/schema.ts';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const INCIDENT_STATUSES = ['open', 'contained', 'resolved', 'closed'] as const;
export type Severity = (typeof SEVERITIES)[number];
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export interface TimelineLine {
  time: string;
  note: string;
  by: string;
}

export interface IncidentAction {
  id: string;
  action: string;
  owner: string | null;
  done: boolean;
}

export interface Incident {
  id: string;
  title: string;
  severity: Severity;
  status: IncidentStatus;
  summary: string;
  detectedAt: string;
  resolvedAt: string | null;
  timeline: TimelineLine[];
  actions: IncidentAction[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

function toIncident(r: ComplianceIncidentTable): Incident {
  return {
    id: r.id,
    title: r.title,
    severity: r.severity,
    status: r.status,
    summary: r.summary,
    detectedAt: r.detected_at,
    resolvedAt: r.resolved_at,
    timeline: JSON.parse(r.timeline) as TimelineLine[],
    actions: JSON.parse(r.actions) as IncidentAction[],
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export async function listIncidents(db: Db, orgId: string): Promise<Incident[]> {
  const rows = await db
    .selectFrom('compliance_incidents')
    .selectAll()
    .where('org_id', '=', orgId)
    .orderBy('detected_at', 'desc')
    .orderBy('id')
    .execute();
  return rows.map(toIncident);
}

async function requireRow(db: Db, orgId: string, id: string): Promise<ComplianceIncidentTable> {
  const row = await db
    .selectFrom('compliance_incidents')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('incident_not_found', 'No such incident in this organization.');
  return row;
}

export async function getIncident(db: Db, orgId: string, id: string): Promise<Incident> {
  return toIncident(await requireRow(db, orgId, id));
}

export interface NewIncident {
  title: string;
  severity: Severity;
  summary: string;
  detectedAt?: string | undefined;
}

export async function openIncident(
  db: Kysely<Database>,
  ctx: OrgContext,
  input: NewIncident,
): Promise<Incident> {
  return db.transaction().execute(async (trx) => {
    const now = new Date().toISOString();
    const row: ComplianceIncidentTable = {
      id: newId('inc'),
      org_id: ctx.scope.orgId,
      title: input.title,
      severity: input.severity,
      status: 'open',
      summary: input.summary,
      detected_at: input.detectedAt ?? now,
      resolved_at: null,
      timeline: JSON.stringify([
        { time: now, note: `Opened (${input.severity}): ${input.title}`, by: ctx.actor.id },
      ]),
      actions: '[]',
      created_by: ctx.actor.id,
      created_at: now,
      updated_at: now,
    };
    await trx.insertInto('compliance_incidents').values(row).execute();
    await recordChange(trx, ctx, {
      action: 'compliance.incident.opened',
      target: { type: 'incident', id: row.id },
      details: { after: toIncident(row) },
    });
    return toIncident(row);
  });
}

export interface IncidentChange {
  status?: IncidentStatus | undefined;
  severity?: Severity | undefined;
  summary?: string | undefined;
  /** A line for the timeline (what happened, what was decided). */
  note?: string | undefined;
  addActions?: Array<{ action: string; owner?: string | null | undefined }> | undefined;
  /** Ids of actions now done. */
  doneActions?: string[] | undefined;
}

export async function updateIncident(
  db: Kysely<Database>,
  ctx: OrgContext,
  id: string,
  change: IncidentChange,
): Promise<Incident> {
  return db.transaction().execute(async (trx) => {
    const before = toIncident(await requireRow(trx, ctx.scope.orgId, id));
    if (before.status === 'closed') throw new ConflictError('incident_closed', 'This incident is closed.');
    const now = new Date().toISOString();
    const by = ctx.actor.id;
    const after: Incident = {
      ...before,
      timeline: [...before.timeline],
      actions: [...before.actions],
      updatedAt: now,
    };
    const line = (note: string) => after.timeline.push({ time: now, note, by });
    if (change.severity && change.severity !== before.severity) {
      after.severity = change.severity;
      line(`Severity ${before.severity} → ${change.severity}`);
    }
    if (change.status && change.status !== before.status) {
      after.status = change.status;
      line(`Status ${before.status} → ${change.status}`);
      if ((change.status === 'resolved' || change.status === 'closed') && !after.resolvedAt)
        after.resolvedAt = now;
    }
    if (change.summary !== undefined && change.summary !== before.summary) {
      after.summary = change.summary;
      line('Summary updated');
    }
    for (const a of change.addActions ?? []) {
      after.actions.push({ id: newId('act'), action: a.action, owner: a.owner ?? null, done: false });
      line(`Action: ${a.action}`);
    }
    for (const done of change.doneActions ?? []) {
      const a = after.actions.find((x) => x.id === done);
      if (!a) throw new NotFoundError('action_not_found', `No action ${done} on this incident.`);
      if (!a.done) {
        after.actions = after.actions.map((x) => (x.id === done ? { ...x, done: true } : x));
        line(`Done: ${a.action}`);
      }
    }
    if (change.note) line(change.note);
    await trx
      .updateTable('compliance_incidents')
      .set({
        severity: after.severity,
        status: after.status,
        summary: after.summary,
        resolved_at: after.resolvedAt,
        timeline: JSON.stringify(after.timeline),
        actions: JSON.stringify(after.actions),
        updated_at: now,
      })
      .where('org_id', '=', ctx.scope.orgId)
      .where('id', '=', id)
      .execute();
    await recordChange(trx, ctx, {
      action: 'compliance.incident.updated',
      target: { type: 'incident', id },
      details: { change, after: { status: after.status, severity: after.severity } },
    });
    return after;
  });
}
