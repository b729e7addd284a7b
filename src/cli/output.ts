/** How CLI commands report: plain lines to stdout, errors to stderr with a non-zero exit. */
import { PaddockError } from '../errors/index.ts';
import { redactString } from '../redact/index.ts';

export class UsageError extends PaddockError {
  constructor(message: string) {
    super(2, 'usage', message);
  }
}

export function fail(err: unknown): never {
  if (PaddockError.isInstance(err)) {
    process.stderr.write(`paddock: ${redactString(err.message)}\n`);
    process.exit(err.status === 2 || (err.status >= 400 && err.status < 500) ? 2 : 1);
  }
  process.stderr.write(
    `paddock: unexpected error: ${redactString(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`,
  );
  process.exit(1);
}
