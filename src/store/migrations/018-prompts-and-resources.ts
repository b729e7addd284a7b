/**
 * Prompts and resources, governed like tools: what a connection offers besides tools (its prompts,
 * resources and resource templates, scrubbed, as last listed), grants of a kind other than a tool
 * (a prompt by name, a resource by URI, exact or prefix), and approvals bound to that kind.
 * Existing grants and approvals are of tools.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function promptsAndResources(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('connection_offerings')
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('connection_id', 'text', (c) =>
          c.notNull().references('connections.id').onDelete('cascade'),
        )
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('seen_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('connection_offerings_pk', ['connection_id', 'kind', 'key'])
        .execute();
      await db.schema
        .alterTable('grants')
        .addColumn('kind', 'text', (c) => c.notNull().defaultTo('tool'))
        .execute();
      await db.schema.alterTable('grants').addColumn('uri_match', 'text').execute();
      await db.schema
        .alterTable('approvals')
        .addColumn('kind', 'text', (c) => c.notNull().defaultTo('tool'))
        .execute();
    },
  };
}
