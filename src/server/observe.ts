/**
 * Every request counted and traced (`src/telemetry`), and on the log once, by the route template
 * it matched (`/api/v1/orgs/{org}/people`, never the path with its org and ids), or `unmatched`.
 */
import type { IncomingMessage } from 'node:http';
import type { SpanContext } from '@opentelemetry/api';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Logger } from '../log/index.ts';
import type { Telemetry } from '../telemetry/index.ts';
import { requestIdOf } from './respond.ts';

/** A handler a route declared, not a middleware in front of every path. */
const declared = (r: { method: string; path: string } | undefined) =>
  r !== undefined && r.method !== 'ALL' && r.path !== '/*' && r.path !== '*';

// What is noted of a request is kept by its Hono context: one object from the first middleware to
// the route (the request itself is replaced on the way, by the body limit).

/** The declared route each request reached, as its handler said (no lookup on every request). */
const reached = new WeakMap<Context, string>();

/** This request reached its declared route (`/mcp/{org}`), which answers it. */
export function routeReached(c: Context, path: string): void {
  reached.set(c, path);
}

/**
 * The declared route of the request, as the API declares it — the one that answered, or the one
 * the path matched when a middleware answered first (the MCP guard, the body-size limit); a path
 * no route has is `unmatched`.
 */
function routeOf(c: Context): string {
  const answered = reached.get(c);
  if (answered !== undefined) return answered;
  const all = matchedRoutes(c);
  const at = all[c.req.routeIndex];
  const r = declared(at) ? at : all.find(declared);
  return r ? r.path.replace(/:(\w+)/g, '{$1}') : 'unmatched';
}

/**
 * A request's headers as tracing reads them (`traceparent`, `tracestate`): served by Node, its own
 * parsed headers, a property read (Hono's lookup validates and lowercases the name each time);
 * otherwise (a test's `app.request`) Hono's.
 */
function headerOf(c: Context): (name: string) => string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming) return (name) => c.req.header(name);
  return (name) => {
    const v = incoming.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
}

/** The span of each request being traced, as the middleware began it. */
const spans = new WeakMap<Context, SpanContext>();

/** The span of this request, when traced: a route calling the gate names it as the caller's `requestSpan`. */
export function requestSpanOf(c: Context): SpanContext | undefined {
  return spans.get(c);
}

/** Requests whose line a route or the MCP guard wrote, with what it knew (its route, its id). */
const logged = new WeakSet<Context>();

/** This request's line is written (by a declared route, or the MCP guard answering itself). */
export function requestLogged(c: Context): void {
  logged.add(c);
}

/**
 * Every request counted and traced (with a scrape token or a traces endpoint), and one line at
 * info for every request no route or guard logged itself: a path no route has, the OpenAPI
 * document, a dashboard page, a body refused for its size, an error no route caught. One
 * middleware for both: each layer in front of every request costs it a dispatch and its promises.
 */
export function watchRequests(log: Logger, telemetry: Telemetry): MiddlewareHandler {
  const watched = telemetry.metrics !== null || telemetry.tracing !== null;
  return async (c, next) => {
    const started = performance.now();
    let route: string | undefined;
    if (!watched) await next();
    else {
      const span = telemetry.requestStarted(headerOf(c), started);
      if (span) spans.set(c, span.context);
      try {
        await next();
      } finally {
        route = routeOf(c);
        telemetry.requestEnded(span, c.req.method, route, c.res.status, started, performance.now());
      }
    }
    if (logged.has(c)) return;
    let requestId = c.res.headers.get('x-request-id');
    if (!requestId) {
      requestId = requestIdOf(c);
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set('x-request-id', requestId);
    }
    log.info(
      {
        requestId,
        method: c.req.method,
        route: route ?? routeOf(c),
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      'request',
    );
  };
}
