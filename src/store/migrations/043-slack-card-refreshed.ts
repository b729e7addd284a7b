/**
 * When a Slack card was last written to say how its approval ended. A card is claimed (closed)
 * before it is updated, so that it is updated once; a claim whose update never happened (a kill
 * between the two, Slack unreachable) is taken up again by the sweep after a while. Cards closed
 * before count as refreshed.
 */
import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../types.ts';

export function slackCardRefreshed(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('slack_cards').addColumn('refreshed_at', 'text').execute();
      await sql`update slack_cards set refreshed_at = closed_at where closed_at is not null`.execute(db);
      // The sweep finds the orgs with cards to update without reading every card.
      await db.schema
        .createIndex('slack_cards_unrefreshed')
        .on('slack_cards')
        .columns(['refreshed_at', 'org_id'])
        .execute();
    },
  };
}
