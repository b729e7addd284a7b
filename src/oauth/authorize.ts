/**
 * The authorization request (RFC 6749 §4.1.1 with PKCE and RFC 8707's `resource`), checked in the
 * order that keeps codes and errors where they belong: until the client and its exact redirect
 * URI are known good, nothing is sent to the redirect URI (an error page instead: no open
 * redirect); after that, errors go back to the client as OAuth says. The same check runs on the
 * consent page and again on the person's answer, whose form fields anyone could forge.
 */
import type { Kysely } from 'kysely';
import { hashSecret, newSecret } from '../identity/index.ts';
import type { Database, Db } from '../store/index.ts';
import { findClient, type OAuthClient } from './clients.ts';
import { slugOfResource } from './metadata.ts';
import { isS256Challenge } from './pkce.ts';

/** A code is exchanged within seconds by a real client; a minute bounds a stolen one. */
export const CODE_SECONDS = 60;
const MAX_STATE_LENGTH = 1024;
const MAX_SCOPE_LENGTH = 1024;
/** The parameters the flow reads; each may appear once (RFC 6749 §3.1). */
const PARAMS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'code_challenge',
  'code_challenge_method',
  'state',
  'resource',
  'scope',
] as const;

export interface AuthorizeRequest {
  client: OAuthClient;
  redirectUri: string;
  codeChallenge: string;
  state: string | null;
  /** The org's MCP endpoint the token will open (RFC 8707), and its org. */
  resource: string;
  slug: string;
  /** The request's parameters as checked, for the consent form to send back. */
  params: Record<string, string>;
}

export type AuthorizeCheck =
  | { ok: true; request: AuthorizeRequest }
  /** Told to the person on a page: the client or redirect URI cannot be trusted with a redirect. */
  | { ok: false; page: string }
  /** Sent back to the client's redirect URI. */
  | { ok: false; redirect: string };

/** Where the client hears the outcome: its redirect URI with these parameters, `state` and `iss` added. */
export function redirectTo(
  redirectUri: string,
  issuer: string,
  state: string | null,
  params: Record<string, string>,
): string {
  const u = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  if (state !== null) u.searchParams.set('state', state);
  // RFC 9207: the client can tell which server answered (mix-up defence).
  u.searchParams.set('iss', issuer);
  return u.href;
}

export async function checkAuthorizeRequest(
  db: Db,
  issuer: string,
  query: URLSearchParams,
): Promise<AuthorizeCheck> {
  const one = (name: string): string | null | 'many' => {
    const all = query.getAll(name);
    return all.length === 0 ? null : all.length > 1 ? 'many' : all[0]!;
  };
  const clientId = one('client_id');
  if (typeof clientId !== 'string' || clientId === 'many')
    return { ok: false, page: 'The application did not say which client it is (client_id).' };
  const client = await findClient(db, clientId);
  if (!client)
    return { ok: false, page: 'This application is not registered with Paddock. Ask it to connect again.' };
  const redirectUri = one('redirect_uri');
  if (typeof redirectUri !== 'string' || redirectUri === 'many')
    return { ok: false, page: 'The application did not say where to return (redirect_uri).' };
  // Exact comparison only (OAuth 2.1 §4.1.3): no prefixes, no normalisation.
  if (!client.redirectUris.includes(redirectUri))
    return { ok: false, page: 'The application asked to return to an address it did not register.' };

  const state = one('state');
  const safeState =
    typeof state === 'string' && state !== 'many' && state.length <= MAX_STATE_LENGTH ? state : null;
  const fail = (error: string, description: string): AuthorizeCheck => ({
    ok: false,
    redirect: redirectTo(redirectUri, issuer, safeState, { error, error_description: description }),
  });
  for (const name of PARAMS)
    if (one(name) === 'many') return fail('invalid_request', `The ${name} parameter appears more than once.`);
  if (state !== null && safeState === null)
    return fail('invalid_request', `state is at most ${MAX_STATE_LENGTH} characters.`);
  if (one('response_type') !== 'code')
    return fail(
      'unsupported_response_type',
      'Only the authorization code flow (response_type=code) is offered.',
    );
  const challenge = one('code_challenge');
  if (typeof challenge !== 'string' || one('code_challenge_method') !== 'S256' || !isS256Challenge(challenge))
    return fail('invalid_request', 'PKCE is required, with code_challenge_method=S256 (plain is refused).');
  const scope = one('scope');
  if (typeof scope === 'string' && scope.length > MAX_SCOPE_LENGTH)
    return fail('invalid_scope', `scope is at most ${MAX_SCOPE_LENGTH} characters.`);
  const resource = one('resource');
  if (typeof resource !== 'string')
    return fail('invalid_target', 'Say which MCP endpoint the token is for (resource, RFC 8707).');
  const slug = slugOfResource(issuer, resource);
  if (slug === null)
    return fail(
      'invalid_target',
      `The resource must be an MCP endpoint of this server: ${issuer}/mcp/{org}.`,
    );

  const params: Record<string, string> = {};
  for (const name of PARAMS) {
    const v = one(name);
    if (typeof v === 'string') params[name] = v;
  }
  return {
    ok: true,
    request: { client, redirectUri, codeChallenge: challenge, state: safeState, resource, slug, params },
  };
}

/**
 * Records a person's consent as a single-use code bound to everything the exchange must repeat
 * (client, redirect URI, PKCE challenge, resource) and returns where the browser goes next.
 */
export async function issueCode(
  db: Kysely<Database>,
  issuer: string,
  req: AuthorizeRequest,
  consent: { orgId: string; agentId: string; userId: string },
): Promise<string> {
  const code = newSecret('pdc');
  const now = Date.now();
  await db.deleteFrom('oauth_codes').where('expires_at', '<=', new Date(now).toISOString()).execute();
  await db
    .insertInto('oauth_codes')
    .values({
      code_hash: hashSecret(code),
      client_id: req.client.id,
      org_id: consent.orgId,
      agent_id: consent.agentId,
      user_id: consent.userId,
      redirect_uri: req.redirectUri,
      code_challenge: req.codeChallenge,
      resource: req.resource,
      expires_at: new Date(now + CODE_SECONDS * 1000).toISOString(),
    })
    .execute();
  return redirectTo(req.redirectUri, issuer, req.state, { code });
}

/** The person said no: the client is told `access_denied`. */
export function denied(issuer: string, req: AuthorizeRequest, description: string): string {
  return redirectTo(req.redirectUri, issuer, req.state, {
    error: 'access_denied',
    error_description: description,
  });
}
