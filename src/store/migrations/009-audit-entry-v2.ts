/**
 * Audit entry format v2: the leaf commits to a header that is never erased and to a salted
 * digest of the details, which are stored beside it (with their salt) and can be erased on
 * record. `erased_by` names the entry (a retention run, a deletion request) that erased them.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function auditEntryV2(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      for (const table of ['audit_entries', 'audit_outbox']) {
        // Existing rows are format 1 (details inside the leaf); new ones say 2.
        await db.schema
          .alterTable(table)
          .addColumn('format', 'integer', (c) => c.notNull().defaultTo(1))
          .execute();
        await db.schema.alterTable(table).addColumn('run_id', 'text').execute();
        await db.schema.alterTable(table).addColumn('details', 'text').execute();
        await db.schema.alterTable(table).addColumn('salt', 'text').execute();
      }
      await db.schema.alterTable('audit_entries').renameColumn('expired_at', 'erased_at').execute();
      await db.schema.alterTable('audit_entries').addColumn('erased_by', 'text').execute();
      // Start-up asks which logs still hold v1 entries: an index answer, not a scan.
      await db.schema
        .createIndex('audit_entries_format')
        .on('audit_entries')
        .columns(['format', 'log_id'])
        .execute();
      await db.schema
        .createIndex('audit_entries_run')
        .on('audit_entries')
        .columns(['log_id', 'run_id'])
        .execute();
    },
  };
}
