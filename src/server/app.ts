/**
 * The HTTP application: registers every declared route behind one pipeline —
 * authenticate → CSRF → org access and permission → strict input parsing → handler —
 * and turns every error into `{"error":{"code","message"}}` after redaction.
 */

import type { Context } from 'hono';
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import {
  BadRequestError,
  ForbiddenError,
  NotFoundError,
  PaddockError,
  PayloadTooLargeError,
  UnauthenticatedError,
} from '../errors/index.ts';
import { can, orgAccess, sameSecret } from '../identity/index.ts';
import { type Authenticated, authenticate } from './authenticate.ts';
import { limitBody } from './body-limit.ts';
import { clearSessionCookie } from './cookies.ts';
import type { Deps } from './deps.ts';
import { requestLogged, routeReached, watchRequests } from './observe.ts';
import { buildOpenApi } from './openapi.ts';
import { parseWith, readJsonBody } from './request.ts';
import { errorResponse, requestIdOf } from './respond.ts';
import type { RouteDef } from './route.ts';
import { routes as allRoutes } from './routes/index.ts';
import { mcpGuard } from './routes/mcp.ts';
import { oauthCors } from './routes/oauth.ts';
import { isPagePath, serveDashboard } from './static.ts';

export const MAX_BODY_BYTES = 64 * 1024;
const VERSION = '0.1.0';

/**
 * A session cookie that has ended is cleared from the browser; on a public route it counts as
 * no credential, so a person with a dead cookie can still sign in.
 */
async function authenticateFor(c: Context, deps: Deps, route: RouteDef): Promise<Authenticated> {
  try {
    return await authenticate(c, deps, route.access);
  } catch (err) {
    const deadSession = PaddockError.isInstance(err) && err.code.startsWith('session_');
    if (deadSession) clearSessionCookie(c);
    if (deadSession && route.access === 'public') return { kind: 'anonymous' };
    throw err;
  }
}

function hasAccessDeclared(route: RouteDef): boolean {
  const a = route.access as unknown;
  return (
    a === 'public' ||
    a === 'signed-in' ||
    a === 'agent' ||
    a === 'scrape' ||
    (typeof a === 'object' && a !== null && typeof (a as { permission?: unknown }).permission === 'string')
  );
}

