/**
 * Sign-in for MCP clients that expect OAuth (the MCP authorization spec): discovery metadata for
 * each org's `/mcp/{org}` (RFC 9728) and for Paddock as its authorization server (RFC 8414),
 * client registration (RFC 7591), the authorization request with the person's consent, and the
 * token endpoint. These speak OAuth's wire format (form bodies, `{"error","error_description"}`),
 * not the JSON API's; the person's side is Paddock's own sign-in (the session cookie).
 */
import type { MiddlewareHandler } from 'hono';
import { agentsForClientTokens, assertMayHoldAgentToken } from '../../agents/index.ts';
import { PaddockError } from '../../errors/index.ts';
import { type OrgContext, orgAccess, type Principal, sameSecret } from '../../identity/index.ts';
import {
  type AuthorizeCheck,
  authorizationServerMetadata,
  checkAuthorizeRequest,
  denied,
  issueCode,
  OAUTH_PATHS,
  OAuthError,
  oauthErrorResponse,
  parseRegistration,
  protectedResourceMetadata,
  registerClient,
  registrationResponse,
  resourceMetadataUrl,
  tokenRequest,
} from '../../oauth/index.ts';
import type { Deps } from '../deps.ts';
import { consentPage, errorPage } from '../oauth-page.ts';
import { addressKey, clientAddress } from '../request.ts';
import { defineRoute } from '../route.ts';
import { OrgParams } from '../schemas.ts';

/** Registrations from one address in the limiter's window (15 minutes): a client registers once. */
const REGISTRATIONS_PER_ADDRESS = 20;

const issuerOf = (deps: Deps) => deps.config.publicUrl.replace(/\/+$/, '');

const json = (body: unknown, status = 200) =>
  Response.json(body, { status, headers: { 'cache-control': 'no-store', pragma: 'no-cache' } });

/** The browser goes on to `url` (after a form post: 303, so it is fetched with GET). */
const goTo = (url: string) =>
  new Response(null, { status: 303, headers: { location: url, 'cache-control': 'no-store' } });

/** Runs an OAuth endpoint: its errors in OAuth's shape. */
async function oauthAnswer(requestId: string, fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (err) {
    if (PaddockError.isInstance(err)) return oauthErrorResponse(err, requestId);
    throw err;
  }
}

/** A form body (`application/x-www-form-urlencoded`), as OAuth sends one. */
async function formOf(req: Request): Promise<URLSearchParams> {
  const type = req.headers.get('content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\b/i.test(type))
    throw new OAuthError('invalid_request', 'Send the body as application/x-www-form-urlencoded.');
  return new URLSearchParams(await req.text());
}

/** A check that failed: a page for the person, or the client told at its redirect URI. */
function refusal(check: Exclude<AuthorizeCheck, { ok: true }>): Response {
  return 'page' in check ? errorPage(check.page) : goTo(check.redirect);
}

/** The person's standing in the org the client asks for, or null if they are not a member. */
async function contextFor(deps: Deps, principal: Principal, slug: string, requestId: string) {
  try {
    return await orgAccess(deps.store.db, principal, slug, requestId);
  } catch (err) {
    if (PaddockError.isInstance(err) && err.status === 404) return null;
    throw err;
  }
}

/**
 * CORS for browser-based MCP clients on the endpoints they call without cookies (discovery,
 * registration, tokens): any origin may read, as none of them reads a credential of the browser.
 */
export function oauthCors(): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') {
      return new Response(null, {
        status: 204,
        headers: {
          'access-control-allow-origin': '*',
          'access-control-allow-methods': 'GET, POST',
          'access-control-allow-headers': 'content-type, authorization, mcp-protocol-version',
          'access-control-max-age': '600',
        },
      });
    }
    await next();
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set('access-control-allow-origin', '*');
  };
}

/** The challenge `/mcp/{org}` answers a 401 with: where its protected-resource metadata is (RFC 9728 §5.1). */
export function withResourceMetadata(challenge: string, publicUrl: string, path: string): string {
  const m = /^\/mcp\/([a-z0-9-]{1,40})\/?$/.exec(path);
  if (!m) return challenge;
  return `${challenge}, resource_metadata="${resourceMetadataUrl(publicUrl, m[1]!)}"`;
}

const jsonDoc = { status: 200, description: 'The metadata (JSON)', contentTypes: ['application/json'] };

