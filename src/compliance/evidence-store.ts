/**
 * Evidence records, control results and collections as stored: always read and written within
 * one org (`orgId` in every query), never updated once written.
 */
import canonicalize from 'canonicalize';
import type { Selectable } from 'kysely';
import { NotFoundError } from '../errors/index.ts';
import { newId } from '../ids/index.ts';
import type { Db } from '../store/index.ts';
import type { ComplianceEvidenceTable, ComplianceResultTable } from '../store/schema.ts';
import { evidenceHash, plainData } from './evidence.ts';
import type { FigureSpec } from './figures.ts';
import type { LogSnapshot } from './log-window.ts';
import type { ControlResult, ControlStatus, EvidenceDraft, EvidenceRecord } from './types.ts';

export interface NewEvidence {
  orgId: string;
  controlId: string;
  collectionId: string | null;
  collectedAt: string;
  period: { from: string; to: string };
  draft: EvidenceDraft;
  /** Set when the draft was computed from audit entries. */
  log: LogSnapshot | null;
}

/** Stores one record: its data redacted and canonical, hashed as `evidenceHash` says. */
export async function insertEvidence(db: Db, e: NewEvidence): Promise<EvidenceRecord> {
  const draft: EvidenceDraft = { kind: e.draft.kind, data: plainData(e.draft.data) };
  if (e.draft.figure) draft.figure = e.draft.figure;
  const record: EvidenceRecord = {
    id: newId('evd'),
    orgId: e.orgId,
    controlId: e.controlId,
    collectedAt: e.collectedAt,
    period: e.period,
    ...draft,
    hash: evidenceHash(draft),
    log: e.log ? { treeSize: e.log.treeSize, checkpoint: e.log.checkpoint, range: e.log.range } : null,
  };
  await db
    .insertInto('compliance_evidence')
    .values({
      id: record.id,
      org_id: e.orgId,
      collection_id: e.collectionId,
      control_id: e.controlId,
      kind: record.kind,
      collected_at: record.collectedAt,
      period_from: record.period.from,
      period_to: record.period.to,
      data: canonicalize(record.data) ?? 'null',
      figure: record.figure ? canonicalize(record.figure)! : null,
      hash: record.hash,
      tree_size: record.log?.treeSize ?? null,
      checkpoint: record.log?.checkpoint ?? null,
      range_from: record.log?.range[0] ?? null,
      range_to: record.log?.range[1] ?? null,
    })
    .execute();
  return record;
}

export function toEvidence(r: Selectable<ComplianceEvidenceTable>): EvidenceRecord {
  const record: EvidenceRecord = {
    id: r.id,
    orgId: r.org_id,
    controlId: r.control_id,
    collectedAt: r.collected_at,
    period: { from: r.period_from, to: r.period_to },
    kind: r.kind,
    data: JSON.parse(r.data) as unknown,
    hash: r.hash,
    log:
      r.tree_size === null
        ? null
        : {
            treeSize: Number(r.tree_size),
            checkpoint: r.checkpoint ?? '',
            range: [Number(r.range_from), Number(r.range_to)],
          },
  };
  if (r.figure) record.figure = JSON.parse(r.figure) as FigureSpec;
  return record;
}

export interface EvidenceQuery {
  control?: string | undefined;
  kind?: string | undefined;
  collection?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  limit: number;
  /** Continue before this collection time (newest first). */
  before?: string | undefined;
}

export async function listEvidence(db: Db, orgId: string, q: EvidenceQuery): Promise<EvidenceRecord[]> {
  let query = db.selectFrom('compliance_evidence').selectAll().where('org_id', '=', orgId);
  if (q.control) query = query.where('control_id', '=', q.control);
  if (q.kind) query = query.where('kind', '=', q.kind);
  if (q.collection) query = query.where('collection_id', '=', q.collection);
  if (q.from) query = query.where('collected_at', '>=', q.from);
  if (q.to) query = query.where('collected_at', '<', q.to);
  if (q.before) query = query.where('collected_at', '<', q.before);
  const rows = await query.orderBy('collected_at', 'desc').orderBy('id').limit(q.limit).execute();
  return rows.map(toEvidence);
}

export async function getEvidence(db: Db, orgId: string, id: string): Promise<EvidenceRecord> {
  const row = await db
    .selectFrom('compliance_evidence')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('evidence_not_found', 'No such evidence record in this organization.');
  return toEvidence(row);
}

export interface StoredResult extends ControlResult {
  id: string;
  collectionId: string;
}

export function toResult(r: Selectable<ComplianceResultTable>): StoredResult {
  return {
    id: r.id,
    collectionId: r.collection_id,
    controlId: r.control_id,
    status: r.status as ControlStatus,
    reason: r.reason,
    evaluatedAt: r.evaluated_at,
    evidence: JSON.parse(r.evidence) as string[],
  };
}

export async function insertResult(
  db: Db,
  orgId: string,
  collectionId: string,
  result: ControlResult,
): Promise<StoredResult> {
  const id = newId('res');
  await db
    .insertInto('compliance_results')
    .values({
      id,
      org_id: orgId,
      collection_id: collectionId,
      control_id: result.controlId,
      status: result.status,
      reason: result.reason,
      evaluated_at: result.evaluatedAt,
      evidence: JSON.stringify(result.evidence),
    })
    .execute();
  return { ...result, id, collectionId };
}

/** The latest result of every control that has one. */
export async function latestResults(db: Db, orgId: string): Promise<Map<string, StoredResult>> {
  const last = await db
    .selectFrom('compliance_collections')
    .select('id')
    .where('org_id', '=', orgId)
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!last) return new Map();
  const rows = await db
    .selectFrom('compliance_results')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('collection_id', '=', last.id)
    .execute();
  return new Map(rows.map((r) => [r.control_id, toResult(r)]));
}

/** One control's results, newest first. */
export async function resultHistory(
  db: Db,
  orgId: string,
  controlId: string,
  limit: number,
): Promise<StoredResult[]> {
  const rows = await db
    .selectFrom('compliance_results')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('control_id', '=', controlId)
    .orderBy('evaluated_at', 'desc')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toResult);
}
