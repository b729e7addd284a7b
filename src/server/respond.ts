/** How every HTTP answer of Paddock reports a request id and an error (one JSON shape, redacted). */
import type { Context } from 'hono';
import type { PaddockError } from '../errors/index.ts';
import { newRequestId } from '../identity/context.ts';
import { redact } from '../redact/index.ts';

export function requestIdOf(c: Context): string {
  const given = c.req.header('x-request-id');
  return given && /^[A-Za-z0-9._:-]{8,100}$/.test(given) ? given : newRequestId();
}

/**
 * The challenge of a 401 (RFC 6750 §3): with no credential it names no error; a bearer token that
 * was sent and refused is `invalid_token`, an Authorization header of another shape
 * `invalid_request`. MCP clients read it to tell "bad token" from other failures.
 */
export function bearerChallenge(authorization: string | undefined): string {
  if (authorization === undefined) return 'Bearer realm="paddock"';
  const error = /^Bearer\s+\S+$/i.test(authorization) ? 'invalid_token' : 'invalid_request';
  return `Bearer realm="paddock", error="${error}"`;
}

export function errorResponse(c: Context, err: PaddockError, requestId: string): Response {
  const body = {
    error: {
      code: err.code,
      message: err.message,
      ...(err.details === undefined ? {} : { details: err.details }),
    },
  };
  c.header('x-request-id', requestId);
  if (err.status === 401) c.header('www-authenticate', bearerChallenge(c.req.header('authorization')));
  return c.json(redact(body), err.status as 400);
}