export const oauthRoutes = [
  defineRoute({
    method: 'get',
    path: '/.well-known/oauth-protected-resource/mcp/{org}',
    summary: "The org's MCP endpoint as an OAuth protected resource (RFC 9728): its authorization server",
    tag: 'oauth',
    access: 'public',
    params: OrgParams,
    raw: jsonDoc,
    handler: async ({ deps, params }) => json(protectedResourceMetadata(issuerOf(deps), params.org)),
  }),
  defineRoute({
    method: 'get',
    path: OAUTH_PATHS.serverMetadata,
    summary: 'Paddock as an OAuth authorization server for MCP clients (RFC 8414)',
    tag: 'oauth',
    access: 'public',
    raw: jsonDoc,
    handler: async ({ deps }) => json(authorizationServerMetadata(issuerOf(deps))),
  }),
  defineRoute({
    method: 'post',
    path: OAUTH_PATHS.register,
    summary: 'Register an MCP client (RFC 7591): public clients with https or loopback redirect URIs',
    tag: 'oauth',
    access: 'public',
    rawBody: { description: 'the client metadata (application/json)' },
    raw: { status: 201, description: 'The registered client (JSON)', contentTypes: ['application/json'] },
    handler: async ({ deps, requestId, c }) =>
      oauthAnswer(requestId, async () => {
        if (!/^application\/json\b/i.test(c.req.header('content-type') ?? ''))
          throw new OAuthError('invalid_client_metadata', 'Send the client metadata as application/json.');
        let body: unknown;
        try {
          body = JSON.parse(await c.req.text());
        } catch {
          throw new OAuthError('invalid_client_metadata', 'The body is not valid JSON.');
        }
        parseRegistration(body);
        // Counted once valid: a refused request registers nothing, so only real ones use the allowance.
        if (
          deps.signInLimiter.count(
            `oauth-register:${addressKey(clientAddress(c, deps.config.trustedProxies))}`,
          ) > REGISTRATIONS_PER_ADDRESS
        )
          throw new OAuthError(
            'temporarily_unavailable',
            'Too many registrations from this address. Try later.',
            429,
          );
        const client = await registerClient(deps.store.db, body);
        deps.log.info({ requestId, clientId: client.id }, 'oauth client registered');
        return json(registrationResponse(client), 201);
      }),
  }),
  defineRoute({
    method: 'get',
    path: OAUTH_PATHS.authorize,
    summary: 'Start signing an MCP client in: the consent page (sign in to Paddock first)',
    tag: 'oauth',
    access: 'public',
    raw: { status: 200, description: 'The consent page, or a redirect', contentTypes: ['text/html'] },
    handler: async ({ deps, principal, requestId, c }) => {
      const issuer = issuerOf(deps);
      const query = new URL(c.req.url).searchParams;
      const check = await checkAuthorizeRequest(deps.store.db, issuer, query);
      if (!check.ok) return refusal(check);
      if (principal.kind !== 'session') {
        const back = `${OAUTH_PATHS.authorize}?${query.toString()}`;
        return new Response(null, {
          status: 302,
          headers: { location: `/signin?next=${encodeURIComponent(back)}` },
        });
      }
      const req = check.request;
      const ctx = await contextFor(deps, principal, req.slug, requestId);
      const agents = ctx ? await agentsForClientTokens(deps.store.db, ctx) : [];
      let notice: string | null = null;
      if (!ctx) notice = `You are not a member of the organization “${req.slug}”.`;
      else if (agents.length === 0)
        notice =
          'There is no agent you may hold a token for here. Ask an admin, or create an agent of your own.';
      return consentPage({
        clientName: req.client.name,
        redirectUri: req.redirectUri,
        orgSlug: req.slug,
        personEmail: principal.session.email,
        agents: agents.map((a) => ({ id: a.id, name: a.name, description: a.description })),
        notice,
        params: req.params,
        csrf: principal.session.csrfToken,
      });
    },
  }),
  defineRoute({
    method: 'post',
    path: OAUTH_PATHS.authorize,
    summary: "The person's answer on the consent page: a code for the client, or access_denied",
    tag: 'oauth',
    access: 'public',
    rawBody: { description: 'the consent form (application/x-www-form-urlencoded)' },
    raw: { status: 303, description: "Back to the client's redirect URI", contentTypes: ['text/html'] },
    handler: async ({ deps, principal, requestId, c }) => {
      const issuer = issuerOf(deps);
      let form: URLSearchParams;
      try {
        form = await formOf(c.req.raw);
      } catch {
        return errorPage('The consent form was not sent as a form.');
      }
      // Checked again in full: the form's fields are the browser's, and anyone can forge them.
      const check = await checkAuthorizeRequest(deps.store.db, issuer, form);
      if (!check.ok) return refusal(check);
      if (principal.kind !== 'session') return errorPage('Sign in to Paddock first, then try again.', 401);
      const csrf = form.getAll('csrf');
      if (csrf.length !== 1 || !sameSecret(csrf[0]!, principal.session.csrfToken))
        return errorPage(
          'This consent form is not from your session. Start again from the application.',
          403,
        );
      const req = check.request;
      const decision = form.getAll('decision');
      if (decision.length !== 1 || decision[0] !== 'allow')
        return goTo(denied(issuer, req, 'The person said no.'));
      const ctx: OrgContext | null = await contextFor(deps, principal, req.slug, requestId);
      if (!ctx) return goTo(denied(issuer, req, 'The person is not a member of that organization.'));
      const agent = form.getAll('agent');
      try {
        if (agent.length !== 1 || agent[0]!.length > 64)
          throw new OAuthError('invalid_request', 'Pick one agent.');
        await assertMayHoldAgentToken(deps.store.db, ctx, agent[0]!);
      } catch (err) {
        if (!PaddockError.isInstance(err)) throw err;
        return errorPage('You may not let an application act as that agent.', 403);
      }
      return goTo(
        await issueCode(deps.store.db, issuer, req, {
          orgId: ctx.scope.orgId,
          agentId: agent[0]!,
          userId: principal.session.userId,
        }),
      );
    },
  }),
  defineRoute({
    method: 'post',
    path: OAUTH_PATHS.token,
    summary: 'Exchange a code (with its PKCE verifier) or a refresh token for an agent token',
    tag: 'oauth',
    access: 'public',
    rawBody: { description: 'the token request (application/x-www-form-urlencoded)' },
    raw: { status: 200, description: 'The tokens (JSON)', contentTypes: ['application/json'] },
    handler: async ({ deps, requestId, c }) =>
      oauthAnswer(requestId, async () =>
        json(
          await tokenRequest(deps.store.db, issuerOf(deps), await formOf(c.req.raw), requestId, (ended) =>
            // A token ended here ends its calls in flight too, on every replica.
            deps.sessions.publish({ kind: 'agent-tokens', orgId: ended.orgId, tokenIds: [ended.tokenId] }),
          ),
        ),
      ),
  }),
];
