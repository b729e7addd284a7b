/**
 * The tamper-evident audit log: one log per org (and one for the platform), entries with their
 * RFC 6962 leaf hashes, the perfect-subtree hashes proofs are built from, and signed checkpoints.
 * A change writes its entry to the outbox in its own transaction; the log's single writer
 * moves it into the log, giving it its place in the tree.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';
import { auditEventColumns, seqKey } from './columns.ts';

export function auditLog(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('audit_logs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text')
        .addColumn('origin', 'text', (c) => c.notNull().unique())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('private_key', 'text', (c) => c.notNull())
        .addColumn('tree_size', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('root_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      const entries = seqKey(db.schema.createTable('audit_entries'), dialect)
        .addColumn('log_id', 'text', (c) => c.notNull())
        .addColumn('idx', 'bigint', (c) => c.notNull());
      await auditEventColumns(entries)
        // null once the payload expired under the org's retention policy
        .addColumn('leaf', 'text')
        .addColumn('expired_at', 'text')
        .addUniqueConstraint('audit_entries_log_idx', ['log_id', 'idx'])
        .execute();
      // Entries written inside other transactions, waiting for the writer (usually empty).
      await auditEventColumns(
        seqKey(db.schema.createTable('audit_outbox'), dialect).addColumn('log_id', 'text', (c) =>
          c.notNull(),
        ),
      )
        .addColumn('leaf', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('audit_entries_time')
        .on('audit_entries')
        .columns(['log_id', 'time'])
        .execute();
      await db.schema
        .createIndex('audit_entries_action')
        .on('audit_entries')
        .columns(['log_id', 'action'])
        .execute();
      await db.schema
        .createIndex('audit_entries_actor')
        .on('audit_entries')
        .columns(['log_id', 'actor_id'])
        .execute();
      await db.schema
        .createIndex('audit_entries_target')
        .on('audit_entries')
        .columns(['log_id', 'target_id'])
        .execute();

      await db.schema
        .createTable('audit_nodes')
        .addColumn('log_id', 'text', (c) => c.notNull())
        .addColumn('level', 'integer', (c) => c.notNull())
        .addColumn('idx', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('audit_nodes_pk', ['log_id', 'level', 'idx'])
        .execute();

      await db.schema
        .createTable('audit_checkpoints')
        .addColumn('log_id', 'text', (c) => c.notNull())
        .addColumn('tree_size', 'bigint', (c) => c.notNull())
        .addColumn('root_hash', 'text', (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('audit_checkpoints_pk', ['log_id', 'tree_size'])
        .execute();

      // How far each outside consumer (SIEM webhook) has been sent, per log.
      await db.schema
        .createTable('audit_cursors')
        .addColumn('sink', 'text', (c) => c.notNull())
        .addColumn('log_id', 'text', (c) => c.notNull())
        .addColumn('position', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('audit_cursors_pk', ['sink', 'log_id'])
        .execute();
    },
  };
}
