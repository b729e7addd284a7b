/**
 * The audit trail: one tamper-evident log per org (and one for the platform). Changes record
 * their event with `recordAudit` inside their own transaction; other events (tool calls,
 * refused sign-ins) use `AuditTrail.append`, which resolves once the event is durable.
 */
import type { Db } from '../store/index.ts';
import { type AuditInput, prepareEntry } from './entry.ts';

export type { Actor, AuditInput, EntryBody, Outcome } from './entry.ts';
export { PLATFORM_LOG, prepareEntry } from './entry.ts';
export * from './export.ts';
export { fileCheckpointPublisher, webhookCheckpointPublisher } from './publish.ts';
export * from './query.ts';
export { expirePayloads } from './retention.ts';
export { SiemStreamer } from './siem.ts';
export type { CheckpointPublisher, Receipt } from './trail.ts';
export { AuditTrail } from './trail.ts';
export * from './verify.ts';

/**
 * Records an event in the caller's transaction: it is on disk exactly when the change is, and
 * the log's writer gives it its place in the tree moments later.
 */
export async function recordAudit(db: Db, input: AuditInput): Promise<string> {
  const e = prepareEntry(input);
  const b = e.body;
  await db
    .insertInto('audit_outbox')
    .values({
      log_id: b.log,
      id: b.id,
      time: b.time,
      actor_type: b.actor.type,
      actor_id: b.actor.id,
      action: b.action,
      target_type: b.target?.type ?? null,
      target_id: b.target?.id ?? null,
      outcome: b.outcome,
      request_id: b.requestId,
      leaf: e.leaf,
      leaf_hash: e.leafHash,
    })
    .execute();
  return b.id;
}
