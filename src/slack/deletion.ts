/**
 * A person's Slack link as their data: on a deletion request the link (which Slack user they
 * are), a pending link code, and the payloads of the entries that recorded the link go with the
 * rest of what Paddock holds about them.
 */
import type { Db } from '../store/index.ts';

/** The audit entries (indexes) that name the person's Slack user: their link and unlink records. */
export async function slackLinkEntriesOf(db: Db, orgId: string, personId: string): Promise<number[]> {
  const rows = await db
    .selectFrom('audit_entries')
    .select('idx')
    .where('log_id', '=', orgId)
    .where('target_type', '=', 'person')
    .where('target_id', '=', personId)
    .where('action', 'in', ['slack.linked', 'slack.unlinked'])
    .execute();
  return rows.map((r) => Number(r.idx));
}

/** Deletes the person's Slack link and any link code they made; the number of links deleted. */
export async function deleteSlackLinksOf(db: Db, orgId: string, personId: string): Promise<number> {
  await db
    .deleteFrom('slack_link_codes')
    .where('org_id', '=', orgId)
    .where('person_id', '=', personId)
    .execute();
  const r = await db
    .deleteFrom('slack_links')
    .where('org_id', '=', orgId)
    .where('person_id', '=', personId)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
