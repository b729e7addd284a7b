/**
 * One request to the Paddock API. Cookie-authenticated: every change (non-GET) carries the
 * session's CSRF token in `x-csrf-token`; a refusal (`{"error":{"code","message"}}`) is thrown as
 * ApiError.
 */
import { ApiError } from './errors.ts';
import type { ErrorBody, Session } from './wire.ts';

let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Sends `body` as JSON and answers the response's JSON as `T` (a type from wire.ts). */
export async function send<T>(method: Method, path: string, body?: unknown, retried = false): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const init: RequestInit = { method, credentials: 'same-origin', headers };
  if (method !== 'GET') {
    headers['content-type'] = 'application/json';
    if (csrfToken) headers['x-csrf-token'] = csrfToken;
    if (body !== undefined) init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data: unknown;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    // Whatever answered (a proxy too) may not have sent the API's error shape: check each part.
    const e = (data as Partial<ErrorBody> | undefined)?.error;
    const err = new ApiError(
      res.status,
      typeof e?.code === 'string' ? e.code : 'http_error',
      typeof e?.message === 'string' ? e.message : `The server answered ${res.status} ${res.statusText}.`,
    );
    // A cookie from another tab or an earlier sign-in: fetch the current CSRF token once and retry.
    if (err.code === 'csrf_failed' && !retried && method !== 'GET') {
      const s = await send<Session>('GET', '/api/v1/session');
      setCsrfToken(s.csrfToken);
      return send<T>(method, path, body, true);
    }
    throw err;
  }
  return data as T;
}
