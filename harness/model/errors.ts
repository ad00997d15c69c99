// The error taxonomy (DESIGN.md "Exit codes"): each error is classified where it happens; only the CLI prints it.

export const EXIT_CODES = {
  passed: 0,
  assertionFailed: 1,
  invalidInput: 2,
  environment: 3,
  cleanupFailed: 4,
  /** No judged assertion failed, but one or more were inconclusive: the instrument was degraded there. */
  inconclusive: 5,
  interrupted: 130,
} as const;

export type ErrorKind = 'invalid-input' | 'environment' | 'cleanup' | 'interrupted' | 'timeout' | 'internal';

const EXIT_CODE_OF: Record<ErrorKind, number> = {
  'invalid-input': EXIT_CODES.invalidInput,
  environment: EXIT_CODES.environment,
  cleanup: EXIT_CODES.cleanupFailed,
  interrupted: EXIT_CODES.interrupted,
  // A phase that runs out of time is a failed assertion about the system under test, not a harness fault.
  timeout: EXIT_CODES.assertionFailed,
  internal: EXIT_CODES.environment,
};

/** An error that knows its class, an optional hint telling the user how to fix it, and its cause. */
export class MeshdrillError extends Error {
  readonly kind: ErrorKind;
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MeshdrillError';
    this.kind = kind;
    this.hint = options.hint;
  }

  get exitCode(): number {
    return EXIT_CODE_OF[this.kind];
  }
}

export function invalidInput(message: string, hint?: string): MeshdrillError {
  return new MeshdrillError('invalid-input', message, hint === undefined ? {} : { hint });
}

export function environmentError(
  message: string,
  options: { hint?: string; cause?: unknown } = {},
): MeshdrillError {
  return new MeshdrillError('environment', message, options);
}

/** Exit code for anything thrown: classified errors keep theirs, the rest are environment errors. */
export function exitCodeOf(error: unknown): number {
  return error instanceof MeshdrillError ? error.exitCode : EXIT_CODES.environment;
}
