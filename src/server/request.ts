/** Reading a request strictly: JSON only, known fields only, right types, or a clear 400. */
import { isIP } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { z } from 'zod';
import { BadRequestError, PaddockError } from '../errors/index.ts';

export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({
    path: [where, ...i.path.map(String)].join('.'),
    message: i.message,
    ...(i.code === 'unrecognized_keys' ? { fields: i.keys } : {}),
  }));
  const unknown = r.error.issues.find((i) => i.code === 'unrecognized_keys');
  if (unknown && unknown.code === 'unrecognized_keys') {
    const at = unknown.path.length ? ` in ${unknown.path.join('.')}` : '';
    throw new BadRequestError(
      'unknown_field',
      `Unknown ${where} field(s)${at}: ${unknown.keys.join(', ')}.`,
      issues,
    );
  }
  const first = issues[0]!;
  throw new BadRequestError('validation_failed', `${first.path}: ${first.message}`, issues);
}

/**
 * The request's JSON body, or undefined when there is none. `refuseNul`: a management request holding NUL is refused; an agent's
 * MCP messages are data on their way through the gate (tool arguments, a client's answers), and
 * keep it, as text from outside does (the store writes U+FFFD in its place).
 */
export async function readJsonBody(c: Context, refuseNul = true): Promise<unknown> {
  const text = await c.req.text();
  if (text.length === 0) return undefined;
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new PaddockError(
      415,
      'unsupported_media_type',
      'Send the body as JSON with "Content-Type: application/json".',
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadRequestError('invalid_json', 'The request body is not valid JSON.');
  }
  // No text anywhere holds NUL: PostgreSQL cannot store it, and nothing a person writes needs it.
  if (refuseNul && holdsNul(body))
    throw new BadRequestError(
      'nul_in_text',
      'Text in the request holds a NUL character (\\u0000); remove it.',
    );
  return body;
}

/** Whether any string in a parsed JSON value (a key too) holds NUL; a loop, as nesting may be deep. */
function holdsNul(value: unknown): boolean {
  const todo = [value];
  while (todo.length > 0) {
    const v = todo.pop();
    if (typeof v === 'string') {
      if (v.includes('\0')) return true;
    } else if (Array.isArray(v)) for (const x of v) todo.push(x);
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\0')) return true;
        todo.push(x);
      }
  }
  return false;
}

/**
 * The client's address: the socket's peer ('local' in-process), or, when that peer is one of the
 * operator's reverse proxies (`PADDOCK_TRUSTED_PROXIES`), the rightmost X-Forwarded-For address
 * the proxies did not add — a client can put anything left of it, nothing right of it.
 */
export function clientAddress(c: Context, trustedProxies: readonly string[] = []): string {
  let peer: string;
  try {
    peer = getConnInfo(c).remote.address ?? 'local';
  } catch {
    return 'local';
  }
  if (trustedProxies.length === 0 || !trustedProxies.includes(unmapped(peer))) return peer;
  const hops = (c.req.header('x-forwarded-for') ?? '').split(',').map((h) => h.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (isIP(hop) === 0) return peer;
    if (!trustedProxies.includes(unmapped(hop))) return hop;
  }
  return peer;
}

/** `::ffff:192.0.2.1` (an IPv4 client on a dual-stack socket) as the IPv4 address it is. */
const unmapped = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');

/**
 * The key a rate limit counts an address under: an IPv4 address as itself, an IPv6 address by its
 * /64 (one subscriber's network: its holder can rotate through 2^64 addresses).
 */
export function addressKey(address: string): string {
  const a = unmapped(address);
  if (isIP(a) !== 6) return a;
  const [head = '', tail = ''] = a.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = a.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = a.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
