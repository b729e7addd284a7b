/** Health history of org cells: every start, exit, restart and health change, for the compliance center. */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';
import { seqKey } from './columns.ts';

export function cells(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await seqKey(db.schema.createTable('cell_events'), dialect)
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('cell_events_org_time')
        .on('cell_events')
        .columns(['org_id', 'time'])
        .execute();
    },
  };
}
