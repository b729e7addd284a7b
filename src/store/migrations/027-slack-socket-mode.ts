/**
 * Slack Socket Mode: an org's app may be installed with an app-level token (xapp-…, sealed in the
 * vault like the other two secrets), so Paddock opens a WebSocket to Slack instead of waiting for
 * HTTP requests — for servers behind NAT that Slack cannot reach.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function slackSocketMode(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // Vault-sealed like signing_secret and bot_token; null when the app uses HTTP events only.
      await db.schema.alterTable('slack_installs').addColumn('app_token', 'text').execute();
      // 1: Paddock holds a Socket Mode connection for the org.
      await db.schema
        .alterTable('slack_installs')
        .addColumn('socket_mode', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  };
}
