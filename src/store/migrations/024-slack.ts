/**
 * Slack: an org's installed Slack app (its signing secret and bot token sealed in the vault),
 * which agent answers in which channel, the Slack users explicitly linked to people (a link is
 * proven from both sides: a one-time code made in Paddock, sent from Slack), the event ids
 * already handled (Slack retries a delivery; a retry must not start a second run), and the
 * approval cards posted (so a decision made elsewhere updates them).
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function slack(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('slack_installs')
        .addColumn('org_id', 'text', (c) => c.primaryKey().references('orgs.id').onDelete('cascade'))
        // The workspace (from auth.test): events from another team are refused.
        .addColumn('team_id', 'text', (c) => c.notNull())
        .addColumn('bot_user_id', 'text', (c) => c.notNull())
        // Both vault-sealed, bound to the org, their name and the version.
        .addColumn('signing_secret', 'text', (c) => c.notNull())
        .addColumn('bot_token', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('approvals_channel', 'text')
        .addColumn('installed_by', 'text', (c) => c.notNull())
        .addColumn('installed_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('slack_bindings')
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        // A channel id (C…, G…), or `dm` for direct messages to the app.
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
        .addColumn('bound_by', 'text', (c) => c.notNull())
        .addColumn('bound_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('slack_bindings_pk', ['org_id', 'channel_id'])
        .execute();
      await db.schema
        .createTable('slack_links')
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('slack_user_id', 'text', (c) => c.notNull())
        .addColumn('person_id', 'text', (c) => c.notNull())
        .addColumn('linked_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('slack_links_pk', ['org_id', 'slack_user_id'])
        .execute();
      await db.schema
        .createIndex('slack_links_by_person')
        .on('slack_links')
        .columns(['org_id', 'person_id'])
        .unique()
        .execute();
      await db.schema
        .createTable('slack_link_codes')
        // SHA-256 of the code: the code itself is shown once, to the person who made it.
        .addColumn('code_hash', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('person_id', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('slack_events')
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('slack_events_pk', ['org_id', 'event_id'])
        .execute();
      await db.schema.createIndex('slack_events_by_time').on('slack_events').column('received_at').execute();
      await db.schema
        .createTable('slack_cards')
        .addColumn('approval_id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('ts', 'text', (c) => c.notNull())
        // Where the run's answer goes once it resumes.
        .addColumn('thread_channel', 'text', (c) => c.notNull())
        .addColumn('thread_ts', 'text', (c) => c.notNull())
        .addColumn('closed_at', 'text')
        .execute();
      await db.schema
        .createIndex('slack_cards_open')
        .on('slack_cards')
        .columns(['org_id', 'closed_at'])
        .execute();
    },
  };
}
