/**
 * A stdio connection may run an installed MCP server package (`<name>@<version>` in the store,
 * and which of its programs) instead of a command; the store is asked which connections use one.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function connectionPackages(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('connections').addColumn('package', 'text').execute();
      await db.schema.alterTable('connections').addColumn('package_bin', 'text').execute();
      await db.schema.createIndex('connections_package').on('connections').column('package').execute();
    },
  };
}
