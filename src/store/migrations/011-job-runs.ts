/**
 * Runs of the platform's scheduled jobs (retention, later evidence collection, token refresh):
 * one row per run that took its job's lock, with its outcome and the counts the job returned.
 * Kept bounded per job by the scheduler; a run's row is written where it ran.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';
import { seqKey } from './columns.ts';

export function jobRuns(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await seqKey(db.schema.createTable('job_runs'), dialect)
        .addColumn('job', 'text', (c) => c.notNull())
        .addColumn('replica', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('ended_at', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('counts', 'text')
        .execute();
      // "The last runs of a job" and pruning to a bounded history walk this index backwards.
      await db.schema.createIndex('job_runs_job').on('job_runs').columns(['job', 'seq']).execute();
    },
  };
}
