import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A real pseudo-terminal for tests of the interactive screen: a tmux session on a socket of its
 * own, driven by keys and read back as text. Every wait is for content on the screen, never for a
 * fixed time.
 */

/** Whether each command runs here (tmux itself, vi…): the terminal tests skip where one is missing. */
export function haveCommands(...commands: string[]): boolean {
  try {
    for (const command of commands) execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A word for `sh -c`, whatever it holds. */
export const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

export type ScreenCheck = string | RegExp | ((screen: string) => boolean);

export class TmuxScreen {
  private readonly socket = `qbank-tty-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly session = 'qbank';

  constructor(
    public columns = 100,
    public rows = 30,
  ) {}

  start(command: string): void {
    this.tmux('-f', '/dev/null', 'new-session', '-d', '-x', String(this.columns), '-y', String(this.rows), '-s', this.session, command);
    this.tmux('set-option', '-t', this.session, 'remain-on-exit', 'on');
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** The screen's rows, every one of them (capture-pane drops none, trailing blanks included). */
  lines(): string[] {
    const text = this.tmux('capture-pane', '-p', '-t', this.session);
    const lines = text.replace(/\n$/, '').split('\n');
    while (lines.length < this.rows) lines.push('');
    return lines;
  }

  /** Polls the screen until it passes every check; its rows then. */
  async waitFor(...checks: ScreenCheck[]): Promise<string[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const lines = this.lines();
      const screen = lines.join('\n');
      if (checks.every((p) => (typeof p === 'string' ? screen.includes(p) : typeof p === 'function' ? p(screen) : p.test(screen)))) return lines;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${checks.join(', ')}; the screen:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Keys by tmux's names (`Enter`, `C-c`, `Down`) or as characters. */
  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.session, ...keys);
  }

  /** Text typed literally, key names included. */
  type(text: string): void {
    this.tmux('send-keys', '-t', this.session, '-l', text);
  }

  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.tmux('resize-window', '-t', this.session, '-x', String(columns), '-y', String(rows));
  }

  close(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
  }
}

/**
 * Starts `qbank ARGS` from the sources in the screen, with nothing of the test runner's
 * environment (`env -i`: no $VISUAL or $EDITOR either) but a UTF-8 terminal, the database and a
 * state folder in `dir`; the screen shows `qbank exited CODE` when it ends.
 */
export function startQbank(screen: TmuxScreen, at: { dir: string; url: string }, args: string[]): void {
  const entry = join(at.dir, 'qbank.mjs');
  writeFileSync(entry, `const { main } = await import(${JSON.stringify(join(process.cwd(), 'src/main.ts'))});\nprocess.exitCode = await main(process.argv.slice(2));\n`);
  const env = { PATH: process.env.PATH!, HOME: at.dir, TERM: 'xterm-256color', LANG: 'C.UTF-8', NO_COLOR: '1', TURSO_DATABASE_URL: at.url, QBANK_STATE_DIR: join(at.dir, 'state') };
  const assignments = Object.entries(env).map(([name, value]) => `${name}=${shellQuote(value)}`);
  screen.start(`cd ${shellQuote(process.cwd())} && env -i ${assignments.join(' ')} ${shellQuote(process.execPath)} --import tsx ${shellQuote(entry)} ${args.join(' ')}; echo "qbank exited $?"`);
}
