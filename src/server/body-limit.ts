/**
 * Hono's body limit, decided from the headers where they suffice: a GET or HEAD carries no body,
 * and a body with a declared Content-Length (and no Transfer-Encoding) is that long — Node's
 * parser reads that many bytes as the body and no more. Only a body of undeclared length is
 * counted as it streams (by Hono's). Hono's asks the request for its body stream first, which
 * makes Node's request into a whole web `Request` on every call (~25 µs of a governed call,
 * bench/mcp-endpoint.bench.ts); the routes read their bodies without one.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

export function limitBody(options: {
  maxSize: number;
  onError: (c: Context) => Response | Promise<Response>;
}): MiddlewareHandler {
  const streamed = bodyLimit(options);
  return (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const declared = c.req.header('content-length');
    if (declared === undefined || c.req.header('transfer-encoding') !== undefined) return streamed(c, next);
    return Number.parseInt(declared, 10) > options.maxSize ? Promise.resolve(options.onError(c)) : next();
  };
}
