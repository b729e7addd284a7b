/**
 * Who a Slack user is in Paddock: the person explicitly linked to them, or else the org member
 * whose email matches the one Slack gives for them (users.info). Only an explicit link is good
 * enough to approve a call; either starts a run as that person. An email match counts only for
 * people of the installed workspace, and only for an email Slack has confirmed.
 */
import type { webApi } from '@slack/bolt';
import { sql } from 'kysely';
import { type OrgContext, roleOf, toOrg, trustedScope } from '../identity/index.ts';
import type { Db } from '../store/index.ts';
import { linkedPerson } from './install.ts';

export interface SlackPerson {
  personId: string;
  how: 'linked' | 'email';
}

/** The person a Slack user is, or undefined when Paddock does not know them. */
export async function personFor(
  db: Db,
  orgId: string,
  slackUserId: string,
  client: webApi.WebClient,
  teamId: string,
): Promise<SlackPerson | undefined> {
  const linked = await linkedPerson(db, orgId, slackUserId);
  if (linked) return { personId: linked, how: 'linked' };
  // A user id Slack does not know (forged, deleted) reads as an unknown person.
  const info = await client.users.info({ user: slackUserId }).catch(() => undefined);
  const email = info?.user?.profile?.email;
  if (!info?.ok || info.user?.deleted || info.user?.is_bot || typeof email !== 'string' || !email)
    return undefined;
  // An email Slack has not confirmed is only a claim (a workspace admin may set one, or a change
  // may be pending): it names no one here.
  if (info.user?.is_email_confirmed === false) return undefined;
  // Someone of another workspace (a Slack Connect channel) vouches for their email by another
  // workspace's rules: only the installed workspace's own people are matched by email.
  if (info.user?.team_id !== teamId) return undefined;
  const row = await db
    .selectFrom('users as u')
    .innerJoin('memberships as m', 'm.user_id', 'u.id')
    .select('u.id')
    .where('m.org_id', '=', orgId)
    .where(sql<string>`lower(u.email)`, '=', email.toLowerCase())
    .executeTakeFirst();
  return row ? { personId: row.id, how: 'email' } : undefined;
}

/** The person as a member of the org (their role now), or undefined when they are not one. */
export async function personContext(
  db: Db,
  orgId: string,
  personId: string,
  requestId: string,
): Promise<OrgContext | undefined> {
  const orgRow = await db.selectFrom('orgs').selectAll().where('id', '=', orgId).executeTakeFirst();
  if (!orgRow) return undefined;
  // The Slack request was verified for this org; the person's membership is read here.
  const scope = trustedScope(orgId);
  const role = await roleOf(db, scope, personId);
  if (!role) return undefined;
  return {
    requestId,
    actor: { type: 'person', id: personId },
    userId: personId,
    tokenId: null,
    org: toOrg(orgRow),
    role,
    scope,
  };
}
