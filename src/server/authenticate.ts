/** Finds who is calling: a bearer token, else the session cookie, else nobody. */
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { UnauthenticatedError } from '../errors/index.ts';
import { authenticateSession, authenticateToken, type Principal, SESSION_COOKIE } from '../identity/index.ts';
import type { Deps } from './deps.ts';

export async function authenticate(c: Context, deps: Deps): Promise<Principal> {
  const header = c.req.header('authorization');
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m)
      throw new UnauthenticatedError(
        'invalid_authorization',
        'Send the token as "Authorization: Bearer <token>".',
      );
    return { kind: 'token', token: await authenticateToken(deps.store.db, m[1]!) };
  }
  const cookie = getCookie(c, SESSION_COOKIE);
  if (cookie) return { kind: 'session', session: await authenticateSession(deps.store.db, cookie) };
  return { kind: 'anonymous' };
}
