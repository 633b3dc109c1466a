import Table from 'cli-table3';
import pc from 'picocolors';
import { RefusedError } from '../errors.js';
import type { IO } from './io.js';

type Colors = ReturnType<typeof pc.createColors>;

export interface OutputOptions {
  json?: boolean;
  color?: boolean;
}

function colorWanted(io: IO, isTTY: boolean, requested: boolean | undefined): boolean {
  if (requested === false) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  if (io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0') return true;
  return isTTY && io.env.TERM !== 'dumb';
}

export interface Progress {
  update(done: number, detail?: string): void;
  finish(): void;
}

/**
 * The only writer to the terminal. Data goes to stdout (JSON with --json), everything about the
 * run (notices, warnings, progress, prompts) to stderr.
 */
export class Output {
  readonly json: boolean;
  readonly c: Colors;
  readonly ce: Colors;

  constructor(
    readonly io: IO,
    options: OutputOptions = {},
  ) {
    this.json = Boolean(options.json);
    this.c = pc.createColors(!this.json && colorWanted(io, io.stdoutIsTTY, options.color));
    this.ce = pc.createColors(colorWanted(io, io.stderrIsTTY, options.color));
  }

  /** True when a human can answer a prompt: a TTY on both ends, not CI, not --json. */
  get interactive(): boolean {
    const ci = this.io.env.CI;
    return this.io.stdinIsTTY && this.io.stderrIsTTY && !this.json && !(ci && ci !== 'false' && ci !== '0');
  }

  data(value: unknown): void {
    this.io.stdout.write(JSON.stringify(value, jsonReplacer, 2) + '\n');
  }

  line(text = ''): void {
    this.io.stdout.write(text + '\n');
  }

  info(text: string): void {
    this.io.stderr.write(text + '\n');
  }

  notice(text: string): void {
    this.io.stderr.write(this.ce.dim(text) + '\n');
  }

  success(text: string): void {
    this.io.stderr.write(this.ce.green('✔ ') + text + '\n');
  }

  warn(text: string): void {
    this.io.stderr.write(this.ce.yellow('warning: ') + text + '\n');
  }

  error(text: string): void {
    this.io.stderr.write(this.ce.red('error: ') + text + '\n');
  }

  /** Renders rows under headers as a box table at a TTY and as aligned plain columns otherwise. */
  table(headers: string[], rows: Array<Array<string | number | null | undefined>>): void {
    this.io.stdout.write(renderTable(headers, rows, this.io.stdoutIsTTY, this.c) + '\n');
  }

  heading(text: string): void {
    this.line(this.c.bold(text));
  }

  /** Asks yes/no at a TTY; anywhere else refuses with the flag that would have answered. */
  async confirm(message: string, flagHint = '--yes'): Promise<boolean> {
    if (!this.interactive) {
      throw new RefusedError(`${message} — confirmation needed, and there is no terminal to ask at`, {
        hint: `pass ${flagHint} to confirm without a prompt`,
      });
    }
    const { confirm, isCancel } = await import('@clack/prompts');
    const answer = await confirm({ message, input: this.io.stdin, output: this.io.stderr, initialValue: false });
    if (isCancel(answer)) return false;
    return answer === true;
  }

  /** A progress line on stderr at a TTY; silent elsewhere so logs stay clean. */
  progress(label: string, total?: number, unit = ''): Progress {
    if (!this.io.stderrIsTTY || this.json) return { update() {}, finish() {} };
    const stream = this.io.stderr;
    let last = 0;
    const draw = (done: number, detail?: string) => {
      const pct = total ? ` ${Math.min(100, Math.floor((done / total) * 100))}%` : '';
      const count = total ? `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}${unit}` : `${done.toLocaleString('en-US')}${unit}`;
      stream.write(`\r\x1b[2K${this.ce.cyan(label)}${pct} ${count}${detail ? ' ' + this.ce.dim(detail) : ''}`);
    };
    return {
      update(done, detail) {
        const now = Date.now();
        if (now - last < 100 && (!total || done < total)) return;
        last = now;
        draw(done, detail);
      },
      finish() {
        stream.write('\r\x1b[2K');
      },
    };
  }
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}

const ANSI = /\x1b\[[0-9;]*m/g;

function visibleWidth(text: string): number {
  return [...text.replace(ANSI, '')].length;
}

export function renderTable(
  headers: string[],
  rows: Array<Array<string | number | null | undefined>>,
  boxed: boolean,
  c: Colors,
): string {
  const cells = rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '' : String(cell))));
  const widths = headers.map((h, i) => Math.max(visibleWidth(h), ...cells.map((r) => visibleWidth(r[i] ?? ''))));
  const pad = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - visibleWidth(text)));
  if (!boxed) {
    const lines = [headers.map((h, i) => pad(h.toUpperCase(), widths[i])).join('  ').trimEnd()];
    for (const row of cells) lines.push(row.map((cell, i) => pad(cell, widths[i])).join('  ').trimEnd());
    return lines.join('\n');
  }
  const table = new Table({
    head: headers.map((h) => c.bold(h)),
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of cells) table.push(row);
  return table.toString();
}
