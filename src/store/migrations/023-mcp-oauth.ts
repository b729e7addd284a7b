/**
 * Sign-in for MCP clients that expect OAuth: the clients that registered themselves (RFC 7591),
 * the authorization codes a person's consent gives them (single use, short-lived, digests only),
 * and, beside an agent token issued that way, its client and the digest of its refresh token.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function mcpOauth(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('oauth_clients')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        // JSON array of the exact redirect URIs it registered.
        .addColumn('redirect_uris', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('oauth_codes')
        .addColumn('code_hash', 'text', (c) => c.primaryKey())
        .addColumn('client_id', 'text', (c) => c.notNull().references('oauth_clients.id').onDelete('cascade'))
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('code_challenge', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('oauth_grants')
        .addColumn('token_id', 'text', (c) =>
          c.primaryKey().references('agent_tokens.id').onDelete('cascade'),
        )
        .addColumn('client_id', 'text', (c) => c.notNull().references('oauth_clients.id').onDelete('cascade'))
        .addColumn('refresh_hash', 'text', (c) => c.notNull().unique())
        .addColumn('refresh_expires_at', 'text', (c) => c.notNull())
        .addColumn('refreshed_at', 'text')
        .execute();
      // Registration forgets day-old clients nobody signed in with: by age, then whether any grant names them.
      await db.schema.createIndex('oauth_clients_by_age').on('oauth_clients').column('created_at').execute();
      await db.schema.createIndex('oauth_grants_by_client').on('oauth_grants').column('client_id').execute();
    },
  };
}
