/**
 * Processing integrity: an agent's checks (JSON: rules that block or redact what matches in its
 * answers and its tool calls' arguments, and how it streams), and team feedback — a person flags
 * a run's answer as wrong with a correction and a reason, linked to the audit entry that recorded
 * the answer (its index in the org's log and its leaf hash); an admin resolves it with a note.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function outputChecksAndFeedback(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('agents').addColumn('checks', 'text').execute();
      await db.schema
        .createTable('feedback')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
        .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
        // The audited answer: the run's end entry, by position in the org's log and leaf hash.
        .addColumn('entry_index', 'bigint', (c) => c.notNull())
        .addColumn('leaf_hash', 'text', (c) => c.notNull())
        .addColumn('person_id', 'text', (c) => c.notNull())
        .addColumn('correction', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('resolved_by', 'text')
        .addColumn('resolution', 'text')
        .addColumn('resolved_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('feedback_by_agent')
        .on('feedback')
        .columns(['org_id', 'agent_id', 'created_at'])
        .execute();
    },
  };
}
