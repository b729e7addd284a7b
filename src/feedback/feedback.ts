/**
 * Team feedback on agents' answers: a person who may talk to an agent flags one of its run's
 * answers as wrong, with the correction and why. The flag is linked to the audit entry that
 * recorded the answer (the run's end: its index in the org's log and its leaf hash, so anyone can
 * prove which answer was flagged), listed per agent with the agent's flagged rate over time, and
 * resolved by an admin with a note. Flagging and resolving are both on record.
 */
import type { Kysely } from 'kysely';
import { requireAgentRow } from '../agents/index.ts';
import { recordChange } from '../audit/index.ts';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors/index.ts';
import type { OrgContext } from '../identity/context.ts';
import { newId } from '../ids/index.ts';
import { recorded, requireVisibleRun } from '../runtime/index.ts';
import type { Database, Db } from '../store/index.ts';
import type { FeedbackTable } from '../store/schema.ts';

export interface Feedback {
  id: string;
  agentId: string;
  runId: string;
  /** The audit entry that recorded the answer flagged. */
  entry: { index: number; leafHash: string };
  personId: string;
  correction: string;
  reason: string;
  status: 'open' | 'resolved';
  resolvedBy: string | null;
  resolution: string | null;
  resolvedAt: string | null;
  createdAt: string;
}

/** One day of an agent's answers: how many runs ended, and how many of those days' flags. */
export interface FlaggedDay {
  day: string;
  runs: number;
  flagged: number;
}

/** The actions that record a run's end with its answer. */
const END_ACTIONS = ['run.completed', 'run.failed', 'run.stopped'];

const toFeedback = (r: FeedbackTable): Feedback => ({
  id: r.id,
  agentId: r.agent_id,
  runId: r.run_id,
  entry: { index: Number(r.entry_index), leafHash: r.leaf_hash },
  personId: r.person_id,
  correction: r.correction,
  reason: r.reason,
  status: r.status,
  resolvedBy: r.resolved_by,
  resolution: r.resolution,
  resolvedAt: r.resolved_at,
  createdAt: r.created_at,
});

/** The run's end entry in the org's log, once the log's writer placed it. */
async function endEntry(db: Db, ctx: OrgContext, runId: string) {
  return db
    .selectFrom('audit_entries')
    .select(['idx', 'leaf_hash'])
    .where('log_id', '=', ctx.scope.orgId)
    .where('run_id', '=', runId)
    .where('action', 'in', END_ACTIONS)
    .orderBy('idx', 'desc')
    .executeTakeFirst();
}

/**
 * Flags a run's answer as wrong. `placed` waits for the audit log's writer (the run's end entry
 * may still be on its way into the tree when someone flags it at once).
 */
export async function flagOutput(
  db: Kysely<Database>,
  ctx: OrgContext,
  runId: string,
  input: { correction: string; reason: string },
  placed: () => Promise<void>,
): Promise<Feedback> {
  if (!ctx.userId) throw new ForbiddenError('person_required', 'Feedback is given by a person.');
  const run = await requireVisibleRun(db, ctx, runId);
  if (run.status === 'running' || run.status === 'waiting_approval')
    throw new ConflictError('run_not_ended', 'This run has not answered yet: flag it once it ends.');
  let entry = await endEntry(db, ctx, runId);
  if (!entry) {
    await placed();
    entry = await endEntry(db, ctx, runId);
  }
  if (!entry) throw new ConflictError('answer_not_recorded', 'The audit trail holds no answer of this run.');
  const row: FeedbackTable = {
    id: newId('fbk'),
    org_id: ctx.scope.orgId,
    agent_id: run.agent_id,
    run_id: run.id,
    entry_index: Number(entry.idx),
    leaf_hash: entry.leaf_hash,
    person_id: ctx.userId,
    correction: input.correction,
    reason: input.reason,
    status: 'open',
    resolved_by: null,
    resolution: null,
    resolved_at: null,
    created_at: new Date().toISOString(),
  };
  const policy = ctx.org.settings.runTextRecording;
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('feedback').values(row).execute();
    await recordChange(trx, ctx, {
      action: 'feedback.flagged',
      target: { type: 'run', id: run.id },
      runId: run.id,
      details: {
        feedbackId: row.id,
        agentId: run.agent_id,
        entry: { index: row.entry_index, leafHash: row.leaf_hash },
        correction: recorded(policy, row.correction),
        reason: recorded(policy, row.reason),
      },
    });
  });
  return toFeedback(row);
}

