/**
 * One request to the Paddock API. Cookie-authenticated: every change (non-GET) carries the
 * session's CSRF token in `x-csrf-token`; a refusal (`{"error":{"code","message"}}`) is thrown as
 * ApiError. `send` answers JSON; `streamFetch` hands a streamed answer to the AI SDK's transport.
 */
import { ApiError } from './errors.ts';
import type { ErrorBody, Session } from './wire.ts';

let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

function parse(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A refused response as an ApiError: whatever answered (a proxy too) may not use the API's shape. */
function refusal(res: Response, text: string): ApiError {
  const e = (parse(text) as Partial<ErrorBody> | undefined)?.error;
  return new ApiError(
    res.status,
    typeof e?.code === 'string' ? e.code : 'http_error',
    typeof e?.message === 'string' ? e.message : `The server answered ${res.status} ${res.statusText}.`,
    e?.details && typeof e.details === 'object' ? (e.details as Record<string, unknown>) : undefined,
  );
}

/** The request, with credentials and the CSRF token; an ok response, or the refusal thrown. */
async function request(
  method: Method,
  path: string,
  opts: {
    body?: string | undefined;
    accept: string;
    signal?: AbortSignal | null | undefined;
    headers?: Record<string, string> | undefined;
  },
  retried = false,
): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers, accept: opts.accept };
  const init: RequestInit = { method, credentials: 'same-origin', headers, signal: opts.signal ?? null };
  if (method !== 'GET') {
    headers['content-type'] = 'application/json';
    if (csrfToken) headers['x-csrf-token'] = csrfToken;
    if (opts.body !== undefined) init.body = opts.body;
  }
  const res = await fetch(path, init);
  if (res.ok) return res;
  const err = refusal(res, await res.text());
  // A cookie from another tab or an earlier sign-in: fetch the current CSRF token once and retry.
  if (err.code === 'csrf_failed' && !retried && method !== 'GET') {
    const s = await send<Session>('GET', '/api/v1/session');
    setCsrfToken(s.csrfToken);
    return request(method, path, opts, true);
  }
  throw err;
}

/**
 * Sends `body` as JSON and answers the response's JSON as `T` (a type from wire.ts); `requestId`
 * names the request (the audit trail records it), to find its entries afterwards.
 */
export async function send<T>(method: Method, path: string, body?: unknown, requestId?: string): Promise<T> {
  const res = await request(method, path, {
    body: body === undefined ? undefined : JSON.stringify(body),
    accept: 'application/json',
    headers: requestId ? { 'x-request-id': requestId } : undefined,
  });
  return parse(await res.text()) as T;
}

/**
 * A `fetch` for a streamed answer (`Accept: text/event-stream`), given to the AI SDK's chat
 * transport: the same session, CSRF token and refusals (thrown as ApiError) as `send`. The
 * transport POSTs a JSON body it has already serialized.
 */
export const streamFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> =>
  request('POST', String(input), {
    body: typeof init?.body === 'string' ? init.body : undefined,
    accept: 'text/event-stream',
    signal: init?.signal,
  });

/** A `fetch` for following a stream (a GET with `Accept: text/event-stream`), same session and refusals. */
export const followFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> =>
  request('GET', String(input), { accept: 'text/event-stream', signal: init?.signal });

/** Sends a file as the request body (streamed by the browser, its own type kept) and answers the JSON. */
export async function upload<T>(path: string, file: File): Promise<T> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    'content-type': file.type || 'application/octet-stream',
  };
  if (csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, { method: 'POST', credentials: 'same-origin', headers, body: file });
  const text = await res.text();
  if (!res.ok) throw refusal(res, text);
  return parse(text) as T;
}
