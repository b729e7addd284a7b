/** Grants: what each agent may call, pinned to the tool definition that was reviewed. */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function grants(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('grants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
        .addColumn('connection_id', 'text', (c) =>
          c.notNull().references('connections.id').onDelete('cascade'),
        )
        .addColumn('tool', 'text', (c) => c.notNull())
        .addColumn('effect', 'text', (c) => c.notNull())
        .addColumn('constraints', 'text', (c) => c.notNull())
        .addColumn('not_before', 'bigint')
        .addColumn('not_after', 'bigint')
        .addColumn('requires_approval', 'integer', (c) => c.notNull())
        .addColumn('tool_digest', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_by', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema
        .createIndex('grants_agent')
        .on('grants')
        .columns(['org_id', 'agent_id', 'status'])
        .execute();
    },
  };
}
