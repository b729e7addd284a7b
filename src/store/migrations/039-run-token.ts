/**
 * The token a run and its conversation were started with, when it acts for no person (a service
 * token): "your own runs" for such a token are those it started, not every run of nobody's
 * (a webhook's, another program's).
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function runToken(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('runs').addColumn('token_id', 'text').execute();
      await db.schema.alterTable('conversations').addColumn('token_id', 'text').execute();
    },
  };
}
