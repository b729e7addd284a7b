/**
 * Finds who is calling, once per request. On an agent route: the agent token, read with the
 * agent's standing (one read gives the gate what it needs). On the metrics route: the scrape
 * token. Elsewhere: a bearer API token, else the session cookie, else nobody. A credential of
 * another kind is no credential there.
 */
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { type AuthenticatedAgent, authenticateAgentToken } from '../agents/index.ts';
import { NotFoundError, UnauthenticatedError } from '../errors/index.ts';
import {
  authenticateSession,
  authenticateToken,
  type Principal,
  SESSION_COOKIE,
  sameSecret,
} from '../identity/index.ts';
import type { Deps } from './deps.ts';
import type { Access } from './route.ts';

export type Authenticated = Principal | { kind: 'agent'; agent: AuthenticatedAgent } | { kind: 'scraper' };

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

/**
 * The metrics scraper: the configured scrape token, compared in constant time. With none
 * configured, metrics are off, and a scraper is told so (404) rather than refused as if wrong.
 */
function scraper(token: string, configured: string | undefined): Authenticated {
  if (configured === undefined)
    throw new NotFoundError(
      'metrics_off',
      'Metrics are off on this server: set PADDOCK_METRICS_TOKEN and send it as a bearer token.',
    );
  if (!sameSecret(token, configured))
    throw new UnauthenticatedError('invalid_scrape_token', 'This is not the metrics scrape token.');
  return { kind: 'scraper' };
}

export async function authenticate(c: Context, deps: Deps, access: Access): Promise<Authenticated> {
  const token = bearerToken(c);
  if (access === 'scrape')
    return token === undefined ? { kind: 'anonymous' } : scraper(token, deps.config.metricsToken);
  if (access === 'agent') {
    if (token === undefined) return { kind: 'anonymous' };
    return { kind: 'agent', agent: await authenticateAgentToken(deps.store.db, token) };
  }
  if (token !== undefined) return { kind: 'token', token: await authenticateToken(deps.store.db, token) };
  const cookie = getCookie(c, SESSION_COOKIE);
  if (cookie) return { kind: 'session', session: await authenticateSession(deps.store.db, cookie) };
  return { kind: 'anonymous' };
}
