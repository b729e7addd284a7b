/**
 * People and their roles in an organization. A person (user) may belong to several orgs; each
 * membership carries one role. Removing a person is `removePerson` in `offboarding/`, which ends
 * everything they hold (see `removal.ts` for the identity side).
 */
import type { Kysely } from 'kysely';
import { recordAudit, recordChange } from '../audit/index.ts';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../errors/index.ts';
import { escapeMisleading, hasMisleadingCharacters } from '../html/index.ts';
import { newId } from '../ids/index.ts';
import type { Database, Db, Role } from '../store/index.ts';
import type { Caller, OrgContext } from './context.ts';
import { hashPassword } from './credentials.ts';
import { mayAssign } from './roles.ts';
import type { OrgScope } from './scope.ts';

export interface Person {
  id: string;
  email: string;
  name: string;
  role: Role;
  hasPassword: boolean;
  joinedAt: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizeEmail(email: string): string {
  const e = email.trim().toLowerCase();
  // An address that hides or disguises characters would read as another person's.
  if (!EMAIL.test(e) || e.length > 254 || hasMisleadingCharacters(e))
    throw new BadRequestError('invalid_email', `"${escapeMisleading(email)}" is not an email address.`);
  return e;
}

export const MIN_PASSWORD_LENGTH = 12;

export function assertPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > 256) {
    throw new BadRequestError(
      'weak_password',
      `A password is ${MIN_PASSWORD_LENGTH} to 256 characters long.`,
    );
  }
}

function peopleQuery(db: Db, scope: OrgScope) {
  return db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .where('m.org_id', '=', scope.orgId)
    .select(['u.id', 'u.email', 'u.name', 'u.password_hash', 'm.role', 'm.created_at']);
}

type PersonRow = {
  id: string;
  email: string;
  name: string;
  password_hash: string | null;
  role: Role;
  created_at: string;
};

function toPerson(r: PersonRow): Person {
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    role: r.role,
    hasPassword: r.password_hash !== null,
    joinedAt: r.created_at,
  };
}

export async function listPeople(db: Db, scope: OrgScope): Promise<Person[]> {
  const rows = await peopleQuery(db, scope).orderBy('u.email').execute();
  return rows.map(toPerson);
}

export async function findPerson(db: Db, scope: OrgScope, userId: string): Promise<Person | undefined> {
  const row = await peopleQuery(db, scope).where('u.id', '=', userId).executeTakeFirst();
  return row ? toPerson(row) : undefined;
}

export async function requirePerson(db: Db, scope: OrgScope, userId: string): Promise<Person> {
  const p = await findPerson(db, scope, userId);
  if (!p) throw new NotFoundError('person_not_found', 'No person with that id in this organization.');
  return p;
}

export async function findPersonByEmail(db: Db, scope: OrgScope, email: string): Promise<Person | undefined> {
  const row = await peopleQuery(db, scope).where('u.email', '=', normalizeEmail(email)).executeTakeFirst();
  return row ? toPerson(row) : undefined;
}

/** The role a person holds in an org, or undefined when they are not a member. */
export async function roleOf(db: Db, scope: OrgScope, userId: string): Promise<Role | undefined> {
  const r = await db
    .selectFrom('memberships')
    .select('role')
    .where('org_id', '=', scope.orgId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return r?.role;
}

/**
 * Holds the caller's membership for the rest of their transaction, or refuses (404, as for any
 * org they are not in): a credential made in a person's name cannot commit after their removal,
 * and a removal waits for one already being made, then revokes it too (on PostgreSQL the update
 * takes the row lock a removal's delete needs; SQLite runs write transactions one at a time).
 */
export async function holdMembership(trx: Db, caller: Caller, scope: OrgScope): Promise<void> {
  if (!caller.userId) return;
  const r = await trx
    .updateTable('memberships')
    .set((eb) => ({ role: eb.ref('role') }))
    .where('org_id', '=', scope.orgId)
    .where('user_id', '=', caller.userId)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0)
    throw new NotFoundError('org_not_found', 'No organization that you can see.');
}

/** Finds or creates the user for an email (global), without touching memberships. */
export async function ensureUser(
  trx: Db,
  input: { email: string; name?: string | undefined; password?: string | undefined },
): Promise<{ id: string; created: boolean; hasPassword: boolean }> {
  const email = normalizeEmail(input.email);
  const existing = await trx
    .selectFrom('users')
    .select(['id', 'password_hash'])
    .where('email', '=', email)
    .executeTakeFirst();
  if (existing) return { id: existing.id, created: false, hasPassword: existing.password_hash !== null };
  if (input.password !== undefined) assertPassword(input.password);
  const id = newId('usr');
  await trx
    .insertInto('users')
    .values({
      id,
      email,
      name: input.name?.trim() || email.split('@')[0]!,
      password_hash: input.password === undefined ? null : await hashPassword(input.password),
      created_at: new Date().toISOString(),
    })
    .execute();
  return { id, created: true, hasPassword: input.password !== undefined };
}

/** Adds a membership (inside the caller's transaction) and records it. */
export async function addMembership(
  trx: Db,
  caller: Caller,
  scope: OrgScope,
  userId: string,
  role: Role,
  how: string,
): Promise<void> {
  const exists = await roleOf(trx, scope, userId);
  if (exists)
    throw new ConflictError('already_member', 'That person is already a member of this organization.');
  await trx
    .insertInto('memberships')
    .values({ org_id: scope.orgId, user_id: userId, role, created_at: new Date().toISOString() })
    .execute();
  // Someone let them in again (an invitation accepted, the operator): a past removal no longer bars SSO.
  await trx
    .deleteFrom('removed_people')
    .where('org_id', '=', scope.orgId)
    .where('user_id', '=', userId)
    .execute();
  await recordAudit(trx, {
    orgId: scope.orgId,
    actor: caller.actor,
    action: 'person.added',
    target: { type: 'person', id: userId },
    requestId: caller.requestId,
    details: { after: { role }, via: how },
  });
}

export async function countOwners(db: Db, scope: OrgScope): Promise<number> {
  const r = await db
    .selectFrom('memberships')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('org_id', '=', scope.orgId)
    .where('role', '=', 'owner')
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function changeRole(
  db: Kysely<Database>,
  ctx: OrgContext,
  userId: string,
  role: Role,
): Promise<Person> {
  return db.transaction().execute(async (trx) => {
    const person = await requirePerson(trx, ctx.scope, userId);
    if (!mayAssign(ctx.role, role) || !mayAssign(ctx.role, person.role)) {
      throw new ForbiddenError('role_too_high', 'Only an owner can make or unmake owners.');
    }
    if (person.role === role) return person;
    if (person.role === 'owner' && (await countOwners(trx, ctx.scope)) <= 1) {
      throw new ConflictError('last_owner', 'An organization must keep at least one owner.');
    }
    await trx
      .updateTable('memberships')
      .set({ role })
      .where('org_id', '=', ctx.scope.orgId)
      .where('user_id', '=', userId)
      .execute();
    await recordChange(trx, ctx, {
      action: 'person.role.changed',
      target: { type: 'person', id: userId },
      details: { before: { role: person.role }, after: { role } },
    });
    return { ...person, role };
  });
}
