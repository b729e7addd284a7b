/**
 * MCP sessions (Streamable HTTP `Mcp-Session-Id`): one row per open session, found by the digest
 * of its id (the id itself is never stored), bound to the org, the agent and the person whose
 * token opened it, with what `initialize` negotiated, so another replica can carry it on.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function mcpSessions(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('mcp_sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
        // The token that opened it and who issued that token (a refreshed OAuth token of the same person carries on).
        .addColumn('token_id', 'text', (c) => c.notNull())
        .addColumn('issued_by', 'text', (c) => c.notNull())
        .addColumn('protocol_version', 'text', (c) => c.notNull())
        // JSON: the client's declared capabilities and its name/version, as `initialize` gave them.
        .addColumn('client_capabilities', 'text', (c) => c.notNull())
        .addColumn('client_info', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('mcp_sessions_by_agent')
        .on('mcp_sessions')
        .columns(['org_id', 'agent_id'])
        .execute();
      await db.schema
        .createIndex('mcp_sessions_by_last_seen')
        .on('mcp_sessions')
        .column('last_seen_at')
        .execute();
    },
  };
}
