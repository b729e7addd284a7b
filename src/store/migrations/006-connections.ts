/** App connections (MCP servers) and the tools they present, each pinned by a digest of its definition. */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function connections(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('connections')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('transport', 'text', (c) => c.notNull())
        .addColumn('command', 'text')
        .addColumn('args', 'text', (c) => c.notNull())
        .addColumn('url', 'text')
        .addColumn('owner_id', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('connections_org_name', ['org_id', 'name'])
        .execute();
      await db.schema
        .createTable('connection_tools')
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('connection_id', 'text', (c) =>
          c.notNull().references('connections.id').onDelete('cascade'),
        )
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('input_schema', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('seen_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('connection_tools_pk', ['connection_id', 'name'])
        .execute();
    },
  };
}
