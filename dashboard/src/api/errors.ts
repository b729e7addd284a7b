/**
 * A refusal from the API (`{"error":{"code","message"}}`) as an error with its status and code,
 * and what the pages show for any failure.
 */

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** What the refusal adds for a program to act on (an approval's id, why a call was denied). */
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Codes that mean "your session is gone": the signed-in layout sends the browser to sign-in. */
const SESSION_ENDED = new Set(['unauthenticated', 'session_invalid', 'session_expired']);

export function isSessionEnded(err: unknown): boolean {
  return err instanceof ApiError && err.status === 401 && SESSION_ENDED.has(err.code);
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof TypeError) return 'Could not reach the Paddock server. Check your connection.';
  return err instanceof Error ? err.message : String(err);
}
