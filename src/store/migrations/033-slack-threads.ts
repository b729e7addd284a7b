/**
 * Slack threads as conversations: the thread a run started from (or answered in) and the
 * conversation it carries, so a follow-up in the thread continues it (and who wrote in it); and the Slack runs waiting
 * on an approval, so their answer goes back to the thread however the approval is decided.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function slackThreads(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('slack_threads')
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('thread_ts', 'text', (c) => c.notNull())
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
        .addColumn('conversation_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('slack_threads_pk', ['org_id', 'channel_id', 'thread_ts'])
        .execute();
      // The API's "this conversation belongs to a Slack thread" check finds it by conversation.
      await db.schema
        .createIndex('slack_threads_by_conversation')
        .on('slack_threads')
        .columns(['org_id', 'conversation_id'])
        .execute();
      // Who wrote in a conversation someone else started (a thread anyone in it continues): a
      // deletion of their data finds it here even after run retention deleted their runs in it.
      await db.schema
        .createTable('conversation_writers')
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('conversation_id', 'text', (c) =>
          c.notNull().references('conversations.id').onDelete('cascade'),
        )
        .addColumn('person_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('conversation_writers_pk', ['org_id', 'person_id', 'conversation_id'])
        .execute();
      await db.schema
        .createTable('slack_waiting_runs')
        .addColumn('run_id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('thread_ts', 'text', (c) => c.notNull())
        // When its latest wait was taken note of: a wait after it (resumed, it waits again) is new.
        .addColumn('noted_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('slack_waiting_runs_by_org')
        .on('slack_waiting_runs')
        .column('org_id')
        .execute();
    },
  };
}
