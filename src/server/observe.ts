/**
 * Every request counted and traced (`src/telemetry`), by the route template it matched
 * (`/api/v1/orgs/{org}/people`, never the path with its org and ids), or `unmatched`.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Telemetry } from '../telemetry/index.ts';

/** The declared route that answered, as the API declares it; a path no route matched is `unmatched`. */
function routeOf(c: Context): string {
  const r = matchedRoutes(c)[c.req.routeIndex];
  if (!r || r.path === '/*' || r.path === '*' || r.method === 'ALL') return 'unmatched';
  return r.path.replace(/:(\w+)/g, '{$1}');
}

export function observeRequests(telemetry: Telemetry): MiddlewareHandler | undefined {
  if (!telemetry.metrics && !telemetry.tracing) return undefined;
  return (c, next) =>
    telemetry.request(
      c.req.method,
      (name) => c.req.header(name),
      next,
      () => ({ route: routeOf(c), status: c.res.status }),
    );
}
