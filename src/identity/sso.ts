/**
 * OpenID Connect single sign-on, per organization (authorization code flow with PKCE, state and
 * nonce, via `openid-client`). A person signs in to an org through its identity provider; they
 * must already be a member, unless the org allows automatic provisioning with a set role (never
 * for someone removed from the org: an admin invites them again).
 */
import type { Kysely } from 'kysely';
import * as oidc from 'openid-client';
import { recordChange } from '../audit/index.ts';
import { BadRequestError, ForbiddenError, NotFoundError, UnauthenticatedError } from '../errors/index.ts';
import { hasMisleadingCharacters } from '../html/index.ts';
import type { Database, Db, Role } from '../store/index.ts';
import type { Vault } from '../vault/index.ts';
import type { Caller, Org, OrgContext } from './context.ts';
import { hashSecret, sameSecret } from './credentials.ts';
import { addMembership, ensureUser, normalizeEmail, roleOf } from './people.ts';
import { wasRemoved } from './removal.ts';
import { mayAssign } from './roles.ts';
import { type OrgScope, trustedScope } from './scope.ts';
import { createSession, type NewSession, recordSignIn } from './sessions.ts';

export interface SsoSettings {
  issuer: string;
  clientId: string;
  hasClientSecret: boolean;
  autoProvisionRole: Role | null;
  updatedAt: string;
}

export interface SsoInput {
  issuer: string;
  clientId: string;
  /** Omit to keep the stored secret; null to clear it (public client). */
  clientSecret?: string | null | undefined;
  autoProvisionRole: Role | null;
}

const STATE_TTL_MS = 10 * 60_000;

/** Plain http is accepted only for a provider on this machine (development and tests). */
function assertIssuerUrl(issuer: string): URL {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new BadRequestError('invalid_issuer', 'The issuer must be an absolute URL.');
  }
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    throw new BadRequestError(
      'invalid_issuer',
      'The issuer must use https (http only for a provider on this machine).',
    );
  }
  return url;
}

export async function getSso(db: Db, scope: OrgScope): Promise<SsoSettings | null> {
  const row = await db
    .selectFrom('sso_configs')
    .selectAll()
    .where('org_id', '=', scope.orgId)
    .executeTakeFirst();
  if (!row) return null;
  return {
    issuer: row.issuer,
    clientId: row.client_id,
    hasClientSecret: row.client_secret !== null,
    autoProvisionRole: row.auto_provision_role,
    updatedAt: row.updated_at,
  };
}

export async function setSso(
  db: Kysely<Database>,
  vault: Vault,
  ctx: OrgContext,
  input: SsoInput,
): Promise<SsoSettings> {
  assertIssuerUrl(input.issuer);
  if (input.autoProvisionRole && !mayAssign(ctx.role, input.autoProvisionRole)) {
    throw new ForbiddenError(
      'role_too_high',
      `A ${ctx.role} cannot provision people as ${input.autoProvisionRole}.`,
    );
  }
  return db.transaction().execute(async (trx) => {
    const before = await getSso(trx, ctx.scope);
    const existing = await trx
      .selectFrom('sso_configs')
      .select('client_secret')
      .where('org_id', '=', ctx.scope.orgId)
      .executeTakeFirst();
    let sealed = existing?.client_secret ?? null;
    if (input.clientSecret === null) sealed = null;
    else if (input.clientSecret !== undefined) {
      sealed = await vault.seal(
        trx,
        { orgId: ctx.scope.orgId, secretId: 'sso.client_secret', version: 1 },
        input.clientSecret,
      );
    }
    const row = {
      org_id: ctx.scope.orgId,
      issuer: input.issuer,
      client_id: input.clientId,
      client_secret: sealed,
      auto_provision_role: input.autoProvisionRole,
      updated_at: new Date().toISOString(),
    };
    await trx.deleteFrom('sso_configs').where('org_id', '=', ctx.scope.orgId).execute();
    await trx.insertInto('sso_configs').values(row).execute();
    const after = await getSso(trx, ctx.scope);
    await recordChange(trx, ctx, {
      action: 'sso.updated',
      target: { type: 'org', id: ctx.scope.orgId },
      details: { before, after, clientSecretChanged: input.clientSecret !== undefined },
    });
    discoveries.delete(ctx.scope.orgId);
    return after!;
  });
}

