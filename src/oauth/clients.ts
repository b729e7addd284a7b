/**
 * Dynamic client registration (RFC 7591) for MCP clients: public clients only (no secret; PKCE
 * proves each exchange), with redirect URIs that cannot send a code anywhere surprising — https,
 * or http on a loopback address for desktop clients (RFC 8252 §7.3) — each compared exactly when
 * used. Sizes are bounded, and unused registrations are forgotten after a day, so the table cannot
 * be filled by anyone who can reach the endpoint.
 */
import type { Kysely } from 'kysely';
import { hasMisleadingCharacters } from '../html/index.ts';
import { newId } from '../ids/index.ts';
import type { Database, Db } from '../store/index.ts';
import { OAuthError } from './errors.ts';

export interface OAuthClient {
  id: string;
  name: string;
  redirectUris: string[];
  createdAt: string;
}

/** Enough for any real client; more is an attack on the table. */
const MAX_REDIRECT_URIS = 5;
const MAX_URI_LENGTH = 512;
const MAX_NAME_LENGTH = 100;
/** Registrations at once; past it new clients wait until unused ones are forgotten. */
export const MAX_CLIENTS = 5000;
/** A registration nobody signed in with is forgotten after this long. */
const UNUSED_CLIENT_MS = 24 * 3600_000;
/**
 * When the table is full, registrations nobody signed in with for this long make room: a real
 * client signs in within minutes of registering, so a flood has to be kept up to keep others out.
 */
const UNUSED_WHEN_FULL_MS = 3600_000;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const GRANT_TYPES = new Set(['authorization_code', 'refresh_token']);

const badMetadata = (why: string) => new OAuthError('invalid_client_metadata', why);
const badRedirect = (why: string) => new OAuthError('invalid_redirect_uri', why);

/** Whether a redirect URI is one Paddock sends codes to: https anywhere, or http on loopback; no fragment, no user info. */
export function redirectUriProblem(uri: string): string | null {
  if (uri.length > MAX_URI_LENGTH) return `A redirect URI is at most ${MAX_URI_LENGTH} characters.`;
  if (!URL.canParse(uri)) return 'A redirect URI must be an absolute URL.';
  const u = new URL(uri);
  if (u.hash !== '' || uri.includes('#')) return 'A redirect URI has no fragment (RFC 6749 §3.1.2).';
  if (u.username !== '' || u.password !== '') return 'A redirect URI has no user name or password.';
  if (u.protocol === 'https:') return null;
  if (u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname)) return null;
  return 'A redirect URI must be https, or http on localhost, 127.0.0.1 or [::1].';
}

/** The metadata of a registration request, checked strictly; unknown fields are ignored (RFC 7591 §2). */
export function parseRegistration(body: unknown): { name: string; redirectUris: string[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badMetadata('The registration must be a JSON object.');
  const m = body as Record<string, unknown>;
  const uris = m.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0)
    throw badRedirect('redirect_uris must list at least one redirect URI.');
  if (uris.length > MAX_REDIRECT_URIS) throw badRedirect(`At most ${MAX_REDIRECT_URIS} redirect URIs.`);
  for (const u of uris) {
    if (typeof u !== 'string') throw badRedirect('Each redirect URI must be a string.');
    const problem = redirectUriProblem(u);
    if (problem) throw badRedirect(problem);
  }
  const name = m.client_name === undefined ? 'MCP client' : m.client_name;
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > MAX_NAME_LENGTH)
    throw badMetadata(`client_name must be text of 1 to ${MAX_NAME_LENGTH} characters.`);
  // Such characters would mislead on the consent page and in the audit trail.
  if (hasMisleadingCharacters(name))
    throw badMetadata('client_name may not hold control, bidirectional-override or invisible characters.');
  const grants = m.grant_types ?? ['authorization_code'];
  if (!Array.isArray(grants) || grants.some((g) => typeof g !== 'string' || !GRANT_TYPES.has(g)))
    throw badMetadata('grant_types may hold only authorization_code and refresh_token.');
  const responses = m.response_types ?? ['code'];
  if (!Array.isArray(responses) || responses.some((r) => r !== 'code'))
    throw badMetadata('response_types may hold only code.');
  const method = m.token_endpoint_auth_method;
  if (method !== undefined && method !== 'none')
    throw badMetadata('Only public clients register here: token_endpoint_auth_method must be "none".');
  return { name: name.trim(), redirectUris: [...new Set(uris as string[])] };
}

/** Forgets registrations made before `before` that no sign-in used. */
function forgetUnused(db: Kysely<Database>, before: Date) {
  return db
    .deleteFrom('oauth_clients')
    .where('created_at', '<', before.toISOString())
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('oauth_grants as g')
            .select('g.token_id')
            .whereRef('g.client_id', '=', 'oauth_clients.id'),
        ),
      ),
    )
    .execute();
}

const clientCount = async (db: Kysely<Database>) =>
  Number(
    (
      await db
        .selectFrom('oauth_clients')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

/**
 * Registers a client (forgetting day-old ones nobody used first, hour-old ones when full);
 * refuses when the table is still full.
 */
export async function registerClient(db: Kysely<Database>, body: unknown): Promise<OAuthClient> {
  const { name, redirectUris } = parseRegistration(body);
  const now = new Date();
  await forgetUnused(db, new Date(now.getTime() - UNUSED_CLIENT_MS));
  let n = await clientCount(db);
  if (n >= MAX_CLIENTS) {
    await forgetUnused(db, new Date(now.getTime() - UNUSED_WHEN_FULL_MS));
    n = await clientCount(db);
  }
  if (n >= MAX_CLIENTS)
    throw new OAuthError(
      'temporarily_unavailable',
      'Too many clients are registered. Try again tomorrow.',
      503,
    );
  const client: OAuthClient = {
    id: newId('mcpc'),
    name,
    redirectUris,
    createdAt: now.toISOString(),
  };
  await db
    .insertInto('oauth_clients')
    .values({
      id: client.id,
      name: client.name,
      redirect_uris: JSON.stringify(client.redirectUris),
      created_at: client.createdAt,
    })
    .execute();
  return client;
}

export async function findClient(db: Db, id: string): Promise<OAuthClient | null> {
  if (id.length > 64) return null;
  const row = await db.selectFrom('oauth_clients').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return null;
  return {
    id: row.id,
    name: row.name,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    createdAt: row.created_at,
  };
}

/** RFC 7591 §3.2.1: what the client is told it is. */
export function registrationResponse(c: OAuthClient) {
  return {
    client_id: c.id,
    client_id_issued_at: Math.floor(Date.parse(c.createdAt) / 1000),
    client_name: c.name,
    redirect_uris: c.redirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}
