/** Why a run ended without an answer, in words the run record and the caller can show. */
export class RunFailure extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'RunFailure';
    this.code = code;
  }

  static isInstance(value: unknown): value is RunFailure {
    return value instanceof RunFailure;
  }
}
