/**
 * Agent memory: what an agent keeps across runs through the built-in memory tool, per org and
 * agent, optionally about one person of the org (so that deleting that person's data finds it).
 * People see, edit, pin and delete entries; pinned ones are given to every run of the agent.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function agentMemory(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('memories')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
        // The person of the org it is about; null for what the agent knows in general.
        .addColumn('person_id', 'text')
        .addColumn('text', 'text', (c) => c.notNull())
        // 1: given to every run of the agent; 0: found by recall.
        .addColumn('pinned', 'integer', (c) => c.notNull().defaultTo(0))
        // Who wrote it last: the agent (through the tool) or a person (an edit).
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('memories_by_agent')
        .on('memories')
        .columns(['org_id', 'agent_id', 'updated_at'])
        .execute();
      await db.schema
        .createIndex('memories_by_person')
        .on('memories')
        .columns(['org_id', 'person_id'])
        .execute();
    },
  };
}
