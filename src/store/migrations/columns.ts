/** Column sets more than one table shares, defined once. */
import type { CreateTableBuilder } from 'kysely';
import type { Dialect } from '../types.ts';

type Table = CreateTableBuilder<string, string>;

/** An auto-incrementing integer primary key `seq` on either engine. */
export function seqKey(t: Table, dialect: Dialect): Table {
  return dialect === 'postgres'
    ? t.addColumn('seq', 'bigserial', (c) => c.primaryKey())
    : t.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
}

/** What an audit event is, placed in a log (`audit_entries`) or waiting (`audit_outbox`). */
export function auditEventColumns(t: Table): Table {
  return t
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('time', 'text', (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text')
    .addColumn('leaf_hash', 'text', (c) => c.notNull());
}
