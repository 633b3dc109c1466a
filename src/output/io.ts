import type { Readable, Writable } from 'node:stream';
import { ConnectionError } from '../errors.js';
import { redactKnownSecrets, redactTokens, secretForms } from './redact.js';

/** Everything a command may touch outside the database: passed in so tests can drive commands in-process. */
export interface IO {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  env: Record<string, string | undefined>;
  cwd: string;
  now: () => Date;
  /** Set by `main`: what every Output of the run shares (secrets, documents written, --quiet, …). */
  session?: OutputSession;
}

export function processIO(): IO {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
  };
}

/**
 * The reader of standard output went away (`qbank … | head`). Not a failure of the command or of
 * the server: `main` ends the run quietly with 141, the shell's status for a process a closed pipe
 * stopped. Services writing to stdout raise it (or let a write raise it) instead of reporting EPIPE.
 */
export class OutputClosedError extends Error {
  constructor(options: { cause?: unknown } = {}) {
    super('standard output was closed by its reader', options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OutputClosedError';
  }
}

/** The exit status of a run whose output was closed (128 + SIGPIPE), as `yes | head` gives. */
export const OUTPUT_CLOSED_EXIT = 141;

const CLOSED_CODES = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

/**
 * For an error from writing to an output stream: true when the stream's reader went away (EPIPE and
 * the errors of a stream destroyed by it), or an OutputClosedError. Not for errors of other sockets:
 * a database server that dies mid-request gives an EPIPE too (see `raisedByClosedOutput`).
 */
export function isOutputClosed(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 10; current = (current as { cause?: unknown }).cause, depth++) {
    if (current instanceof OutputClosedError) return true;
    // an EPIPE under a ConnectionError is the server's socket closing, not stdout's reader
    if (current instanceof ConnectionError) return false;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && CLOSED_CODES.has(code)) return true;
  }
  return false;
}

/** True when the error is, or was caused by, an OutputClosedError. */
export function raisedByClosedOutput(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 10; current = (current as { cause?: unknown }).cause, depth++) {
    if (current instanceof OutputClosedError) return true;
  }
  return false;
}

/** What a connection description says, in the shape the configuration gives it. */
export interface ConnectionInfo {
  url: string;
  source?: string;
  credential?: { kind?: string; source?: string | null };
}

/**
 * State every Output of one run shares. The streams of the run are wrapped so that every write,
 * from any code, is redacted: known secret values everywhere; anything shaped like a token on
 * stderr (data on stdout is left alone, where a question may quote a JWT).
 */
export class OutputSession {
  /** JSON documents written on stdout: `main` writes an error document only when there is none. */
  documents = 0;
  stdoutClosed = false;
  quiet = false;
  json = false;
  connection?: ConnectionInfo;
  /** Prints the one line that says which database a run talks to (set by `main`). */
  announce?: (connection: ConnectionInfo) => void;
  private readonly secrets: string[] = [];
  private readonly secretBuffers: Buffer[] = [];

  constructor(secrets: Iterable<string> = []) {
    this.addSecrets(secrets);
  }

  /** Secrets learnt during the run (a token read from a file a command chose) join the list. */
  addSecrets(values: Iterable<string | undefined>): void {
    for (const value of [...values].flatMap(secretForms)) {
      if (!this.secrets.includes(value)) this.secrets.push(value);
    }
    this.secrets.sort((a, b) => b.length - a.length);
    this.secretBuffers.splice(0, this.secretBuffers.length, ...this.secrets.map((secret) => Buffer.from(secret)));
  }

  get secretValues(): readonly string[] {
    return this.secrets;
  }

  redactMessage(text: string): string {
    return redactKnownSecrets(redactTokens(text), this.secrets);
  }

  redactData(text: string): string {
    return redactKnownSecrets(text, this.secrets);
  }

  /** Records the database a command talks to; announced once per database. */
  useConnection(connection: ConnectionInfo): void {
    const changed = this.connection?.url !== connection.url || this.connection?.credential?.source !== connection.credential?.source;
    this.connection = connection;
    if (changed) this.announce?.(connection);
  }

  /** Wraps the streams of `io` in place (so their identity, size and TTY state stay as they are). */
  guard(io: IO): IO {
    this.guardStream(io.stdout, 'stdout');
    this.guardStream(io.stderr, 'stderr');
    return Object.assign(io, { session: this });
  }

  private guardStream(stream: Writable, which: 'stdout' | 'stderr'): void {
    const write = stream.write.bind(stream) as (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;
    let closed = false;
    stream.on('error', (error: NodeJS.ErrnoException) => {
      // a reader that went away is the only error an output stream reports here; the run ends quietly
      closed = true;
      if (which === 'stdout') this.stdoutClosed = true;
      void error;
    });
    const session = this;
    stream.write = function guardedWrite(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
      if (closed) {
        if (which === 'stderr') return true;
        throw new OutputClosedError();
      }
      return write(which === 'stdout' ? session.redactStdout(chunk) : session.redactStderr(chunk), encoding, callback);
    } as Writable['write'];
  }

  private redactStdout(chunk: unknown): unknown {
    if (this.secrets.length === 0) return chunk;
    if (typeof chunk === 'string') return this.redactData(chunk);
    if (chunk instanceof Uint8Array) {
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (!this.secretBuffers.some((secret) => bytes.includes(secret))) return chunk;
      return Buffer.from(this.redactData(bytes.toString('utf8')));
    }
    return chunk;
  }

  private redactStderr(chunk: unknown): unknown {
    if (typeof chunk === 'string') return this.redactMessage(chunk);
    if (chunk instanceof Uint8Array) return this.redactMessage(Buffer.from(chunk).toString('utf8'));
    return chunk;
  }
}
