/**
 * Agent runs and conversations. A run is one message handled by an agent in its org's cell: its
 * status, output, usage and, while it waits for a person, the state it resumes from. A
 * conversation is an agent's exchange with one person (or channel), whose history the next run
 * continues. Model keys of providers with their own endpoint carry it (`base_url`).
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function runs(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('conversations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
        // The person it is with; null for a channel with no person (a webhook).
        .addColumn('person_id', 'text')
        .addColumn('title', 'text', (c) => c.notNull())
        // JSON: the model messages so far (the next run continues from them).
        .addColumn('messages', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('conversations_by_agent')
        .on('conversations')
        .columns(['org_id', 'agent_id', 'person_id', 'updated_at'])
        .execute();
      await db.schema
        .createTable('runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
        .addColumn('conversation_id', 'text', (c) =>
          c.notNull().references('conversations.id').onDelete('cascade'),
        )
        // Who the run acts for (approvals bind to them): a person, or null (a webhook).
        .addColumn('person_id', 'text')
        .addColumn('via', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        // SHA-256 of the capability the cell holds for this run; null once the run ended.
        .addColumn('capability_hash', 'text', (c) => c.unique())
        .addColumn('input', 'text', (c) => c.notNull())
        .addColumn('output', 'text')
        // JSON while waiting: the messages to resume from, and the calls waited for.
        .addColumn('state', 'text')
        .addColumn('pending', 'text')
        .addColumn('steps', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('input_tokens', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('output_tokens', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error_code', 'text')
        .addColumn('error_message', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('ended_at', 'text')
        .execute();
      await db.schema.createIndex('runs_by_org').on('runs').columns(['org_id', 'created_at']).execute();
      await db.schema.createIndex('runs_by_status').on('runs').columns(['status', 'org_id']).execute();
      await db.schema.alterTable('secrets').addColumn('base_url', 'text').execute();
    },
  };
}
