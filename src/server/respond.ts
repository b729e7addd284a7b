/** How every HTTP answer of Paddock reports a request id and an error (one JSON shape, redacted). */
import type { Context } from 'hono';
import type { PaddockError } from '../errors/index.ts';
import { newRequestId } from '../identity/context.ts';
import { redact } from '../redact/index.ts';

export function requestIdOf(c: Context): string {
  const given = c.req.header('x-request-id');
  return given && /^[A-Za-z0-9._:-]{8,100}$/.test(given) ? given : newRequestId();
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
  if (err.status === 401) c.header('www-authenticate', 'Bearer realm="paddock"');
  return c.json(redact(body), err.status as 400);
}
