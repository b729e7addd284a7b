/**
 * The log level each MCP session chose (`logging/setLevel`): the server's log lines below it do
 * not reach that session, whichever replica holds it, while the agent's other sessions keep
 * their own. Until one is chosen, a session hears what the server sends.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function mcpSessionLogLevel(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('mcp_sessions').addColumn('log_level', 'text').execute();
    },
  };
}
