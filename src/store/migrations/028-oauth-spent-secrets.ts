/**
 * The digests of refresh tokens and authorization codes already spent, each beside the agent
 * token it belonged to: one presented again is a theft or a replay, and ends that grant (RFC 9700
 * §4.14.2, RFC 6749 §4.1.2) instead of being merely unknown.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function oauthSpentSecrets(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('oauth_spent')
        .addColumn('secret_hash', 'text', (c) => c.primaryKey())
        .addColumn('token_id', 'text', (c) => c.notNull().references('agent_tokens.id').onDelete('cascade'))
        .addColumn('spent_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('oauth_spent_by_token').on('oauth_spent').column('token_id').execute();
      // Forgotten once older than any sign-in can last (its grant has ended by then anyway).
      await db.schema.createIndex('oauth_spent_by_time').on('oauth_spent').column('spent_at').execute();
    },
  };
}
