/** Recognising a unique-constraint violation on either engine, so services can answer 409. */
import { ConflictError } from '../errors/index.ts';

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; errcode?: unknown; message?: unknown };
  if (e?.code === '23505') return true; // PostgreSQL unique_violation
  return typeof e?.message === 'string' && e.message.includes('UNIQUE constraint failed');
}

/**
 * Runs a write; a unique-constraint violation becomes a 409 with the given code and message.
 *
 * @example
 *   await orConflict(trx.insertInto('agents').values(row).execute(), 'agent_exists', `An agent named "${name}" already exists.`);
 */
export async function orConflict<T>(write: Promise<T>, code: string, message: string): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError(code, message);
    throw err;
  }
}
