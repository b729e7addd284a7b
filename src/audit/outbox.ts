/**
 * The outbox: an event recorded inside a change's own transaction. It is on disk exactly when
 * the change is (no change without its record, no record without its change), and that commit
 * wakes the writer (a notification on `AUDIT_CHANNEL`, which the store delivers only on commit),
 * which gives the entry its place in the tree moments later.
 */
import { type Db, notify, type OrgScope } from '../store/index.ts';
import { type Actor, type AuditInput, entryRow, type PreparedEntry, prepareEntry } from './entry.ts';

/** Where a commit that left entries in the outbox says so; the payload is the log's id. */
export const AUDIT_CHANNEL = 'paddock_audit';

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
export function recordAudit(db: Db, input: AuditInput): Promise<string> {
  return writeOutbox(db, prepareEntry(input));
}

/** The one way into the outbox: the row, and the notification that wakes the writer on commit. */
export async function writeOutbox(db: Db, entry: PreparedEntry): Promise<string> {
  await db.insertInto('audit_outbox').values(entryRow(entry)).execute();
  await notify(db, AUDIT_CHANNEL, entry.header.log);
  return entry.header.id;
}
