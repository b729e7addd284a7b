/**
 * What removing a person from an org ends on the identity side: their API tokens there, their
 * sessions (all of them; or, when they belong to another org too, those that open this org alone:
 * a session of all their orgs stays, and opens this one no more — another org's admin must not
 * sign them out of their own), their teams and membership, the invitations they sent that are still open
 * (an ex-admin's pending invitation must not let anyone in), and sign-in links made for them.
 * The removal is recorded, so single sign-on does not provision them again; accepting a new
 * invitation clears the record (see `addMembership`).
 */
import { ConflictError, ForbiddenError } from '../errors/index.ts';
import type { Db, Role } from '../store/index.ts';
import type { OrgContext } from './context.ts';
import { countOwners, type Person, requirePerson } from './people.ts';
import { mayAssign } from './roles.ts';
import type { OrgScope } from './scope.ts';

/** A credential the person holds or made that removal ends, or leaves to the remover's review. */
export interface HeldToken {
  id: string;
  name: string;
  role: Role;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

export interface HeldInvitation {
  id: string;
  email: string;
  role: Role;
  expiresAt: string;
}

/** The identity side of a removal, as the preview shows it and the removal ends it. */
export interface IdentityHoldings {
  /** Their dashboard sessions that end: all, or, if they belong to another org, those that open this one alone. */
  sessions: number;
  /** Their API tokens in this org. */
  apiTokens: HeldToken[];
  /** Invitations they sent that nobody has used yet. */
  invitations: HeldInvitation[];
  /** Unused sign-in links made for them (by `paddock init`). */
  signinLinks: number;
  /** Service tokens they made: they act for nobody, so they stay unless the remover revokes them. */
  serviceTokens: HeldToken[];
}

/** The person, if the caller may remove them: only owners remove owners; an org keeps one owner. */
export async function assertMayRemove(db: Db, ctx: OrgContext, userId: string): Promise<Person> {
  const person = await requirePerson(db, ctx.scope, userId);
  if (!mayAssign(ctx.role, person.role)) {
    throw new ForbiddenError('role_too_high', 'Only an owner can remove an owner.');
  }
  if (person.role === 'owner' && (await countOwners(db, ctx.scope)) <= 1) {
    throw new ConflictError('last_owner', 'An organization must keep at least one owner.');
  }
  return person;
}

/** Live: neither revoked nor expired. */
function liveTokens(db: Db, scope: OrgScope, now: string) {
  return db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'role', 'expires_at', 'last_used_at'])
    .where('org_id', '=', scope.orgId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
}

const toHeld = (r: {
  id: string;
  name: string;
  role: Role;
  expires_at: string | null;
  last_used_at: string | null;
}): HeldToken => ({
  id: r.id,
  name: r.name,
  role: r.role,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
});

function openInvitations(db: Db, scope: OrgScope, userId: string, now: string) {
  return db
    .selectFrom('links')
    .where('org_id', '=', scope.orgId)
    .where('kind', '=', 'invitation')
    .where('created_by', '=', userId)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now);
}

function openSigninLinks(db: Db, scope: OrgScope, email: string, now: string) {
  return db
    .selectFrom('links')
    .where('org_id', '=', scope.orgId)
    .where('kind', '=', 'signin')
    .where('email', '=', email)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now);
}

/**
 * Whether the person belongs to another org too: then only their sessions that open this org
 * alone end (another org's admin must not sign them out of their own); else all of them do.
 */
async function inOtherOrgs(db: Db, scope: OrgScope, userId: string): Promise<boolean> {
  const other = await db
    .selectFrom('memberships')
    .select('org_id')
    .where('user_id', '=', userId)
    .where('org_id', '!=', scope.orgId)
    .limit(1)
    .executeTakeFirst();
  return other !== undefined;
}

