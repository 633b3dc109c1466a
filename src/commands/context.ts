import type { Command } from 'commander';
import { resolveDatabaseConfig, type Access, type DatabaseConfig, type GlobalFlags, type SystemName } from '../config.js';
import type { Database } from '../db/client.js';
import type { IO } from '../output/io.js';
import { Output } from '../output/output.js';

export interface GlobalOptions extends GlobalFlags {
  json?: boolean;
  color?: boolean;
  debug?: boolean;
}

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

  config(command: Command, access: Access): DatabaseConfig {
    return resolveDatabaseConfig({ flags: this.globals(command), env: this.io.env, cwd: this.io.cwd, access });
  }

  /** Resolves configuration, prints its notices, and opens the database (closed again by `closeAll`). */
  async database(command: Command, access: Access, out: Output): Promise<{ database: Database; config: DatabaseConfig }> {
    const config = this.config(command, access);
    for (const notice of config.notices) out.notice(notice);
    const { openDatabase } = await import('../db/client.js');
    const debug = this.globals(command).debug ? (line: string) => out.notice(`debug: ${line}`) : undefined;
    const timeoutMs = Number(this.io.env.QBANK_TIMEOUT_MS) || undefined;
    const database = openDatabase(config, { debug, timeoutMs });
    this.opened.push(database);
    return { database, config };
  }

  /** The system to work on: flag, env or target first, else detected from the database's tables. */
  async system(database: Database, config: DatabaseConfig, tableNames?: Iterable<string>): Promise<SystemName> {
    const { resolveSystem } = await import('../db/systems.js');
    return resolveSystem(database, config.system, tableNames);
  }

  /** The database the failing command was talking to, so its errors can name it. */
  get lastDatabase(): Database | undefined {
    return this.opened[this.opened.length - 1];
  }

  closeAll(): void {
    for (const database of this.opened.splice(0)) database.close();
  }
}

export function examples(lines: Array<[string, string]>): string {
  const width = Math.max(...lines.map(([cmd]) => cmd.length));
  return '\nExamples:\n' + lines.map(([cmd, what]) => `  $ ${cmd.padEnd(width)}  # ${what}`).join('\n') + '\n';
}
