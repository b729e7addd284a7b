/**
 * What people decided on the calls a run waited for (JSON: tool call, approval, outcome), kept
 * by the control plane as it resumes the run, so a conversation read back says which calls a
 * person approved or denied — from the record, not from what the cell reported.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function runDecisions(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('runs').addColumn('decisions', 'text').execute();
    },
  };
}
