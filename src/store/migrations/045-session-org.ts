/**
 * A session made by one organization's single sign-on opens that organization only: its identity
 * provider vouches for access there, and an admin of one org may point it anywhere, so it must
 * not open the person's other orgs. Null: the session opens every org of the person (a password,
 * a link from the operator, first-run setup). Sessions before this were all of the latter kind.
 */
import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../types.ts';

export function sessionOrg(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('sessions').addColumn('org_id', 'text').execute();
      // A single sign-on session made before this opened every org: ended, so it is made again bound.
      await sql`delete from sessions where method = 'sso'`.execute(db);
    },
  };
}
