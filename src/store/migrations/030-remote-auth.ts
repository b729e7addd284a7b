/**
 * Remote MCP servers behind OAuth: how Paddock is registered with a connection's authorization
 * server (its client secret vault-sealed), the tokens each authorization holds (sealed: org-wide,
 * or one person's own account for a per-person connection), and the authorizations under way
 * (state digest, sealed PKCE verifier, bound to the session that started it, single use).
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function remoteAuth(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('remote_auth_servers')
        .addColumn('connection_id', 'text', (c) =>
          c.primaryKey().references('connections.id').onDelete('cascade'),
        )
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        // 1: each person authorizes their own account; 0: one authorization for the org.
        .addColumn('per_person', 'integer', (c) => c.notNull())
        // The RFC 8707 resource indicator (from the protected resource metadata).
        .addColumn('resource', 'text')
        .addColumn('issuer', 'text')
        // The authorization server's RFC 8414 metadata, as discovered (JSON).
        .addColumn('metadata', 'text')
        .addColumn('client_id', 'text')
        // Vault-sealed; null for a public client.
        .addColumn('client_secret', 'text')
        .addColumn('client_source', 'text')
        .addColumn('scope', 'text')
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('remote_authorizations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('connection_id', 'text', (c) =>
          c.notNull().references('connections.id').onDelete('cascade'),
        )
        // The person whose account it is; '' for the org's own authorization.
        .addColumn('user_key', 'text', (c) => c.notNull())
        // Both vault-sealed, bound to the org, this authorization and its version.
        .addColumn('access_token', 'text', (c) => c.notNull())
        .addColumn('refresh_token', 'text')
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('authorized_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('refreshed_at', 'text')
        .addUniqueConstraint('remote_authorizations_once', ['connection_id', 'user_key'])
        .execute();
      await db.schema
        .createTable('remote_auth_pending')
        .addColumn('state_hash', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('connection_id', 'text', (c) =>
          c.notNull().references('connections.id').onDelete('cascade'),
        )
        .addColumn('user_key', 'text', (c) => c.notNull())
        .addColumn('started_by', 'text', (c) => c.notNull())
        // The digest of the dashboard session that started it: only that session may finish it.
        .addColumn('session_hash', 'text', (c) => c.notNull())
        .addColumn('code_verifier', 'text', (c) => c.notNull())
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
