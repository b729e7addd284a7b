/**
 * A notification for an agent's MCP sessions that is too large for a NOTIFY (PostgreSQL's 8,000
 * bytes; a server's log line may be 8 KiB before it is sealed): held here a short while, sealed
 * for its org and route as the bus seals it, and read by every replica holding one of the
 * agent's sessions, which the NOTIFY names the row to. Several replicas read it, so none deletes
 * it: each replica's sweep forgets it after a minute.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function mcpHeldNotifications(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('mcp_held_notifications')
        // A random reference, the one the NOTIFY carries.
        .addColumn('ref', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('agent_id', 'text', (c) => c.notNull())
        // The notification, sealed as the bus seals it (the org's data key, bound to its route).
        .addColumn('sealed', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('mcp_held_notifications_by_created')
        .on('mcp_held_notifications')
        .column('created_at')
        .execute();
      await db.schema
        .createIndex('mcp_held_notifications_by_org')
        .on('mcp_held_notifications')
        .column('org_id')
        .execute();
    },
  };
}
