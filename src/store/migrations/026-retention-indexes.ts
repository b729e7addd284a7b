/**
 * Indexes that keep each batch of the daily retention job cheap on a large backlog: expired rows
 * found by org and age, and the cascades of a deletion (a conversation's runs, a run's flags)
 * found by key instead of by scanning the whole table once per deleted row.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function retentionIndexes(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('runs_by_end').on('runs').columns(['org_id', 'ended_at']).execute();
      await db.schema
        .createIndex('runs_by_conversation')
        .on('runs')
        .columns(['conversation_id', 'status'])
        .execute();
      await db.schema
        .createIndex('conversations_by_age')
        .on('conversations')
        .columns(['org_id', 'updated_at'])
        .execute();
      await db.schema
        .createIndex('memories_by_age')
        .on('memories')
        .columns(['org_id', 'updated_at'])
        .execute();
      await db.schema.createIndex('feedback_by_run').on('feedback').column('run_id').execute();
    },
  };
}