/**
 * An agent's feedback, newest first: all of it for owners, admins and auditors; a member's own.
 * With the agent's flagged rate per day over the last `days` days.
 */
export async function listFeedback(
  db: Db,
  ctx: OrgContext,
  agentId: string,
  opts: { status?: 'open' | 'resolved' | undefined; limit: number; days: number },
): Promise<{ feedback: Feedback[]; days: FlaggedDay[] }> {
  await requireAgentRow(db, ctx, agentId);
  let q = db
    .selectFrom('feedback')
    .selectAll()
    .where('org_id', '=', ctx.scope.orgId)
    .where('agent_id', '=', agentId);
  if (opts.status) q = q.where('status', '=', opts.status);
  if (ctx.role === 'member') q = q.where('person_id', '=', ctx.userId ?? '');
  const rows = await q.orderBy('created_at', 'desc').limit(opts.limit).execute();
  return { feedback: rows.map(toFeedback), days: await flaggedDays(db, ctx, agentId, opts.days) };
}

/** Per day (UTC) of the last `days`: the agent's runs that ended, and the flags given on its runs. */
async function flaggedDays(db: Db, ctx: OrgContext, agentId: string, days: number): Promise<FlaggedDay[]> {
  const today = new Date();
  const start = new Date(
    Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - days + 1),
  );
  const since = start.toISOString();
  const ended = await db
    .selectFrom('runs')
    .select('ended_at')
    .where('org_id', '=', ctx.scope.orgId)
    .where('agent_id', '=', agentId)
    .where('ended_at', '>=', since)
    .execute();
  const flagged = await db
    .selectFrom('feedback')
    .select('created_at')
    .where('org_id', '=', ctx.scope.orgId)
    .where('agent_id', '=', agentId)
    .where('created_at', '>=', since)
    .execute();
  const out = new Map<string, FlaggedDay>();
  for (let i = 0; i < days; i++) {
    const day = new Date(start.getTime() + i * 86_400_000).toISOString().slice(0, 10);
    out.set(day, { day, runs: 0, flagged: 0 });
  }
  for (const r of ended) {
    const d = out.get(String(r.ended_at).slice(0, 10));
    if (d) d.runs++;
  }
  for (const f of flagged) {
    const d = out.get(f.created_at.slice(0, 10));
    if (d) d.flagged++;
  }
  return [...out.values()];
}

/** Resolves an open flag with a note (owners and admins: the route's permission says so). */
export async function resolveFeedback(
  db: Kysely<Database>,
  ctx: OrgContext,
  id: string,
  note: string,
): Promise<Feedback> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('feedback')
      .selectAll()
      .where('org_id', '=', ctx.scope.orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new NotFoundError('feedback_not_found', 'No feedback with that id in this organization.');
    await requireAgentRow(trx, ctx, row.agent_id);
    if (row.status === 'resolved')
      throw new ConflictError('feedback_resolved', 'This feedback is resolved already.');
    const now = new Date().toISOString();
    const update = {
      status: 'resolved' as const,
      resolved_by: ctx.actor.id,
      resolution: note,
      resolved_at: now,
    };
    const written = await trx
      .updateTable('feedback')
      .set(update)
      .where('org_id', '=', ctx.scope.orgId)
      .where('id', '=', id)
      .where('status', '=', 'open')
      .executeTakeFirst();
    if (Number(written.numUpdatedRows) !== 1)
      throw new ConflictError('feedback_resolved', 'This feedback is resolved already.');
    await recordChange(trx, ctx, {
      action: 'feedback.resolved',
      target: { type: 'run', id: row.run_id },
      runId: row.run_id,
      details: {
        feedbackId: id,
        agentId: row.agent_id,
        entry: { index: Number(row.entry_index), leafHash: row.leaf_hash },
        note: recorded(ctx.org.settings.runTextRecording, note),
      },
    });
    return toFeedback({ ...row, ...update });
  });
}
