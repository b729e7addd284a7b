/**
 * Evidence packages issued per org: the period, the checkpoint the package proved its entries
 * against and the digest of its manifest. The next package carries a consistency proof from the
 * newest earlier checkpoint here to its own, so an auditor holding both sees one log, only grown.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function evidencePackages(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('evidence_packages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('period_from', 'text', (c) => c.notNull())
        .addColumn('period_to', 'text', (c) => c.notNull())
        // The anchor checkpoint (signed note) and its tree size; null when no figure came from the log.
        .addColumn('tree_size', 'integer')
        .addColumn('checkpoint', 'text')
        .addColumn('manifest_sha256', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('evidence_packages_by_size')
        .on('evidence_packages')
        .columns(['org_id', 'tree_size'])
        .execute();
    },
  };
}
