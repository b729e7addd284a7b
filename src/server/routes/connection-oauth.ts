/** Connecting remote MCP servers with OAuth: start (browser to the provider), callback, status, disconnect. */
import { z } from 'zod';
import {
  disconnect,
  finishConnect,
  getConnection,
  oauthRedirectUri,
  oauthStatus,
  revokeAtProvider,
  startConnect,
} from '../../connections/index.ts';
import { PaddockError, UnauthenticatedError } from '../../errors/index.ts';
import { can, type Principal } from '../../identity/index.ts';
import type { Deps } from '../deps.ts';
import { defineRoute } from '../route.ts';
import { Id, OrgParams } from '../schemas.ts';

const ConnectionParams = OrgParams.extend({ connection: Id });

export const OAuthStatusSchema = z
  .object({
    oauth: z.boolean().describe('whether the connection signs in with OAuth'),
    perPerson: z.boolean().optional().describe('each person connects their own account'),
    issuer: z.string().nullable().optional(),
    client: z.enum(['registered', 'entered']).nullable().optional(),
    scope: z.string().nullable().optional(),
    connected: z.boolean().optional().describe("the org's account (or, per person, yours) is connected"),
    expiresAt: z.string().nullable().optional(),
    connectedAt: z.string().nullable().optional(),
    people: z.number().int().optional().describe('per person: how many people connected their account'),
  })
  .meta({ id: 'ConnectionOAuthStatus' });

export const OAuthStartBodySchema = z.strictObject({
  perPerson: z.boolean().optional().describe('set up: each person connects their own account'),
  clientId: z
    .string()
    .min(1)
    .max(500)
    .optional()
    .describe('set up: a client registered by hand (no dynamic registration)'),
  clientSecret: z.string().min(1).max(2000).optional().describe('sealed in the vault, never shown'),
  scope: z.string().max(1000).optional(),
});
export const OAuthStartSchema = z.object({ authorizationUrl: z.string(), perPerson: z.boolean() });

/** What a connect request is bound to: the dashboard session, or the API token. */
function boundTo(principal: Principal): string {
  if (principal.kind === 'session') return `session:${principal.session.sessionId}`;
  if (principal.kind === 'token') return `token:${principal.token.id}`;
  throw new UnauthenticatedError();
}

const authDeps = (deps: Deps) => ({
  db: deps.store.db,
  vault: deps.vault,
  egress: deps.opener.egress,
  redirectUri: oauthRedirectUri(deps.config.publicUrl),
});

export const connectionOAuthRoutes = [
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/connections/{connection}/oauth/start',
    summary:
      "Start connecting a remote MCP server with OAuth: answers the authorization server's URL to send the browser to (admins set it up the first time; on a per-person connection, anyone connects their own account)",
    tag: 'connections',
    access: { permission: 'connections.read' },
    params: ConnectionParams,
    body: OAuthStartBodySchema,
    response: OAuthStartSchema,
    handler: async ({ ctx, deps, params, body, principal }) => {
      const conn = await getConnection(deps.store.db, ctx, params.connection);
      const { setUp, ...started } = await startConnect(
        authDeps(deps),
        ctx,
        conn,
        { ...body, boundTo: boundTo(principal) },
        can(ctx.role, 'connections.manage'),
      );
      // Sessions opened before it signed in with OAuth (with headers only) end: the next call opens anew.
      if (setUp)
        await deps.sessions.publish({ kind: 'connection', orgId: ctx.scope.orgId, connectionId: conn.id });
      return started;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/connections/oauth/callback',
    summary:
      "Where a remote MCP server's authorization server sends the browser back (redirects to the Connections page)",
    tag: 'connections',
    access: 'signed-in',
    query: z.object({
      state: z.string().max(200).optional(),
      code: z.string().max(4000).optional(),
      error: z.string().max(200).optional(),
      error_description: z.string().max(2000).optional(),
      iss: z.string().max(2000).optional(),
    }),
    raw: { status: 302, description: 'to the Connections page, saying connected or why not' },
    handler: async ({ deps, query, principal, requestId, c }) => {
      const userId =
        principal.kind === 'session'
          ? principal.session.userId
          : principal.kind === 'token'
            ? principal.token.userId
            : null;
      if (!userId) throw new UnauthenticatedError();
      try {
        const done = await finishConnect(
          authDeps(deps),
          { userId, boundTo: boundTo(principal), requestId },
          query,
        );
        const org = await deps.store.db
          .selectFrom('orgs')
          .select('slug')
          .where('id', '=', done.orgId)
          .executeTakeFirstOrThrow();
        return c.redirect(
          `/orgs/${org.slug}/connections?connected=${encodeURIComponent(done.connectionId)}`,
          302,
        );
      } catch (err) {
        if (!PaddockError.isInstance(err)) throw err;
        const orgId = (err.details as { orgId?: string } | undefined)?.orgId;
        const org = orgId
          ? await deps.store.db.selectFrom('orgs').select('slug').where('id', '=', orgId).executeTakeFirst()
          : undefined;
        const page = org ? `/orgs/${org.slug}/connections` : '/';
        return c.redirect(`${page}?oauthError=${encodeURIComponent(err.code)}`, 302);
      }
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/connections/{connection}/oauth',
    summary: 'Whether a remote connection uses OAuth and is connected (never a token)',
    tag: 'connections',
    access: { permission: 'connections.read' },
    params: ConnectionParams,
    response: OAuthStatusSchema,
    handler: async ({ ctx, deps, params }) => {
      await getConnection(deps.store.db, ctx, params.connection);
      return oauthStatus(deps.store.db, ctx, params.connection);
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/connections/{connection}/oauth',
    summary:
      "Disconnect: the org's authorization (admins), or your own account on a per-person connection (admins may name `person`); its sessions end",
    tag: 'connections',
    access: { permission: 'connections.read' },
    params: ConnectionParams,
    query: z.object({ person: Id.optional() }),
    status: 204,
    handler: async ({ ctx, deps, params, query }) => {
      await getConnection(deps.store.db, ctx, params.connection);
      const { event, ended } = await deps.store.db
        .transaction()
        .execute((trx) =>
          disconnect(trx, ctx, params.connection, query.person, can(ctx.role, 'connections.manage')),
        );
      await deps.sessions.publish(event);
      // Then the provider is asked to forget them too (best effort; unusable here already).
      await revokeAtProvider(authDeps(deps), ended);
      return undefined;
    },
  }),
];
