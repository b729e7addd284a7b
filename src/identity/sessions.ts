/**
 * Dashboard sessions: a random cookie value (stored as a digest) plus a CSRF token that every
 * state-changing request made with the cookie must echo in the `x-csrf-token` header.
 */
import { recordAudit } from '../audit/index.ts';
import { RateLimitedError, UnauthenticatedError } from '../errors/index.ts';
import { newId } from '../ids/index.ts';
import type { Db } from '../store/index.ts';
import type { SessionTable } from '../store/schema.ts';
import { hashSecret, newSecret, verifyPassword } from './credentials.ts';
import { normalizeEmail } from './people.ts';

export const SESSION_COOKIE = 'paddock_session';
const DEFAULT_SESSION_HOURS = 12;

export interface SessionUser {
  sessionId: string;
  userId: string;
  email: string;
  name: string;
  hasPassword: boolean;
  csrfToken: string;
  expiresAt: string;
  /** The one org this session opens (made by that org's single sign-on), or null: all of the person's. */
  orgId: string | null;
}

export interface NewSession {
  secret: string;
  csrfToken: string;
  expiresAt: string;
}

/**
 * The shortest session length among the orgs the session opens (the strictest policy wins): all
 * the person's, or the one org a bound session opens — whose policy alone is its business.
 */
async function sessionHoursFor(db: Db, userId: string, orgId: string | null): Promise<number> {
  const rows = await db
    .selectFrom('memberships as m')
    .innerJoin('orgs as o', 'o.id', 'm.org_id')
    .select('o.settings')
    .where('m.user_id', '=', userId)
    .$if(orgId !== null, (q) => q.where('m.org_id', '=', orgId!))
    .execute();
  const hours = rows.map(
    (r) => (JSON.parse(r.settings) as { sessionHours?: number }).sessionHours ?? DEFAULT_SESSION_HOURS,
  );
  return Math.min(DEFAULT_SESSION_HOURS * 60, ...hours);
}

export async function createSession(
  db: Db,
  userId: string,
  method: SessionTable['method'],
  /** The one org it opens: for a session an org's identity provider vouched for. */
  orgId: string | null = null,
): Promise<NewSession> {
  const secret = newSecret('pds');
  const csrfToken = newSecret('pds').slice(4);
  const hours = await sessionHoursFor(db, userId, orgId);
  const now = new Date();
  const expiresAt = new Date(now.getTime() + hours * 3_600_000).toISOString();
  await db
    .insertInto('sessions')
    .values({
      id: newId('ses'),
      user_id: userId,
      token_hash: hashSecret(secret),
      csrf_token: csrfToken,
      method,
      created_at: now.toISOString(),
      expires_at: expiresAt,
      org_id: orgId,
    })
    .execute();
  return { secret, csrfToken, expiresAt };
}

export async function authenticateSession(db: Db, secret: string): Promise<SessionUser> {
  const row = await db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select([
      's.id',
      's.user_id',
      's.csrf_token',
      's.expires_at',
      's.org_id',
      'u.email',
      'u.name',
      'u.password_hash',
    ])
    .where('s.token_hash', '=', hashSecret(secret))
    .executeTakeFirst();
  if (!row) throw new UnauthenticatedError('session_invalid', 'Your session has ended. Sign in again.');
  if (row.expires_at <= new Date().toISOString()) {
    await db.deleteFrom('sessions').where('id', '=', row.id).execute();
    throw new UnauthenticatedError('session_expired', 'Your session has expired. Sign in again.');
  }
  return {
    sessionId: row.id,
    userId: row.user_id,
    email: row.email,
    name: row.name,
    hasPassword: row.password_hash !== null,
    csrfToken: row.csrf_token,
    expiresAt: row.expires_at,
    orgId: row.org_id ?? null,
  };
}

export async function endSession(db: Db, sessionId: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', sessionId).execute();
}

/** Fixed-window limiter of attempts per key (sign-ins per email and address, refused webhook deliveries per endpoint). */
export class AttemptLimiter {
  readonly #hits = new Map<string, { n: number; resetAt: number }>();
  readonly max: number;
  readonly windowMs: number;
  constructor(max = 10, windowMs = 15 * 60_000) {
    this.max = max;
    this.windowMs = windowMs;
  }
  /** Counts an attempt; refuses it (429) when the key has had more than `max` in its window. */
  check(key: string): void {
    if (this.count(key) > this.max)
      throw new RateLimitedError('Too many sign-in attempts. Try again in a few minutes.');
  }
  /** Counts an attempt and says how many the key has had in its window, this one included. */
  count(key: string): number {
    const now = Date.now();
    const e = this.#hits.get(key);
    if (!e || e.resetAt <= now) {
      this.#hits.set(key, { n: 1, resetAt: now + this.windowMs });
      if (this.#hits.size > 10_000) this.#sweep(now);
      return 1;
    }
    e.n += 1;
    return e.n;
  }
  #sweep(now: number) {
    for (const [k, v] of this.#hits) if (v.resetAt <= now) this.#hits.delete(k);
  }
}

/** Signs a person in with email and password; the failure message never says which was wrong. */
export async function signInWithPassword(
  db: Db,
  input: { email: string; password: string; requestId: string },
): Promise<NewSession & { userId: string }> {
  let email: string;
  try {
    email = normalizeEmail(input.email);
  } catch {
    throw new UnauthenticatedError('bad_credentials', 'Email or password is wrong.');
  }
  const user = await db
    .selectFrom('users')
    .select(['id', 'password_hash'])
    .where('email', '=', email)
    .executeTakeFirst();
  const ok = await verifyPassword(input.password, user?.password_hash ?? null);
  if (!user || !ok) {
    throw new UnauthenticatedError('bad_credentials', 'Email or password is wrong.');
  }
  const session = await createSession(db, user.id, 'password');
  await recordSignIn(db, user.id, 'password', input.requestId);
  return { ...session, userId: user.id };
}

/** A sign-in is recorded in the audit trail of every org the person belongs to. */
/** A sign-in, on record in each org the new session opens (`onlyOrg`: a session bound to one). */
export async function recordSignIn(
  db: Db,
  userId: string,
  method: string,
  requestId: string,
  onlyOrg: string | null = null,
): Promise<void> {
  const orgs = await db
    .selectFrom('memberships')
    .select('org_id')
    .where('user_id', '=', userId)
    .$if(onlyOrg !== null, (q) => q.where('org_id', '=', onlyOrg!))
    .execute();
  for (const o of orgs) {
    await recordAudit(db, {
      orgId: o.org_id,
      actor: { type: 'person', id: userId },
      action: 'person.signed_in',
      target: { type: 'person', id: userId },
      requestId,
      details: { method },
    });
  }
}
