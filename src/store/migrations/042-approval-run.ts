/**
 * The run an approval was asked for, when a run asked it: the approval serves that run's call
 * only (not a later identical call of another run, nor one made after the run ended), it expires
 * with the run, and its decision is among the run's audit entries. Approvals from before are
 * given theirs from the audit trail (their `approval.requested` entry's run); those still live
 * whose run has ended, or whose agent or org is stopped, end now, as they would have since.
 */
import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../types.ts';

export function approvalRun(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('approvals').addColumn('run_id', 'text').execute();
      await db.schema.createIndex('approvals_by_run').on('approvals').columns(['org_id', 'run_id']).execute();
      await backfillApprovalRuns(db);
    },
  };
}

/** Approvals from before: the run that asked, and an end for those whose run or agent has ended. */
export async function backfillApprovalRuns(db: Kysely<unknown>): Promise<void> {
  // One indexed look-up an approval (the entries by log and target), in its org's log only;
  // an entry still waiting in the outbox counts too.
  for (const table of ['audit_entries', 'audit_outbox']) {
    await sql`
      update approvals set run_id = (
        select min(e.run_id) from ${sql.table(table)} e
        where e.log_id = approvals.org_id and e.target_id = approvals.id
          and e.action = 'approval.requested' and e.run_id is not null
      )
      where approvals.run_id is null`.execute(db);
  }
  const now = new Date().toISOString();
  await sql`
    update approvals set expires_at = ${now}
    where status in ('pending', 'approved') and expires_at > ${now}
      and (
        (run_id is not null and not exists (
          select 1 from runs r where r.org_id = approvals.org_id and r.id = approvals.run_id
            and r.status in ('running', 'waiting_approval')))
        or exists (
          select 1 from agents a where a.org_id = approvals.org_id and a.id = approvals.agent_id
            and a.state <> 'active')
        or exists (
          select 1 from orgs o where o.id = approvals.org_id and o.agents_stopped_at is not null)
      )`.execute(db);
}
