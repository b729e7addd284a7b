/**
 * The run an approval was asked for, when a run asked it: the approval serves that run's call
 * only (not a later identical call of another run, nor one made after the run ended), it expires
 * with the run, and its decision is among the run's audit entries. Approvals from before are
 * given theirs from the audit trail (their `approval.requested` entry's run).
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

/** Approvals from before: the run that asked, from the audit trail (written, or still in its outbox). */
export async function backfillApprovalRuns(db: Kysely<unknown>): Promise<void> {
  for (const table of ['audit_entries', 'audit_outbox']) {
    await sql`
      update approvals set run_id = s.run_id
      from (
        select target_id, min(run_id) as run_id from ${sql.table(table)}
        where action = 'approval.requested' and target_type = 'approval' and run_id is not null
        group by target_id
      ) s
      where s.target_id = approvals.id and approvals.run_id is null`.execute(db);
  }
}
