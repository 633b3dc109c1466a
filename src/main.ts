import { CommanderError } from 'commander';
import { ExitCode, QbankError } from './errors.js';
import { processIO, type IO } from './output/io.js';
import { Output } from './output/output.js';
import { CommandContext } from './commands/context.js';

const JWT_PATTERN = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}/g;

/** Secrets must not reach a terminal or a CI log through an error message. */
export function redactSecrets(text: string, secrets: Array<string | undefined> = []): string {
  let result = text.replace(JWT_PATTERN, '***');
  for (const secret of secrets) if (secret && secret.length >= 8) result = result.split(secret).join('***');
  return result;
}

/** The only place that turns errors into messages and exit codes. Returns the exit code; never exits. */
export async function main(argv: string[], io: IO = processIO()): Promise<number> {
  const context = new CommandContext(io);
  const { buildProgram } = await import('./cli.js');
  const program = buildProgram(context);
  const wantsJson = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.ok;
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    let reported = error;
    if (!(error instanceof QbankError) && context.lastDatabase) {
      const { describeDatabaseError } = await import('./db/client.js');
      reported = describeDatabaseError(error, context.lastDatabase, context.commandName);
    }
    return reportError(reported, io, wantsJson);
  } finally {
    context.closeAll();
  }
}

function reportError(error: unknown, io: IO, json: boolean): number {
  const secrets = [io.env.TURSO_AUTH_TOKEN, io.env.TURSO_AUTH_TOKEN_RO, io.env.TURSO_API_TOKEN];
  const out = new Output(io, {});
  const known = error instanceof QbankError ? error : undefined;
  const exitCode = known?.exitCode ?? ExitCode.failure;
  const message = redactSecrets(known ? known.message : describeUnexpected(error), secrets);
  out.error(message);
  for (const detail of known?.details?.slice(0, 20) ?? []) out.info('  ' + redactSecrets(detail, secrets));
  if (known?.details && known.details.length > 20) out.info(`  … and ${known.details.length - 20} more`);
  if (known?.hint) out.info(out.ce.dim('hint: ' + redactSecrets(known.hint, secrets)));
  if (!known && io.env.QBANK_DEBUG) out.info(redactSecrets(String((error as Error)?.stack ?? ''), secrets));
  if (json) {
    const payload = { error: { message, kind: known?.name ?? 'Error', exitCode, details: known?.details, hint: known?.hint } };
    io.stdout.write(redactSecrets(JSON.stringify(payload, null, 2), secrets) + '\n');
  }
  return exitCode;
}

function describeUnexpected(error: unknown): string {
  if (error instanceof Error) return `unexpected error: ${error.message}`;
  return `unexpected error: ${String(error)}`;
}
