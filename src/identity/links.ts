/**
 * One-time links: invitations (join an org with a role) and sign-in links (for an owner made
 * offline by `paddock init`). The secret travels in the URL fragment, so it never reaches
 * server or proxy logs; only its digest is stored, and it works once, before it expires.
 */
import type { Kysely } from 'kysely';
import { recordAudit, recordChange } from '../audit/index.ts';
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnauthenticatedError,
} from '../errors/index.ts';
import { newId } from '../ids/index.ts';
import type { Database, Db, Role } from '../store/index.ts';
import type { LinkTable } from '../store/schema.ts';
import type { Caller, OrgContext } from './context.ts';
import { hashSecret, newSecret, verifyPassword } from './credentials.ts';
import {
  addMembership,
  assertPassword,
  ensureUser,
  holdMembership,
  normalizeEmail,
  roleOf,
} from './people.ts';
import { mayAssign } from './roles.ts';
import { type OrgScope, trustedScope } from './scope.ts';
import { createSession, type NewSession, recordSignIn } from './sessions.ts';

const INVITATION_DAYS = 7;
const SIGNIN_LINK_HOURS = 24;

export interface Invitation {
  id: string;
  email: string;
  role: Role;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
}

function toInvitation(r: LinkTable): Invitation {
  return {
    id: r.id,
    email: r.email,
    role: r.role ?? 'member',
    createdBy: r.created_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    usedAt: r.used_at,
  };
}

export function invitationUrl(publicUrl: string, secret: string): string {
  return `${publicUrl}/invite#${secret}`;
}

export function signinLinkUrl(publicUrl: string, secret: string): string {
  return `${publicUrl}/signin/link#${secret}`;
}

async function insertLink(
  trx: Db,
  caller: Caller,
  scope: OrgScope,
  kind: LinkTable['kind'],
  email: string,
  role: Role | null,
  ttlMs: number,
): Promise<{ secret: string; row: LinkTable }> {
  const secret = newSecret(kind === 'invitation' ? 'pdi' : 'pdl');
  const now = new Date();
  const row: LinkTable = {
    id: newId('lnk'),
    org_id: scope.orgId,
    kind,
    email,
    role,
    token_hash: hashSecret(secret),
    created_by: caller.actor.id,
    created_at: now.toISOString(),
    expires_at: new Date(now.getTime() + ttlMs).toISOString(),
    used_at: null,
  };
  await trx.insertInto('links').values(row).execute();
  return { secret, row };
}

export async function createInvitation(
  db: Kysely<Database>,
  ctx: OrgContext,
  input: { email: string; role: Role },
): Promise<{ secret: string; invitation: Invitation }> {
  const email = normalizeEmail(input.email);
  if (!mayAssign(ctx.role, input.role)) {
    throw new ForbiddenError('role_too_high', `A ${ctx.role} cannot invite someone as ${input.role}.`);
  }
  return db.transaction().execute(async (trx) => {
    await holdMembership(trx, ctx, ctx.scope);
    const user = await trx.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
    if (user && (await roleOf(trx, ctx.scope, user.id))) {
      throw new ConflictError('already_member', `${email} is already a member of this organization.`);
    }
    const { secret, row } = await insertLink(
      trx,
      ctx,
      ctx.scope,
      'invitation',
      email,
      input.role,
      INVITATION_DAYS * 86_400_000,
    );
    await recordChange(trx, ctx, {
      action: 'invitation.created',
      target: { type: 'invitation', id: row.id },
      details: { after: { email, role: input.role, expiresAt: row.expires_at } },
    });
    return { secret, invitation: toInvitation(row) };
  });
}

export async function listInvitations(db: Db, scope: OrgScope): Promise<Invitation[]> {
  const rows = await db
    .selectFrom('links')
    .selectAll()
    .where('org_id', '=', scope.orgId)
    .where('kind', '=', 'invitation')
    .where('used_at', 'is', null)
    .where('expires_at', '>', new Date().toISOString())
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map(toInvitation);
}

export async function revokeInvitation(db: Kysely<Database>, ctx: OrgContext, id: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('links')
      .selectAll()
      .where('org_id', '=', ctx.scope.orgId)
      .where('kind', '=', 'invitation')
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row)
      throw new NotFoundError('invitation_not_found', 'No invitation with that id in this organization.');
    await trx.deleteFrom('links').where('id', '=', row.id).execute();
    await recordChange(trx, ctx, {
      action: 'invitation.revoked',
      target: { type: 'invitation', id: row.id },
      details: { before: { email: row.email, role: row.role } },
    });
  });
}

/** Creates a sign-in link for an existing member (used by `paddock init`). */
export async function createSigninLink(
  trx: Db,
  caller: Caller,
  scope: OrgScope,
  email: string,
): Promise<string> {
  const { secret, row } = await insertLink(
    trx,
    caller,
    scope,
    'signin',
    normalizeEmail(email),
    null,
    SIGNIN_LINK_HOURS * 3_600_000,
  );
  await recordAudit(trx, {
    orgId: scope.orgId,
    actor: caller.actor,
    action: 'signin_link.created',
    target: { type: 'link', id: row.id },
    requestId: caller.requestId,
    details: { email: row.email, expiresAt: row.expires_at },
  });
  return secret;
}

