/**
 * A Slack event id is taken before its event is handled and marked handled once it was: a retry
 * of one never handled (the handler failed, or the server was killed) is handled then, instead of
 * being dropped as a duplicate. Ids taken before this migration count as handled.
 */
import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../types.ts';

export function slackEventsHandled(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('slack_events').addColumn('handled_at', 'text').execute();
      await sql`update slack_events set handled_at = received_at`.execute(db);
    },
  };
}