export async function removeSso(db: Kysely<Database>, ctx: OrgContext): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const before = await getSso(trx, ctx.scope);
    if (!before)
      throw new NotFoundError(
        'sso_not_configured',
        'Single sign-on is not configured for this organization.',
      );
    await trx.deleteFrom('sso_configs').where('org_id', '=', ctx.scope.orgId).execute();
    await recordChange(trx, ctx, {
      action: 'sso.removed',
      target: { type: 'org', id: ctx.scope.orgId },
      details: { before },
    });
    discoveries.delete(ctx.scope.orgId);
  });
}

const discoveries = new Map<string, { config: oidc.Configuration; at: number }>();

async function clientFor(
  db: Db,
  vault: Vault,
  org: Org,
): Promise<{ config: oidc.Configuration; autoProvisionRole: Role | null }> {
  const row = await db.selectFrom('sso_configs').selectAll().where('org_id', '=', org.id).executeTakeFirst();
  if (!row)
    throw new NotFoundError('sso_not_configured', `Single sign-on is not configured for "${org.slug}".`);
  const cached = discoveries.get(org.id);
  if (cached && Date.now() - cached.at < 10 * 60_000)
    return { config: cached.config, autoProvisionRole: row.auto_provision_role };
  const issuer = assertIssuerUrl(row.issuer);
  const secret = row.client_secret
    ? await vault.open(db, { orgId: org.id, secretId: 'sso.client_secret', version: 1 }, row.client_secret)
    : undefined;
  let config: oidc.Configuration;
  try {
    config = await oidc.discovery(
      issuer,
      row.client_id,
      secret,
      secret ? undefined : oidc.None(),
      issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined,
    );
  } catch (err) {
    throw new BadRequestError(
      'sso_unreachable',
      `The identity provider at ${issuer.origin} could not be reached or read.`,
      {
        reason: (err as Error).message,
      },
    );
  }
  discoveries.set(org.id, { config, at: Date.now() });
  return { config, autoProvisionRole: row.auto_provision_role };
}

export const SSO_CALLBACK_PATH = '/api/v1/auth/sso/callback';

export function ssoRedirectUri(publicUrl: string): string {
  return `${publicUrl}${SSO_CALLBACK_PATH}`;
}

/**
 * Starts a sign-in: the provider URL to send the browser to, and the state the browser must keep
 * (in a cookie) to finish it, so a sign-in begun elsewhere cannot be finished in this browser.
 */
export async function startSso(
  db: Kysely<Database>,
  vault: Vault,
  org: Org,
  publicUrl: string,
): Promise<{ url: string; state: string; maxAgeSeconds: number }> {
  const { config } = await clientFor(db, vault, org);
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const now = Date.now();
  await db.deleteFrom('sso_states').where('expires_at', '<', new Date(now).toISOString()).execute();
  await db
    .insertInto('sso_states')
    .values({
      state_hash: hashSecret(state),
      org_id: org.id,
      code_verifier: codeVerifier,
      nonce,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + STATE_TTL_MS).toISOString(),
    })
    .execute();
  const url = oidc
    .buildAuthorizationUrl(config, {
      redirect_uri: ssoRedirectUri(publicUrl),
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    })
    .toString();
  return { url, state, maxAgeSeconds: STATE_TTL_MS / 1000 };
}