async function usableLink(
  db: Db,
  secret: string,
  kind: LinkTable['kind'],
): Promise<LinkTable & { org_name: string }> {
  const row = await db
    .selectFrom('links as l')
    .innerJoin('orgs as o', 'o.id', 'l.org_id')
    .selectAll('l')
    .select('o.name as org_name')
    .where('l.token_hash', '=', hashSecret(secret))
    .where('l.kind', '=', kind)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('link_invalid', 'This link is not valid. Ask for a new one.');
  if (row.used_at) throw new ConflictError('link_used', 'This link was already used. Ask for a new one.');
  if (row.expires_at <= new Date().toISOString()) {
    throw new UnauthenticatedError('link_expired', 'This link has expired. Ask for a new one.');
  }
  return row;
}

/** What an invitation is for, so the page can say it before the person accepts. */
export async function peekInvitation(db: Db, secret: string, signedInAs?: string) {
  const row = await usableLink(db, secret, 'invitation');
  const user = await db
    .selectFrom('users')
    .select(['id', 'password_hash'])
    .where('email', '=', row.email)
    .executeTakeFirst();
  return {
    orgName: row.org_name,
    email: row.email,
    role: row.role ?? 'member',
    existingAccount: user?.password_hash != null,
    passwordlessAccount: user !== undefined && user.password_hash == null,
    signedIn: user !== undefined && user.id === signedInAs,
  };
}

async function markUsed(trx: Db, row: LinkTable): Promise<void> {
  // Conditional update: of two concurrent uses, exactly one wins.
  const r = await trx
    .updateTable('links')
    .set({ used_at: new Date().toISOString() })
    .where('id', '=', row.id)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) throw new ConflictError('link_used', 'This link was already used.');
}

export async function acceptInvitation(
  db: Kysely<Database>,
  input: {
    secret: string;
    name?: string | undefined;
    password?: string | undefined;
    requestId: string;
    /** The person the request is signed in as, if any: that account proves itself by it. */
    signedInAs?: string | undefined;
  },
): Promise<
  | (NewSession & { userId: string; orgId: string; kept: false })
  | { userId: string; orgId: string; kept: true }
> {
  return db.transaction().execute(async (trx) => {
    const link = await usableLink(trx, input.secret, 'invitation');
    const existing = await trx
      .selectFrom('users')
      .selectAll()
      .where('email', '=', link.email)
      .executeTakeFirst();
    let userId: string;
    // The org the new session opens: all of the person's when the account proved itself.
    let opens: string | null = null;
    // Signed in as this very account: its session proves it; the person joins and keeps it.
    const signedIn = existing !== undefined && input.signedInAs === existing.id;
    if (signedIn) userId = existing.id;
    else if (existing?.password_hash) {
      // An existing account proves itself with its own password; the link alone does not.
      if (!(await verifyPassword(input.password ?? '', existing.password_hash))) {
        throw new UnauthenticatedError(
          'bad_credentials',
          'That is not the password of the existing account.',
        );
      }
      userId = existing.id;
    } else if (existing) {
      // An account that signs in without a password (single sign-on, a link): the link, which the
      // inviting admin holds too, proves nothing about it. It joins, and the session opens the
      // inviting org only; setting its password would hand its other orgs to whoever holds the link.
      if (input.password !== undefined) {
        throw new BadRequestError(
          'password_not_settable',
          'This email’s account signs in without a password (single sign-on or a sign-in link). Accept without one: an invitation cannot set it.',
        );
      }
      userId = existing.id;
      opens = link.org_id;
    } else {
      assertPassword(input.password ?? '');
      userId = (await ensureUser(trx, { email: link.email, name: input.name, password: input.password })).id;
    }
    await markUsed(trx, link);
    const caller: Caller = {
      requestId: input.requestId,
      actor: { type: 'person', id: userId },
      userId,
      tokenId: null,
    };
    await addMembership(
      trx,
      caller,
      trustedScope(link.org_id),
      userId,
      link.role ?? 'member',
      `invitation ${link.id}`,
    );
    if (signedIn) return { userId, orgId: link.org_id, kept: true as const };
    const session = await createSession(trx, userId, 'invitation', opens);
    await recordSignIn(trx, userId, 'invitation', input.requestId, opens);
    return { ...session, userId, orgId: link.org_id, kept: false as const };
  });
}

export async function useSigninLink(
  db: Kysely<Database>,
  input: { secret: string; requestId: string },
): Promise<NewSession & { userId: string }> {
  return db.transaction().execute(async (trx) => {
    const link = await usableLink(trx, input.secret, 'signin');
    const user = await trx
      .selectFrom('users')
      .select('id')
      .where('email', '=', link.email)
      .executeTakeFirst();
    if (!user || !(await roleOf(trx, trustedScope(link.org_id), user.id))) {
      throw new BadRequestError('link_invalid', 'This link no longer matches a member. Ask for a new one.');
    }
    await markUsed(trx, link);
    const session = await createSession(trx, user.id, 'link');
    await recordSignIn(trx, user.id, 'signin_link', input.requestId);
    return { ...session, userId: user.id };
  });
}
