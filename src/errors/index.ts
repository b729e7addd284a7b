/**
 * The one error family of Paddock. Every failure a caller can act on is a PaddockError with a
 * stable machine-readable `code`, an HTTP `status` and a human message; the server's error
 * handler and the CLI turn it into a response or an exit message (after redaction).
 *
 * @example
 *   throw new NotFoundError('person_not_found', 'No person with that id in this organization.');
 */
export class PaddockError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: unknown;
  readonly retryable: boolean;

  constructor(
    status: number,
    code: string,
    message: string,
    opts: { details?: unknown; cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.details = opts.details;
    this.retryable = opts.retryable ?? false;
  }

  static isInstance(value: unknown): value is PaddockError {
    return value instanceof PaddockError;
  }
}

/** 400: the request itself is wrong (bad JSON, wrong type, unknown field, bad value). */
export class BadRequestError extends PaddockError {
  constructor(code: string, message: string, details?: unknown) {
    super(400, code, message, { details });
  }
}

/** 401: no credential, or one that is unknown, expired or revoked. */
export class UnauthenticatedError extends PaddockError {
  constructor(code = 'unauthenticated', message = 'Sign in or send a valid bearer token.') {
    super(401, code, message);
  }
}

/** 403: the caller is known but their role does not allow this. */
export class ForbiddenError extends PaddockError {
  constructor(code = 'forbidden', message = 'Your role does not allow this action.') {
    super(403, code, message);
  }
}

/** 404: no such thing, or not one the caller may know exists (other tenants read as missing). */
export class NotFoundError extends PaddockError {
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

/** 409: the request conflicts with the current state (duplicate slug, last owner, used link). */
export class ConflictError extends PaddockError {
  constructor(code: string, message: string) {
    super(409, code, message);
  }
}

/** 413: the body is larger than the server accepts. */
export class PayloadTooLargeError extends PaddockError {
  constructor(limitBytes: number) {
    super(413, 'payload_too_large', `The request body is larger than ${limitBytes} bytes.`);
  }
}

/** 429: too many attempts; the caller may retry later. */
export class RateLimitedError extends PaddockError {
  constructor(message = 'Too many attempts. Try again later.') {
    super(429, 'rate_limited', message, { retryable: true });
  }
}
