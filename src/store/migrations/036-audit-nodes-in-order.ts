/**
 * The tree's stored nodes keyed in the order they are made: (log, the last entry a node covers,
 * level). Keyed by (log, level, index), a batch of entries added nodes at one place of the key per
 * level of the tree, a page each (~10 of a placed batch's ~48 WAL pages); made in key order, they
 * are added at the key's end. A node is still found by its level and index (`last_idx` is
 * `(idx + 1) · 2^level − 1`); on the embedded store the table is its key (no rowid b-tree).
 */
import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../types.ts';

export function auditNodesInOrder(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const int = sql.raw(dialect === 'postgres' ? 'bigint' : 'integer');
      await sql`CREATE TABLE audit_nodes_in_order (
        log_id text NOT NULL,
        last_idx ${int} NOT NULL,
        level integer NOT NULL,
        idx ${int} NOT NULL,
        hash text NOT NULL,
        CONSTRAINT audit_nodes_order_pk PRIMARY KEY (log_id, last_idx, level)
      )${sql.raw(dialect === 'sqlite' ? ' WITHOUT ROWID' : '')}`.execute(db);
      await sql`INSERT INTO audit_nodes_in_order (log_id, last_idx, level, idx, hash)
        SELECT log_id, ((idx + 1) << level) - 1, level, idx, hash FROM audit_nodes`.execute(db);
      await sql`DROP TABLE audit_nodes`.execute(db);
      await sql`ALTER TABLE audit_nodes_in_order RENAME TO audit_nodes`.execute(db);
    },
  };
}