export function createApp(deps: Deps, routes: RouteDef[] = allRoutes): Hono {
  const app = new Hono();
  const openapi = buildOpenApi(routes, VERSION);
  app.use('*', watchRequests(deps.log, deps.telemetry));

  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
      },
      referrerPolicy: 'no-referrer',
      // A page that sets its own policy keeps it (the OAuth consent page admits its client's origin).
      overwrite: false,
    }),
  );
  const jsonLimit = limitBody({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => errorResponse(c, new PayloadTooLargeError(MAX_BODY_BYTES), requestIdOf(c)),
  });
  // Raw-body routes with a limit of their own (a customer's document) enforce it as they stream.
  const uploads = routes
    .filter((r) => r.rawBody?.maxBytes !== undefined)
    .map((r) => ({
      method: r.method.toUpperCase(),
      path: new RegExp(`^${r.path.replace(/\{\w+\}/g, '[^/]+')}$`),
      maxBytes: r.rawBody!.maxBytes!,
    }));
  const largerJson = routes
    .filter((r) => r.maxJsonBytes !== undefined)
    .map((r) => ({
      method: r.method.toUpperCase(),
      path: new RegExp(`^${r.path.replace(/\{\w+\}/g, '[^/]+')}$`),
      limit: limitBody({
        maxSize: r.maxJsonBytes!,
        onError: (c) => errorResponse(c, new PayloadTooLargeError(r.maxJsonBytes!), requestIdOf(c)),
      }),
    }));
  app.use('*', async (c, next) => {
    const upload = uploads.find((u) => u.method === c.req.method && u.path.test(c.req.path));
    const larger = largerJson.find((u) => u.method === c.req.method && u.path.test(c.req.path));
    if (larger) return larger.limit(c, next);
    if (!upload) return jsonLimit(c, next);
    const declared = Number(c.req.header('content-length') ?? Number.NaN);
    if (declared > upload.maxBytes)
      return errorResponse(c, new PayloadTooLargeError(upload.maxBytes), requestIdOf(c));
    return next();
  });

  // DNS-rebinding protection and CORS for the MCP endpoint, before anything reads a credential.
  app.use('/mcp/*', mcpGuard(deps));
  // Browser-based MCP clients discover, register and fetch tokens without cookies.
  for (const path of [
    '/.well-known/oauth-protected-resource/*',
    '/.well-known/oauth-authorization-server',
    '/oauth/register',
    '/oauth/token',
  ])
    app.use(path, oauthCors());

  for (const route of routes) {
    // Deny by default: a route that does not say who may call it is never reachable.
    if (!hasAccessDeclared(route))
      throw new Error(`route ${route.method.toUpperCase()} ${route.path} declares no access`);
    const permission = typeof route.access === 'object' ? route.access.permission : undefined;
    if ((permission || route.access === 'agent') && !route.path.includes('{org}')) {
      throw new Error(`route ${route.path} is an org's but has no {org} in its path`);
    }
    const honoPath = route.path.replace(/\{(\w+)\}/g, ':$1');
    app.on(route.method.toUpperCase(), honoPath, async (c) => {
      routeReached(c, route.path);
      const requestId = requestIdOf(c);
      const started = performance.now();
      let status = 500;
      try {
        const who = await authenticateFor(c, deps, route);
        // Public routes (sign-in, setup, links) act with no one's authority, so need no CSRF token.
        if (who.kind === 'session' && route.method !== 'get' && route.access !== 'public') {
          // Cookies ride along on cross-site requests; the CSRF header cannot.
          if (!sameSecret(c.req.header('x-csrf-token') ?? '', who.session.csrfToken)) {
            throw new ForbiddenError(
              'csrf_failed',
              'Missing or wrong x-csrf-token header for a cookie-authenticated change.',
            );
          }
        }
        if (route.access === 'agent' && who.kind === 'anonymous')
          throw new UnauthenticatedError(
            'unauthenticated',
            'Send an agent token: Authorization: Bearer pda_…',
          );
        if (route.access !== 'public' && who.kind === 'anonymous') throw new UnauthenticatedError();
        let ctx: Awaited<ReturnType<typeof orgAccess>> | undefined;
        if (permission) {
          ctx = await orgAccess(
            deps.store.db,
            who as Exclude<Authenticated, { kind: 'agent' | 'scraper' }>,
            c.req.param('org') ?? '',
            requestId,
          );
          if (!can(ctx.role, permission)) {
            throw new ForbiddenError('forbidden', `The ${ctx.role} role does not allow ${permission}.`);
          }
        }
        // An agent token is its org's only: another org's path reads as missing, as everywhere.
        const slug = c.req.param('org') ?? '';
        if (who.kind === 'agent' && who.agent.orgSlug !== slug)
          throw new NotFoundError('org_not_found', `No organization "${slug}" that you can see.`);
        // NUL reaches a path or query only percent-encoded (the HTTP parser refuses it raw).
        if (c.req.url.includes('%00'))
          throw new BadRequestError('nul_in_text', 'The address holds a NUL character (%00); remove it.');
        const params = route.params ? parseWith(route.params, c.req.param(), 'path') : {};
        const query = route.query ? parseWith(route.query, c.req.query(), 'query') : {};
        let body: unknown;
        if (route.body) body = parseWith(route.body, await readJsonBody(c, route.access !== 'agent'), 'body');
        else if (!route.rawBody && (await c.req.text()).length > 0) {
          throw new PaddockError(400, 'unexpected_body', 'This route takes no request body.');
        }
        const result = await route.handler({
          ctx: ctx as never,
          agent: (who.kind === 'agent' ? who.agent : undefined) as never,
          principal: (who.kind === 'agent' ? undefined : who) as never,
          requestId,
          params,
          query,
          body,
          deps,
          c,
        });
        c.header('x-request-id', requestId);
        let res: Response;
        if (result instanceof Response) res = result;
        else if (route.status === 204 || result === undefined) res = c.body(null, 204);
        else res = c.json(result as object, (route.status ?? 200) as 200);
        status = res.status;
        return res;
      } catch (err) {
        const known = PaddockError.isInstance(err)
          ? err
          : new PaddockError(
              500,
              'internal',
              `Something went wrong. Quote request id ${requestId} when reporting it.`,
            );
        if (!PaddockError.isInstance(err))
          deps.log.error({ err, requestId, route: route.path }, 'request failed');
        status = known.status;
        return errorResponse(c, known, requestId);
      } finally {
        requestLogged(c);
        deps.log.info(
          {
            requestId,
            method: route.method.toUpperCase(),
            route: route.path,
            status,
            ms: Math.round(performance.now() - started),
          },
          'request',
        );
      }
    });
  }

  app.get('/api/v1/openapi.json', (c) => c.json(openapi));
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    if (c.req.method === 'GET' && isPagePath(path)) return serveDashboard(path);
    return errorResponse(
      c,
      new PaddockError(404, 'route_not_found', `No route ${c.req.method} ${path}.`),
      requestIdOf(c),
    );
  });
  app.onError((err, c) => {
    const requestId = requestIdOf(c);
    deps.log.error({ err, requestId }, 'unhandled error');
    return errorResponse(
      c,
      new PaddockError(500, 'internal', `Something went wrong (request id ${requestId}).`),
      requestId,
    );
  });
  return app;
}
