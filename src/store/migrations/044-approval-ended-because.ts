/**
 * Why an approval ended before its time: its run ended, its agent or every agent of the org was
 * stopped, or the person it was asked for was removed. Null when it ran its time (or ended before
 * this was recorded), so an approver and an auditor read from the request itself what closed it.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function approvalEndedBecause(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('approvals').addColumn('ended_because', 'text').execute();
    },
  };
}