/** Finishes a sign-in from the provider's redirect; returns a new session. */
export async function finishSso(
  db: Kysely<Database>,
  vault: Vault,
  callbackUrl: URL,
  /** The state this browser kept when it started a sign-in (its cookie), if any. */
  browserState: string | undefined,
  requestId: string,
): Promise<NewSession & { userId: string; orgSlug: string }> {
  const state = callbackUrl.searchParams.get('state');
  if (!state)
    throw new BadRequestError('sso_state_missing', 'The sign-in response has no state. Start again.');
  // Login CSRF: a response to a sign-in this browser did not start would sign it in as someone else.
  if (!browserState || !sameSecret(state, browserState))
    throw new UnauthenticatedError(
      'sso_other_browser',
      'This sign-in was not started in this browser. Start again from the sign-in page.',
    );
  const pending = await db
    .selectFrom('sso_states')
    .selectAll()
    .where('state_hash', '=', hashSecret(state))
    .executeTakeFirst();
  if (!pending || pending.expires_at <= new Date().toISOString()) {
    throw new UnauthenticatedError(
      'sso_state_invalid',
      'This sign-in attempt is unknown or expired. Start again.',
    );
  }
  // One use only, whatever happens next.
  await db.deleteFrom('sso_states').where('state_hash', '=', pending.state_hash).execute();
  const org = await db
    .selectFrom('orgs')
    .selectAll()
    .where('id', '=', pending.org_id)
    .executeTakeFirstOrThrow();
  const { config, autoProvisionRole } = await clientFor(db, vault, { id: org.id, slug: org.slug } as Org);
  if (callbackUrl.searchParams.get('error')) {
    throw new UnauthenticatedError('sso_refused', 'The identity provider did not sign you in.');
  }
  let claims: Record<string, unknown> | undefined;
  try {
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: pending.code_verifier,
      expectedState: state,
      expectedNonce: pending.nonce,
    });
    const idToken = tokens.claims();
    claims = idToken;
    // Many providers put email only in the userinfo response, not in the ID token.
    if (idToken && typeof idToken.email !== 'string') {
      claims = { ...(await oidc.fetchUserInfo(config, tokens.access_token, idToken.sub)), ...idToken };
    }
  } catch (err) {
    throw new UnauthenticatedError('sso_failed', `Single sign-on failed: ${(err as Error).message}`);
  }
  if (!claims || typeof claims.email !== 'string') {
    throw new UnauthenticatedError('sso_no_email', 'The identity provider sent no email address.');
  }
  if (claims.email_verified === false) {
    throw new UnauthenticatedError(
      'sso_email_unverified',
      'The identity provider says this email is not verified.',
    );
  }
  const email = normalizeEmail(claims.email);
  // The provider's name for a new account, when it reads as it is (else the email's local part).
  const given = typeof claims.name === 'string' ? claims.name.trim() : '';
  const name = given && given.length <= 100 && !hasMisleadingCharacters(given) ? given : undefined;
  return db.transaction().execute(async (trx) => {
    const scope = trustedScope(org.id);
    const user = await ensureUser(trx, { email, name });
    if (!(await roleOf(trx, scope, user.id))) {
      if (!autoProvisionRole) {
        throw new ForbiddenError(
          'not_a_member',
          `${email} is not a member of "${org.slug}". Ask an admin for an invitation.`,
        );
      }
      // An account with a password may have been claimed by someone else before this person came
      // (through another org's invitation): joining it here would let that someone in. It joins by
      // an invitation, which its password accepts.
      if (!user.created && user.hasPassword) {
        throw new ForbiddenError(
          'invitation_needed',
          `${email} already has a Paddock account with a password. Ask an admin of "${org.slug}" for an invitation.`,
        );
      }
      // Removed people are not let back in by their identity provider: an admin invites them again.
      if (await wasRemoved(trx, scope, user.id)) {
        throw new ForbiddenError(
          'removed_from_org',
          `${email} was removed from "${org.slug}". An admin must invite you again.`,
        );
      }
      const caller: Caller = {
        requestId,
        actor: { type: 'person', id: user.id },
        userId: user.id,
        tokenId: null,
      };
      await addMembership(trx, caller, scope, user.id, autoProvisionRole, 'sso provisioning');
    }
    // Its identity provider vouches for this org only: the session opens nothing else.
    const session = await createSession(trx, user.id, 'sso', org.id);
    await recordSignIn(trx, user.id, 'sso', requestId, org.id);
    return { ...session, userId: user.id, orgSlug: org.slug };
  });
}
