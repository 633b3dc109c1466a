import type { Command } from 'commander';
import { resolveDatabaseConfig, type Access, type ResolvedDatabaseConfig, type GlobalFlags, type SystemName } from '../config.js';
import type { Database, OpenDatabaseOptions } from '../db/client.js';
import { UsageError } from '../errors.js';
import type { IO } from '../output/io.js';
import { Output } from '../output/output.js';
import type { OperationsContext } from '../turso/operations.js';
import { CLI_HINTS } from './operator-hints.js';

export interface GlobalOptions extends GlobalFlags {
  json?: boolean;
  color?: boolean;
  debug?: boolean;
}

/** What a command may ask of the database it opens, beyond the defaults (backup: exact integers, long timeouts). */
export type DatabaseOpenOptions = Pick<OpenDatabaseOptions, 'intMode' | 'timeoutMs' | 'busyTimeoutMs'>;

/** What every command action receives: the I/O streams and a way to reach the configured database. */
export class CommandContext {
  exitCode = 0;
  /** "db push", "import questions", …: names the command in error messages. */
  commandName = 'this command';
  private opened: Database[] = [];

  constructor(readonly io: IO) {}

  globals(command: Command): GlobalOptions {
    return command.optsWithGlobals() as GlobalOptions;
  }

  output(command: Command, options: { json?: boolean } = {}): Output {
    const globals = this.globals(command);
    return new Output(this.io, { json: options.json ?? globals.json, color: globals.color });
  }

  config(command: Command, access: Access): ResolvedDatabaseConfig {
    const config = resolveDatabaseConfig({ flags: this.globals(command), env: this.io.env, cwd: this.io.cwd, access });
    this.io.session?.useConnection(config.connection);
    return config;
  }

  /**
   * The one debug logger of a run: `--debug` lines on stderr, prefixed `debug:`; secrets are
   * redacted by the output layer like every other line. Undefined without `--debug`.
   */
  debugLogger(command: Command, out: Output): ((line: string) => void) | undefined {
    if (!this.globals(command).debug) return undefined;
    return (line: string) => out.notice(`debug: ${line}`);
  }

  /**
   * What the Turso operations need from a command: environment, flags, the run's debug logger,
   * the CLI's wording of hints, and (when asked) progress lines on stderr.
   */
  tursoOperations(command: Command, out: Output, options: { db?: string; progress?: boolean } = {}): OperationsContext {
    return {
      env: this.io.env,
      cwd: this.io.cwd,
      flags: this.globals(command),
      db: options.db,
      debug: this.debugLogger(command, out),
      now: this.io.now,
      ...(options.progress ? { onProgress: (line: string) => out.info(out.ce.dim(line)) } : {}),
      hints: CLI_HINTS,
    };
  }

  /**
   * The one way a command opens its database: resolves configuration, prints its notices, and
   * opens it (closed again by `closeAll`). A reading command never creates a database: with none
   * configured, or a `file:` path that does not exist, it fails (exit 2) before opening anything.
   */
  async database(
    command: Command,
    access: Access,
    out: Output,
    options: DatabaseOpenOptions = {},
  ): Promise<{ database: Database; config: ResolvedDatabaseConfig }> {
    const config = this.config(command, access);
    const { openDatabase, filePathOfUrl } = await import('../db/client.js');
    if (access === 'read' && config.source === 'default') await this.refuseDefaultForReading(config, filePathOfUrl);
    for (const notice of config.notices) out.notice(notice);
    this.io.session?.addSecrets([config.authToken]);
    const database = openDatabase(config, {
      debug: this.debugLogger(command, out),
      timeoutMs: options.timeoutMs ?? (Number(this.io.env.QBANK_TIMEOUT_MS) || undefined),
      busyTimeoutMs: options.busyTimeoutMs ?? (Number(this.io.env.QBANK_BUSY_TIMEOUT_MS) || undefined),
      intMode: options.intMode,
      access,
    });
    this.opened.push(database);
    return { database, config };
  }

  /** The embedded default may be read when it exists; otherwise say how to name a database. */
  private async refuseDefaultForReading(config: ResolvedDatabaseConfig, filePathOfUrl: (url: string) => string | undefined): Promise<void> {
    const { existsSync } = await import('node:fs');
    const path = filePathOfUrl(config.url);
    if (path !== undefined && existsSync(path)) return;
    throw new UsageError(`no database configured: ${this.commandName} reads a database and never creates one`, {
      hint: 'name one with --url, TURSO_DATABASE_URL (environment, .env.local or .env) or --target NAME (qbank.config.json)',
    });
  }

  /** The system to work on: flag, env or target first, else detected from the database's tables. */
  async system(database: Database, config: ResolvedDatabaseConfig, tableNames?: Iterable<string>): Promise<SystemName> {
    const { resolveSystem } = await import('../db/systems.js');
    return resolveSystem(database, config.system, tableNames);
  }

  /** The database the failing command was talking to, so its errors can name it. */
  get lastDatabase(): Database | undefined {
    return this.opened[this.opened.length - 1];
  }

  /** Closes every database; a `file:` database this run created and left empty (a failed command) is removed. */
  closeAll(): void {
    for (const database of this.opened.splice(0)) database.close();
  }
}

/** Help text is laid out for a terminal this wide, so nothing in it wraps in the middle of a word. */
const HELP_COLUMNS = 80;

/** `text` broken at spaces into lines of at most `width` characters (a longer word keeps a line to itself). */
function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/**
 * The Examples section of a command's help: each command with its comment beside it when both fit
 * in 80 columns, else the comment on the lines below; a long command is continued with `\` at a
 * space. No line is cut in the middle of a word.
 */
export function examples(lines: Array<[string, string]>): string {
  const fits = ([cmd, what]: [string, string], width: number) => 4 + width + 4 + what.length <= HELP_COLUMNS && cmd.length <= width;
  // the column of the comments: where the most examples fit on one line
  const sideBySide = (width: number) => lines.filter((line) => fits(line, width)).length;
  const width = lines.map(([cmd]) => cmd.length).reduce((best, length) => (sideBySide(length) > sideBySide(best) || (sideBySide(length) === sideBySide(best) && length < best) ? length : best), 0);
  const out = lines.map(([cmd, what]) => {
    if (fits([cmd, what], width)) return `  $ ${cmd.padEnd(width)}  # ${what}`;
    const command = wrapWords(cmd, HELP_COLUMNS - 6).map((part, i, all) => `${i === 0 ? '  $ ' : '      '}${part}${i < all.length - 1 ? ' \\' : ''}`);
    return [...command, ...wrapWords(what, HELP_COLUMNS - 8).map((part) => `      # ${part}`)].join('\n');
  });
  return '\nExamples:\n' + out.join('\n') + '\n';
}
