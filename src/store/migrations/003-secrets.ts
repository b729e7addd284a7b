/** Secrets held in the vault: model provider keys and connector credentials, sealed per org. */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function secrets(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('secrets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('provider', 'text')
        .addColumn('agent_ids', 'text')
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('sealed', 'text', (c) => c.notNull())
        .addColumn('hint', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('rotated_at', 'text')
        .addColumn('rotated_by', 'text')
        .addUniqueConstraint('secrets_org_name', ['org_id', 'name'])
        .execute();
    },
  };
}
