/**
 * Tool definitions kept whole: the rest of a definition beside name, description and input schema
 * (title, output schema, annotations, icons, `_meta`), as JSON. Null for a tool listed before they
 * were kept (or none beyond the three): a tool listed before keeps its v2 digest until its
 * connection's tools are listed again.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function toolDefinitionsWhole(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('connection_tools').addColumn('extras', 'text').execute();
    },
  };
}
