/**
 * Finds who is calling, once per request. On an agent route: the agent token, read with the
 * agent's standing (one read gives the gate what it needs). Elsewhere: a bearer API token, else
 * the session cookie, else nobody. A credential of the other kind is no credential there.
 */
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { type AuthenticatedAgent, authenticateAgentToken } from '../agents/index.ts';
import { UnauthenticatedError } from '../errors/index.ts';
import { authenticateSession, authenticateToken, type Principal, SESSION_COOKIE } from '../identity/index.ts';
import type { Deps } from './deps.ts';
import type { Access } from './route.ts';

export type Authenticated = Principal | { kind: 'agent'; agent: AuthenticatedAgent };

/** The bearer token sent, if any; a malformed Authorization header is refused. */
function bearerToken(c: Context): string | undefined {
  const header = c.req.header('authorization');
  if (header === undefined) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m)
    throw new UnauthenticatedError(
      'invalid_authorization',
      'Send the token as "Authorization: Bearer <token>".',
    );
  return m[1]!;
}

export async function authenticate(c: Context, deps: Deps, access: Access): Promise<Authenticated> {
  const token = bearerToken(c);
  if (access === 'agent') {
    if (token === undefined) return { kind: 'anonymous' };
    return { kind: 'agent', agent: await authenticateAgentToken(deps.store.db, token) };
  }
  if (token !== undefined) return { kind: 'token', token: await authenticateToken(deps.store.db, token) };
  const cookie = getCookie(c, SESSION_COOKIE);
  if (cookie) return { kind: 'session', session: await authenticateSession(deps.store.db, cookie) };
  return { kind: 'anonymous' };
}
