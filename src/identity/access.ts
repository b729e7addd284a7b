/**
 * The access check: turns an authenticated principal and an org slug into an OrgContext, or
 * refuses. An org the caller does not belong to reads exactly like one that does not exist.
 */
import { NotFoundError, UnauthenticatedError } from '../errors/index.ts';
import type { Db, Role } from '../store/index.ts';
import type { OrgContext } from './context.ts';
import { toOrg } from './orgs.ts';
import { roleOf } from './people.ts';
import { weaker } from './roles.ts';
import { trustedScope } from './scope.ts';
import type { SessionUser } from './sessions.ts';
import type { AuthenticatedToken } from './tokens.ts';

export type Principal =
  | { kind: 'session'; session: SessionUser }
  | { kind: 'token'; token: AuthenticatedToken }
  | { kind: 'anonymous' };

export async function orgAccess(
  db: Db,
  principal: Principal,
  slug: string,
  requestId: string,
): Promise<OrgContext> {
  if (principal.kind === 'anonymous') throw new UnauthenticatedError();
  const row = await db.selectFrom('orgs').selectAll().where('slug', '=', slug).executeTakeFirst();
  const hidden = new NotFoundError('org_not_found', `No organization "${slug}" that you can see.`);
  if (!row) throw hidden;
  const scope = trustedScope(row.id);
  let role: Role | undefined;
  let userId: string | null;
  let tokenId: string | null = null;
  if (principal.kind === 'session') {
    // A session one org's single sign-on made opens that org only.
    if (principal.session.orgId !== null && principal.session.orgId !== row.id) throw hidden;
    userId = principal.session.userId;
    role = await roleOf(db, scope, userId);
  } else {
    const t = principal.token;
    if (t.orgId !== row.id) throw hidden;
    userId = t.userId;
    tokenId = t.id;
    if (t.userId === null) role = t.role;
    else {
      // A person's token is bounded by the person's role now, not when it was made.
      const current = await roleOf(db, scope, t.userId);
      role = current ? weaker(t.role, current) : undefined;
    }
  }
  if (!role) throw hidden;
  return {
    requestId,
    actor: userId ? { type: 'person', id: userId } : { type: 'token', id: tokenId! },
    userId,
    tokenId,
    org: toOrg(row),
    role,
    scope,
  };
}

/** The orgs a principal can see, with the role held in each (for the org switcher). */
export async function visibleOrgs(db: Db, principal: Principal) {
  if (principal.kind === 'anonymous') throw new UnauthenticatedError();
  if (principal.kind === 'token') {
    const row = await db
      .selectFrom('orgs')
      .selectAll()
      .where('id', '=', principal.token.orgId)
      .executeTakeFirstOrThrow();
    const ctx = await orgAccess(db, principal, row.slug, '');
    return [{ ...toOrg(row), role: ctx.role }];
  }
  const rows = await db
    .selectFrom('memberships as m')
    .innerJoin('orgs as o', 'o.id', 'm.org_id')
    .selectAll('o')
    .select('m.role')
    .where('m.user_id', '=', principal.session.userId)
    .$if(principal.session.orgId !== null, (q) => q.where('o.id', '=', principal.session.orgId!))
    .orderBy('o.slug')
    .execute();
  return rows.map((r) => ({ ...toOrg(r), role: r.role }));
}

/**
 * A person's context in an org, by id, with the role they hold now: for work done later on a
 * person's behalf with no credential of theirs in the request (an OAuth client exchanging the
 * person's consent). Not a member (any more) reads as a missing org.
 */
export async function personAccess(
  db: Db,
  userId: string,
  orgId: string,
  requestId: string,
): Promise<OrgContext> {
  const row = await db.selectFrom('orgs').selectAll().where('id', '=', orgId).executeTakeFirst();
  const hidden = new NotFoundError('org_not_found', 'No organization that this person belongs to.');
  if (!row) throw hidden;
  const scope = trustedScope(row.id);
  const role = await roleOf(db, scope, userId);
  if (!role) throw hidden;
  return {
    requestId,
    actor: { type: 'person', id: userId },
    userId,
    tokenId: null,
    org: toOrg(row),
    role,
    scope,
  };
}
