/**
 * What MCP sessions need to carry on across replicas beyond their rows (031).
 *
 * A client's answer to a server → client request (a sampling or elicitation result) that reached
 * a replica other than the one that asked, when it is too large for a NOTIFY: held here a short
 * while, sealed with a key only the session's id gives (never stored), and taken (deleted) by
 * the replica that asked, which the NOTIFY names the row to.
 *
 * The events a replica sent on a session's streams, kept a short while (as in its memory) so a
 * client whose stream was lost can resume it with `Last-Event-ID` on another replica; sealed
 * with the same session key.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function mcpAcrossReplicas(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('mcp_passed_answers')
        // A random reference, the one the NOTIFY carries.
        .addColumn('ref', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        // The session's digest (mcp_sessions.id_hash): only that session's replica takes it.
        .addColumn('session_hash', 'text', (c) => c.notNull())
        // The answer, AES-256-GCM sealed with a key derived from the session id.
        .addColumn('sealed', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('mcp_passed_answers_by_created')
        .on('mcp_passed_answers')
        .column('created_at')
        .execute();
      await db.schema
        .createIndex('mcp_passed_answers_by_org')
        .on('mcp_passed_answers')
        .column('org_id')
        .execute();
      await db.schema
        .createTable('mcp_session_events')
        .addColumn('session_hash', 'text', (c) => c.notNull())
        // The event id the client holds (each replica's copy of a session numbers from its own random start).
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        // Which replica sent it: each has its own GET stream of the session.
        .addColumn('replica', 'text', (c) => c.notNull())
        .addColumn('stream_id', 'text', (c) => c.notNull())
        .addColumn('sealed', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('mcp_session_events_pk', ['session_hash', 'seq'])
        .execute();
      await db.schema
        .createIndex('mcp_session_events_by_created')
        .on('mcp_session_events')
        .column('created_at')
        .execute();
    },
  };
}
