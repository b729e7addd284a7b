/** Recognises a unique-constraint violation on either engine, so services can answer 409. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; errcode?: unknown; message?: unknown };
  if (e?.code === '23505') return true; // PostgreSQL unique_violation
  return typeof e?.message === 'string' && e.message.includes('UNIQUE constraint failed');
}
