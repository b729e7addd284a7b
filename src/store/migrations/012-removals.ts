/**
 * People removed from an org, so single sign-on does not provision them again (an invitation
 * accepted clears the record), and an index to find the agent tokens a person issued.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function removals(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('removed_people')
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('removed_by', 'text', (c) => c.notNull())
        .addColumn('removed_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('removed_people_pk', ['org_id', 'user_id'])
        .execute();
      await db.schema
        .createIndex('agent_tokens_issuer')
        .on('agent_tokens')
        .columns(['org_id', 'created_by'])
        .execute();
    },
  };
}
