/**
 * The host uid (and gid, the same number) each org's sandboxed code runs as when Paddock runs as
 * root: allocated once per org from Paddock's range, unique, and never reused (no cascade on org
 * deletion: files a deleted org left behind never pass to a new one). See src/cells/host-users.ts.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function cellHostIds(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('cell_host_ids')
        .addColumn('org_id', 'text', (c) => c.primaryKey())
        .addColumn('uid', 'integer', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
