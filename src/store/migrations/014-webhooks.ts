/**
 * Inbound webhooks: an agent's endpoints, each with its signing secret sealed in the vault (and
 * cleared when the endpoint is deleted; the row stays so later deliveries are still told apart
 * and recorded in the org's trail), and the delivery ids already used, kept until their
 * timestamp leaves the acceptance window (a scheduled job removes them).
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function webhooks(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('webhooks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        // The vault-sealed `whsec_…` secret (bound to org, endpoint and version); null once deleted.
        .addColumn('secret', 'text')
        .addColumn('secret_version', 'integer', (c) => c.notNull())
        .addColumn('secret_hint', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('rotated_by', 'text')
        .addColumn('rotated_at', 'text')
        .addColumn('deleted_by', 'text')
        .addColumn('deleted_at', 'text')
        .execute();
      await db.schema
        .createIndex('webhooks_by_agent')
        .on('webhooks')
        .columns(['org_id', 'agent_id', 'created_at'])
        .execute();
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
        // The sender's `webhook-id`: used once per endpoint.
        .addColumn('delivery_id', 'text', (c) => c.notNull())
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        // When its timestamp leaves the window: after that the delivery is refused as too old anyway.
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('webhook_deliveries_pk', ['webhook_id', 'delivery_id'])
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_expiry')
        .on('webhook_deliveries')
        .column('expires_at')
        .execute();
    },
  };
}
