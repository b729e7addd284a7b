/**
 * The token endpoint (RFC 6749 §3.2) for public clients: an authorization code, with its PKCE
 * verifier, becomes an agent token and a refresh token; a refresh token becomes new ones. Every
 * check happens before anything changes: a wrong verifier, redirect URI, client or resource
 * leaves the code as it was, and a code is consumed exactly once, even by two racing requests.
 */
import type { Kysely } from 'kysely';
import {
  type ClientTokens,
  endGrantIfReplayed,
  issueClientToken,
  markCodeSpent,
  type OnTokenEnded,
  refreshClientToken,
} from '../agents/index.ts';
import { PaddockError } from '../errors/index.ts';
import { hashSecret, personAccess } from '../identity/index.ts';
import type { Database } from '../store/index.ts';
import { findClient } from './clients.ts';
import { OAuthError } from './errors.ts';
import { slugOfResource } from './metadata.ts';
import { verifierMatches } from './pkce.ts';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
}

const MAX_PARAM_LENGTH = 2048;

/** One value per parameter (RFC 6749 §3.2: parameters must not repeat), bounded. */
function reader(form: URLSearchParams) {
  return (name: string, required: boolean): string | undefined => {
    const all = form.getAll(name);
    if (all.length > 1)
      throw new OAuthError('invalid_request', `The ${name} parameter appears more than once.`);
    const v = all[0];
    if (v === undefined || v === '') {
      if (required) throw new OAuthError('invalid_request', `The ${name} parameter is required.`);
      return undefined;
    }
    if (v.length > MAX_PARAM_LENGTH)
      throw new OAuthError('invalid_request', `The ${name} parameter is too long.`);
    return v;
  };
}

const toResponse = (t: ClientTokens): TokenResponse => ({
  access_token: t.accessToken,
  token_type: 'Bearer',
  expires_in: t.expiresIn,
  refresh_token: t.refreshToken,
});

/** Answers a token request: `authorization_code` or `refresh_token`. */
export async function tokenRequest(
  db: Kysely<Database>,
  issuer: string,
  form: URLSearchParams,
  requestId: string,
  /** Told of each token a replay or a lost right ends, so its calls in flight end too. */
  onEnded?: OnTokenEnded,
): Promise<TokenResponse> {
  const param = reader(form);
  const grantType = param('grant_type', true);
  const clientId = param('client_id', true)!;
  const client = await findClient(db, clientId);
  if (!client) throw new OAuthError('invalid_client', 'This client is not registered. Register it again.');
  const resource = param('resource', false);
  const slug = resource === undefined ? undefined : slugOfResource(issuer, resource);
  if (slug === null)
    throw new OAuthError('invalid_target', 'The resource is not an MCP endpoint of this server.');
  if (grantType === 'authorization_code') {
    return exchangeCode(db, {
      clientId,
      clientName: client.name,
      code: param('code', true)!,
      verifier: param('code_verifier', true)!,
      redirectUri: param('redirect_uri', true)!,
      resource,
      requestId,
      onEnded,
    });
  }
  if (grantType === 'refresh_token') {
    const refreshToken = param('refresh_token', true)!;
    return toResponse(
      await refreshClientToken(db, { refreshToken, clientId, requestId, orgSlug: slug }, onEnded),
    );
  }
  throw new OAuthError('unsupported_grant_type', 'Use authorization_code or refresh_token.');
}

async function exchangeCode(
  db: Kysely<Database>,
  input: {
    clientId: string;
    clientName: string;
    code: string;
    verifier: string;
    redirectUri: string;
    resource: string | undefined;
    requestId: string;
    onEnded: OnTokenEnded | undefined;
  },
): Promise<TokenResponse> {
  const bad = (why: string) => new OAuthError('invalid_grant', why);
  const hash = hashSecret(input.code);
  const now = new Date().toISOString();
  const row = await db.selectFrom('oauth_codes').selectAll().where('code_hash', '=', hash).executeTakeFirst();
  // A code exchanged already, presented again: whoever holds it, the token it gave ends.
  if (
    !row &&
    (await endGrantIfReplayed(db, input.code, input.requestId, 'authorization code', input.onEnded))
  )
    throw bad('The authorization code was already used: the token issued for it is revoked.');
  if (!row || row.expires_at <= now)
    throw bad('The authorization code is not valid, was used, or has expired.');
  if (row.client_id !== input.clientId) throw bad('The authorization code was issued to another client.');
  if (row.redirect_uri !== input.redirectUri)
    throw bad('redirect_uri differs from the authorization request.');
  if (input.resource !== undefined && input.resource !== row.resource)
    throw new OAuthError('invalid_target', 'resource differs from the authorization request.');
  if (!verifierMatches(input.verifier, row.code_challenge))
    throw bad('The code_verifier does not match the code_challenge (PKCE).');
  // Consumed once: of two racing exchanges, only the one that deletes the row goes on.
  const taken = await db.deleteFrom('oauth_codes').where('code_hash', '=', hash).executeTakeFirst();
  if (Number(taken.numDeletedRows) !== 1) throw bad('The authorization code was already used.');
  try {
    const ctx = await personAccess(db, row.user_id, row.org_id, input.requestId);
    const tokens = await issueClientToken(db, ctx, {
      agentId: row.agent_id,
      client: { id: input.clientId, name: input.clientName },
    });
    await markCodeSpent(db, input.code, tokens.tokenId);
    return toResponse(tokens);
  } catch (err) {
    // Removed since consenting, or no longer allowed this agent: no token.
    if (PaddockError.isInstance(err))
      throw bad('The person who signed in may no longer hold a token for this agent.');
    throw err;
  }
}
