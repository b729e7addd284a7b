/**
 * The audit trail: one tamper-evident log per org (and one for the platform). Changes record
 * their event with `recordAudit` inside their own transaction; other events (tool calls,
 * refused sign-ins) use `AuditTrail.append`, which resolves once the event is durable. The
 * trail's signing keys are kept by whoever fulfils `LogKeys` (the vault).
 */

export * from './activity.ts';
export type { CheckpointPublisher } from './checkpoints.ts';
export type { Actor, AuditInput, EntryHeader, EntryV1, Outcome } from './entry.ts';
export { detailsDigest, PLATFORM_LOG, parseLeaf, prepareEntry } from './entry.ts';
export { applyRetention, ERASURE, eraseEntries, recordFormatUpgrade } from './erasure.ts';
export * from './export.ts';
export { journalFiles } from './journal.ts';
export type { LogKeys } from './keys.ts';
export { hashLeaf, rootFromRange, verifyConsistency } from './merkle.ts';
export type { Checkpoint, Verifier } from './note.ts';
export { openCheckpoint, openStatement, parseVerifierKey } from './note.ts';
export { type ChangeContext, recordAudit, recordChange } from './outbox.ts';
export { checkpointCustody, fileCheckpointPublisher, webhookCheckpointPublisher } from './publish.ts';
export * from './query.ts';
export type { Receipt } from './queue.ts';
export { SiemStreamer } from './siem.ts';
export { AuditTrail, type TrailObserver } from './trail.ts';
export * from './verify.ts';
