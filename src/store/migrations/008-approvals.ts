/**
 * Approvals for high-risk calls, the org-wide kill switch, vault secrets a connection's server
 * receives as environment variables (stdio) or request headers (http), and a per-agent grants version the gateway caches by.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function approvals(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('approvals')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
        .addColumn('connection_id', 'text', (c) =>
          c.notNull().references('connections.id').onDelete('cascade'),
        )
        .addColumn('tool', 'text', (c) => c.notNull())
        .addColumn('args_digest', 'text', (c) => c.notNull())
        .addColumn('args', 'text', (c) => c.notNull())
        .addColumn('policy_version', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('requested_by', 'text')
        .addColumn('requested_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('decided_by', 'text')
        .addColumn('decided_at', 'text')
        .addColumn('reason', 'text')
        .addColumn('used_at', 'text')
        .addColumn('request_id', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('approvals_status').on('approvals').columns(['org_id', 'status']).execute();
      await db.schema
        .createIndex('approvals_call')
        .on('approvals')
        .columns(['org_id', 'agent_id', 'args_digest'])
        .execute();
      await db.schema.alterTable('orgs').addColumn('agents_stopped_at', 'text').execute();
      await db.schema.alterTable('orgs').addColumn('agents_stopped_by', 'text').execute();
      await db.schema
        .alterTable('agents')
        .addColumn('grants_version', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('connections')
        .addColumn('env', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      await db.schema
        .alterTable('connections')
        .addColumn('headers', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
    },
  };
}
