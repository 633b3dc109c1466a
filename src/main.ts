import type { Writable } from 'node:stream';
import { CommanderError } from 'commander';
import { ExitCode, QbankError } from './errors.js';
import { OUTPUT_CLOSED_EXIT, OutputSession, processIO, raisedByClosedOutput, type IO } from './output/io.js';
import { describeConnection, Output } from './output/output.js';
import { collectSecrets } from './output/redact.js';
import { CommandContext } from './commands/context.js';
import { withoutFlagValues } from './commands/flags.js';
import { VERSION } from './version.js';

/** The only place that turns errors into messages and exit codes. Returns the exit code; never exits. */
export async function main(argv: string[], rawIO: IO = processIO()): Promise<number> {
  const session = new OutputSession(collectSecrets({ argv, env: rawIO.env, cwd: rawIO.cwd }));
  const io = session.guard(rawIO);
  if (rawIO.stdout === process.stdout) endQuietlyWhenOutputCloses(session);
  const ownArgs = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  session.json = ownArgs.includes('--json');
  session.quiet = ownArgs.includes('--quiet') || ownArgs.includes('-q');
  session.announce = (connection) => {
    if (io.stderrIsTTY) new Output(io, { json: session.json }).notice(describeConnection(connection));
  };
  if (session.json && (ownArgs.includes('--version') || ownArgs.includes('-V'))) {
    new Output(io, { json: true }).data({ version: VERSION });
    return ExitCode.ok;
  }
  const context = new CommandContext(io);
  const { buildProgram } = await import('./cli.js');
  const program = buildProgram(context);
  try {
    await program.parseAsync(argv, { from: 'user' });
    await outputSettled(io);
    return session.stdoutClosed ? OUTPUT_CLOSED_EXIT : context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // a command group given no command shows its help; a script asking for --json gets an error document
      if (error.code === 'commander.help' && error.exitCode !== 0 && session.json) return reportUsageError(new CommanderError(2, error.code, 'name a command'), io);
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.ok;
      if (error.exitCode === 0) return ExitCode.ok;
      return reportUsageError(error, io);
    }
    if (session.stdoutClosed || raisedByClosedOutput(error)) return OUTPUT_CLOSED_EXIT;
    let reported = error;
    if (!(error instanceof QbankError) && context.lastDatabase) {
      const { describeDatabaseError } = await import('./db/client.js');
      reported = describeDatabaseError(error, context.lastDatabase, context.commandName);
    }
    const { withFlagHint } = await import('./commands/flag-hints.js');
    return reportError(await withFlagHint(reported), io);
  } finally {
    context.closeAll();
  }
}

/** How long a finished run waits for the event loop to empty before it ends the process itself. */
const LINGER_MS = 1000;

/**
 * qbank as the process (`bin/qbank.js`): the exit code of `main`, and an end even when a library
 * left something holding the event loop open after the run finished (a keep-alive connection
 * whose response was never read would hold it until the server drops it). Output is flushed first.
 */
export async function runAsProcess(argv: string[]): Promise<void> {
  const code = await main(argv);
  process.exitCode = code;
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  setTimeout(() => process.exit(code), LINGER_MS).unref();
}

/** Resolves once what was written to `stream` has left the process (or cannot: its reader left). */
function flushed(stream: Writable): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    // a stream whose reader left may never call back: its end settles it too
    stream.once('close', () => resolve());
    try {
      // the callback of an empty write runs once everything written before it is flushed, or failed
      stream.write('', () => resolve());
    } catch {
      resolve();
    }
  });
}

/** Commander already printed the message on stderr; with --json the same error is the document on stdout. */
function reportUsageError(error: CommanderError, io: IO): number {
  const session = io.session!;
  if (session.json && session.documents === 0 && !session.stdoutClosed) {
    const message = usageMessage(error.message);
    writeErrorDocument(io, { message, kind: 'UsageError', exitCode: ExitCode.usage, hint: 'run with --help for usage' });
  }
  return ExitCode.usage;
}

/** Commander's text without its `error: ` prefix, and never the value of a mistyped flag (`--auth-tokn=SECRET`). */
function usageMessage(text: string): string {
  return withoutFlagValues(text.replace(/^error: /, '').trim());
}

function reportError(error: unknown, io: IO): number {
  const session = io.session!;
  const out = new Output(io, { quiet: false });
  const known = error instanceof QbankError ? error : undefined;
  const exitCode = known?.exitCode ?? ExitCode.failure;
  const message = session.redactMessage(known ? known.message : describeUnexpected(error));
  const details = known?.details?.map((detail) => session.redactMessage(detail));
  const hint = known?.hint === undefined ? undefined : session.redactMessage(known.hint);
  out.error(message);
  for (const detail of details?.slice(0, 20) ?? []) out.detail('  ' + detail);
  if (details && details.length > 20) out.detail(`  … and ${details.length - 20} more`);
  if (hint) out.detail(out.ce.dim('hint: ' + hint));
  if (!known && io.env.QBANK_DEBUG) out.detail(session.redactMessage(String((error as Error)?.stack ?? '')));
  // a command that already wrote its document put the outcome in it: stdout holds one document
  if (session.json && session.documents === 0) writeErrorDocument(io, { message, kind: known?.name ?? 'Error', exitCode, details, hint });
  return exitCode;
}

interface ErrorDocument {
  message: string;
  kind: string;
  exitCode: number;
  details?: string[];
  hint?: string;
}

function writeErrorDocument(io: IO, error: ErrorDocument): void {
  const session = io.session!;
  const document = { error: { ...error, details: error.details ?? [] }, ...(session.connection ? { connection: session.connection } : {}) };
  io.stdout.write(session.redactMessage(JSON.stringify(document, null, 2)) + '\n');
  session.documents++;
}

function describeUnexpected(error: unknown): string {
  if (error instanceof Error) return `unexpected error: ${error.message}`;
  return `unexpected error: ${String(error)}`;
}

/**
 * A write to a pipe whose reader left fails after the write call returned: wait for what is queued
 * to be flushed (or to fail) so the exit status can say the output was cut short.
 */
async function outputSettled(io: IO): Promise<void> {
  if (io.session?.stdoutClosed) return;
  await flushed(io.stdout);
  await new Promise<void>((resolve) => setImmediate(resolve));
}

let processGuardInstalled = false;

/**
 * A write that fails after its caller moved on (a stream piped to stdout, a callback) surfaces as an
 * uncaught error: when stdout's reader left, end the process quietly instead of with a stack trace.
 */
function endQuietlyWhenOutputCloses(session: OutputSession): void {
  if (processGuardInstalled) return;
  processGuardInstalled = true;
  const onUncaught = (error: unknown) => {
    if (session.stdoutClosed || raisedByClosedOutput(error)) process.exit(OUTPUT_CLOSED_EXIT);
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(ExitCode.failure);
  };
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
}
