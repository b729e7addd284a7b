/**
 * The audit trail: one tamper-evident log per org (and one for the platform). Changes record
 * their event with `recordAudit` inside their own transaction; other events (tool calls,
 * refused sign-ins) use `AuditTrail.append`, which resolves once the event is durable.
 */
import type { Db, OrgScope } from '../store/index.ts';
import { type Actor, type AuditInput, entryRow, prepareEntry } from './entry.ts';

export type { Actor, AuditInput, EntryHeader, EntryV1, Outcome } from './entry.ts';
export { detailsDigest, PLATFORM_LOG, parseLeaf, prepareEntry } from './entry.ts';
export { applyRetention, ERASURE, eraseEntries, recordFormatUpgrade } from './erasure.ts';
export * from './export.ts';
export { checkpointCustody, fileCheckpointPublisher, webhookCheckpointPublisher } from './publish.ts';
export * from './query.ts';
export { SiemStreamer } from './siem.ts';
export type { CheckpointPublisher, Receipt } from './trail.ts';
export { AuditTrail } from './trail.ts';
export * from './verify.ts';

/** Who is changing an org's configuration, as the services hold it (an OrgContext). */
export interface ChangeContext {
  scope: OrgScope;
  actor: Actor;
  requestId: string;
}

/**
 * Records a configuration change made by `ctx` in its org, in the caller's transaction.
 *
 * @example
 *   await recordChange(trx, ctx, { action: 'team.created', target: { type: 'team', id }, details: { after } });
 */
export function recordChange(
  db: Db,
  ctx: ChangeContext,
  event: Omit<AuditInput, 'orgId' | 'actor' | 'requestId'>,
): Promise<string> {
  return recordAudit(db, { ...event, orgId: ctx.scope.orgId, actor: ctx.actor, requestId: ctx.requestId });
}

/**
 * Records an event in the caller's transaction: it is on disk exactly when the change is, and
 * the log's writer gives it its place in the tree moments later.
 */
export async function recordAudit(db: Db, input: AuditInput): Promise<string> {
  const e = prepareEntry(input);
  await db.insertInto('audit_outbox').values(entryRow(e)).execute();
  return e.header.id;
}
