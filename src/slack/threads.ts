/**
 * Slack threads as Paddock conversations: the thread a run started from carries that run's
 * conversation, so a follow-up in it continues the conversation; and the Slack runs waiting on an
 * approval, whose answer goes back to their thread however and wherever the approval is decided.
 * Every query is scoped to the org.
 */
import type { Db } from '../store/index.ts';

/** A message's timestamp as Slack writes it (seconds.micros): a thread's id in its channel. */
export const THREAD_TS = /^\d{1,12}\.\d{1,9}$/;

export interface SlackThread {
  channel: string;
  thread_ts: string;
}

/** The conversation a thread carries, and with which agent; undefined for a thread Paddock never answered. */
export async function threadOf(
  db: Db,
  orgId: string,
  thread: SlackThread,
): Promise<{ agentId: string; conversationId: string } | undefined> {
  const row = await db
    .selectFrom('slack_threads')
    .select(['agent_id', 'conversation_id'])
    .where('org_id', '=', orgId)
    .where('channel_id', '=', thread.channel)
    .where('thread_ts', '=', thread.thread_ts)
    .executeTakeFirst();
  return row ? { agentId: row.agent_id, conversationId: row.conversation_id } : undefined;
}

/** The thread now carries this conversation (a run started in it). */
export async function rememberThread(
  db: Db,
  orgId: string,
  thread: SlackThread,
  agentId: string,
  conversationId: string,
): Promise<void> {
  await db
    .insertInto('slack_threads')
    .values({
      org_id: orgId,
      channel_id: thread.channel,
      thread_ts: thread.thread_ts,
      agent_id: agentId,
      conversation_id: conversationId,
      created_at: new Date().toISOString(),
    })
    .onConflict((oc) =>
      oc
        .columns(['org_id', 'channel_id', 'thread_ts'])
        .doUpdateSet({ agent_id: agentId, conversation_id: conversationId }),
    )
    .execute();
}

/** The run waits on an approval: its answer is owed to this thread. */
export async function owedAnswer(db: Db, orgId: string, runId: string, thread: SlackThread): Promise<void> {
  await db
    .insertInto('slack_waiting_runs')
    .values({
      run_id: runId,
      org_id: orgId,
      channel_id: thread.channel,
      thread_ts: thread.thread_ts,
      noted_at: new Date().toISOString(),
    })
    .onConflict((oc) => oc.column('run_id').doNothing())
    .execute();
}

/** The org's owed answers whose run has ended (resumed after a decision, denied, expired or stopped). */
export async function answersDue(db: Db, orgId: string): Promise<{ runId: string; thread: SlackThread }[]> {
  const rows = await db
    .selectFrom('slack_waiting_runs as w')
    .innerJoin('runs as r', (j) => j.onRef('r.id', '=', 'w.run_id').onRef('r.org_id', '=', 'w.org_id'))
    .select(['w.run_id', 'w.channel_id', 'w.thread_ts'])
    .where('w.org_id', '=', orgId)
    .where('r.status', 'not in', ['running', 'waiting_approval'])
    .execute();
  return rows.map((r) => ({ runId: r.run_id, thread: { channel: r.channel_id, thread_ts: r.thread_ts } }));
}

/**
 * The org's owed runs that resumed and wait again since their wait was noted: the approvals they
 * wait on now, for cards and a word in the thread.
 */
export async function newWaits(
  db: Db,
  orgId: string,
): Promise<{ runId: string; thread: SlackThread; notedAt: string; approvalIds: string[] }[]> {
  const rows = await db
    .selectFrom('slack_waiting_runs as w')
    .innerJoin('runs as r', (j) => j.onRef('r.id', '=', 'w.run_id').onRef('r.org_id', '=', 'w.org_id'))
    .select(['w.run_id', 'w.channel_id', 'w.thread_ts', 'w.noted_at', 'r.pending'])
    .where('w.org_id', '=', orgId)
    .where('r.status', '=', 'waiting_approval')
    .whereRef('r.updated_at', '>', 'w.noted_at')
    .execute();
  return rows.map((r) => ({
    runId: r.run_id,
    thread: { channel: r.channel_id, thread_ts: r.thread_ts },
    notedAt: r.noted_at,
    approvalIds: r.pending
      ? (JSON.parse(r.pending) as { approvalId: string }[]).map((p) => p.approvalId).slice(0, 20)
      : [],
  }));
}

/** Takes note of a run's new wait; false when another replica noted it first (so it is told once). */
export async function noteWait(db: Db, orgId: string, runId: string, seen: string): Promise<boolean> {
  const r = await db
    .updateTable('slack_waiting_runs')
    .set({ noted_at: new Date().toISOString() })
    .where('org_id', '=', orgId)
    .where('run_id', '=', runId)
    .where('noted_at', '=', seen)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Takes an owed answer to post it; false when another replica took it first (so it is posted once). */
export async function takeAnswer(db: Db, orgId: string, runId: string): Promise<boolean> {
  const r = await db
    .deleteFrom('slack_waiting_runs')
    .where('org_id', '=', orgId)
    .where('run_id', '=', runId)
    .executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}

/** The orgs with answers owed (the scheduled backstop looks at each). */
export async function orgsOwedAnswers(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('slack_waiting_runs').select('org_id').distinct().execute();
  return rows.map((r) => r.org_id);
}