export async function identityHoldings(db: Db, scope: OrgScope, person: Person): Promise<IdentityHoldings> {
  const now = new Date().toISOString();
  const sessions = await db
    .selectFrom('sessions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', person.id)
    .$if(await inOtherOrgs(db, scope, person.id), (q) => q.where('org_id', '=', scope.orgId))
    .where('expires_at', '>', now)
    .executeTakeFirstOrThrow();
  const apiTokens = await liveTokens(db, scope, now)
    .where('user_id', '=', person.id)
    .orderBy('name')
    .execute();
  const serviceTokens = await liveTokens(db, scope, now)
    .where('user_id', 'is', null)
    .where('created_by', '=', person.id)
    .orderBy('name')
    .execute();
  const invitations = await openInvitations(db, scope, person.id, now)
    .select(['id', 'email', 'role', 'expires_at'])
    .orderBy('email')
    .execute();
  const links = await openSigninLinks(db, scope, person.email, now)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return {
    sessions: Number(sessions.n),
    apiTokens: apiTokens.map(toHeld),
    invitations: invitations.map((i) => ({
      id: i.id,
      email: i.email,
      role: i.role ?? 'member',
      expiresAt: i.expires_at,
    })),
    signinLinks: Number(links.n),
    serviceTokens: serviceTokens.map(toHeld),
  };
}

export interface IdentityEnded {
  tokensRevoked: number;
  sessionsEnded: number;
  invitationsRevoked: number;
  signinLinksRevoked: number;
}

/**
 * Ends the person's access inside the caller's transaction (which records the change): tokens,
 * sessions, open links, teams and membership; and records the removal against re-provisioning.
 */
export async function endIdentityAccess(trx: Db, ctx: OrgContext, person: Person): Promise<IdentityEnded> {
  const now = new Date().toISOString();
  // First: a credential being made in their name waits for this (or waited, and is revoked below).
  await trx
    .deleteFrom('memberships')
    .where('org_id', '=', ctx.scope.orgId)
    .where('user_id', '=', person.id)
    .execute();
  const tokens = await trx
    .updateTable('api_tokens')
    .set({ revoked_at: now })
    .where('org_id', '=', ctx.scope.orgId)
    .where('user_id', '=', person.id)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
  const sessions = await trx
    .deleteFrom('sessions')
    .where('user_id', '=', person.id)
    .$if(await inOtherOrgs(trx, ctx.scope, person.id), (q) => q.where('org_id', '=', ctx.scope.orgId))
    .executeTakeFirst();
  const invitations = await trx
    .deleteFrom('links')
    .where('id', 'in', openInvitations(trx, ctx.scope, person.id, now).select('id'))
    .executeTakeFirst();
  const links = await trx
    .deleteFrom('links')
    .where('id', 'in', openSigninLinks(trx, ctx.scope, person.email, now).select('id'))
    .executeTakeFirst();
  await trx
    .deleteFrom('team_members')
    .where('org_id', '=', ctx.scope.orgId)
    .where('user_id', '=', person.id)
    .execute();
  await trx
    .deleteFrom('removed_people')
    .where('org_id', '=', ctx.scope.orgId)
    .where('user_id', '=', person.id)
    .execute();
  await trx
    .insertInto('removed_people')
    .values({
      org_id: ctx.scope.orgId,
      user_id: person.id,
      email: person.email,
      removed_by: ctx.actor.id,
      removed_at: now,
    })
    .execute();
  return {
    tokensRevoked: Number(tokens.numUpdatedRows),
    sessionsEnded: Number(sessions.numDeletedRows),
    invitationsRevoked: Number(invitations.numDeletedRows),
    signinLinksRevoked: Number(links.numDeletedRows),
  };
}

/** Revokes, in the caller's transaction, those of `ids` that are live service tokens of the org; returns them. */
export async function revokeServiceTokens(trx: Db, scope: OrgScope, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const now = new Date().toISOString();
  const live = await liveTokens(trx, scope, now)
    .where('user_id', 'is', null)
    .where('id', 'in', ids)
    .execute();
  const found = live.map((t) => t.id);
  if (found.length > 0) {
    await trx
      .updateTable('api_tokens')
      .set({ revoked_at: now })
      .where('org_id', '=', scope.orgId)
      .where('id', 'in', found)
      .execute();
  }
  return found;
}

/** Whether the person was removed from the org and not invited back since. */
export async function wasRemoved(db: Db, scope: OrgScope, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('removed_people')
    .select('user_id')
    .where('org_id', '=', scope.orgId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row !== undefined;
}
