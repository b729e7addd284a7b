/**
 * A client's answer to a server → client request (a sampling or elicitation result) that reached
 * a replica other than the one that asked, when it is too large for a NOTIFY: held here a short
 * while, sealed with a key only the session's id gives (never stored), and taken (deleted) by
 * the replica that asked, which the NOTIFY names the row to.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function mcpPassedAnswers(_dialect: Dialect): Migration {
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
        .createIndex('mcp_passed_answers_by_session')
        .on('mcp_passed_answers')
        .column('session_hash')
        .execute();
    },
  };
}
