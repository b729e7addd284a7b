/** Reading a request strictly: JSON only, known fields only, right types, or a clear 400. */
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

/** The JSON body, or undefined when there is none. */
export async function readJsonBody(c: Context): Promise<unknown> {
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
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError('invalid_json', 'The request body is not valid JSON.');
  }
}

/** The peer's address from the socket (not from headers a client can forge); 'local' in-process. */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'local';
  } catch {
    return 'local';
  }
}
