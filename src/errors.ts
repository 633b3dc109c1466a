/**
 * Every failure qbank reports is one of these; `src/main.ts` turns them into a message and an
 * exit code. The codes are documented in the README.
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  invalidInput: 3,
  connection: 4,
  refused: 5,
  checkFailed: 6,
  busy: 7,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class QbankError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint?: string;
  readonly details?: string[];

  constructor(message: string, options: { exitCode?: ExitCodeValue; hint?: string; details?: string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? ExitCode.failure;
    this.hint = options.hint;
    this.details = options.details;
  }
}

/** Bad flags, arguments or configuration. */
export class UsageError extends QbankError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { ...options, exitCode: ExitCode.usage });
  }
}

/** A file or record the user gave us is invalid. */
export class InvalidInputError extends QbankError {
  constructor(message: string, options: { hint?: string; details?: string[]; cause?: unknown } = {}) {
    super(message, { ...options, exitCode: ExitCode.invalidInput });
  }
}

/** The database or API could not be reached, or refused our credentials. */
export class ConnectionError extends QbankError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { ...options, exitCode: ExitCode.connection });
  }
}

/** qbank declined to act: data loss without consent, a confirmation that cannot be asked, a conflict. */
export class RefusedError extends QbankError {
  constructor(message: string, options: { hint?: string; details?: string[]; cause?: unknown } = {}) {
    super(message, { ...options, exitCode: ExitCode.refused });
  }
}

/** A check ran and its answer is "no": drift found, replica lagging, backup altered. */
export class CheckFailedError extends QbankError {
  constructor(message: string, options: { hint?: string; details?: string[] } = {}) {
    super(message, { ...options, exitCode: ExitCode.checkFailed });
  }
}

/** Another writer holds the database's lock and did not let go within the busy timeout. */
export class BusyError extends QbankError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { ...options, exitCode: ExitCode.busy });
  }
}
