/**
 * Installed MCP server packages on record in the database, with their lockfile and integrity
 * hashes: the installation's one list, so every replica can lay out the same verified tarballs
 * on its own disk when a connection needs one (see src/packages/replica.ts).
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function serverPackages(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('server_packages')
        // `<name>@<version>`, as a connection names it.
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('integrity', 'text', (c) => c.notNull())
        // The package-lock.json as installed: every package's resolved URL and integrity.
        .addColumn('lockfile', 'text', (c) => c.notNull())
        .addColumn('lockfile_sha256', 'text', (c) => c.notNull())
        // JSON: every package of the tree with its location and integrity.
        .addColumn('tree', 'text', (c) => c.notNull())
        .addColumn('registry', 'text', (c) => c.notNull())
        .addColumn('installed_at', 'text', (c) => c.notNull())
        .addColumn('installed_by', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
