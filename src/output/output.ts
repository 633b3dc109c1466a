import Table from 'cli-table3';
import type { Writable } from 'node:stream';
import pc from 'picocolors';
import { RefusedError } from '../errors.js';
import type { ConnectionInfo, IO } from './io.js';
import { writeJsonDocument } from './json-document.js';

type Colors = ReturnType<typeof pc.createColors>;

export interface OutputOptions {
  json?: boolean;
  color?: boolean;
  /** No notices, no success lines, no progress; warnings, errors and data unchanged (default: the run's --quiet). */
  quiet?: boolean;
}

function colorWanted(io: IO, isTTY: boolean, requested: boolean | undefined): boolean {
  if (requested === false) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  if (io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0') return true;
  return isTTY && io.env.TERM !== 'dumb';
}

/**
 * A long command's progress: `update` as often as convenient (it is throttled), `finish` once at the
 * end (also on failure). At a terminal a line redrawn in place; elsewhere (CI logs) one plain line
 * every `intervalMs`, timed by the run's clock (`io.now`), and a last line when it took that long.
 */
export interface Progress {
  update(done: number, detail?: string): void;
  finish(): void;
}

export interface ProgressOptions {
  /** Without a terminal: at most one line per this many milliseconds (default 5000). */
  intervalMs?: number;
}

const PROGRESS_LINE_INTERVAL_MS = 5_000;
const PROGRESS_REDRAW_MS = 100;

/**
 * The only writer to the terminal. Data goes to stdout (JSON with --json), everything about the
 * run (notices, warnings, progress, prompts) to stderr.
 */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly c: Colors;
  readonly ce: Colors;

  constructor(
    readonly io: IO,
    options: OutputOptions = {},
  ) {
    this.json = Boolean(options.json);
    this.quiet = options.quiet ?? Boolean(io.session?.quiet);
    this.c = pc.createColors(!this.json && colorWanted(io, io.stdoutIsTTY, options.color));
    this.ce = pc.createColors(colorWanted(io, io.stderrIsTTY, options.color));
  }

  /** True when a human can answer a prompt: a TTY on both ends, not CI, not --json. */
  get interactive(): boolean {
    const ci = this.io.env.CI;
    return this.io.stdinIsTTY && this.io.stderrIsTTY && !this.json && !(ci && ci !== 'false' && ci !== '0');
  }

  /**
   * Writes the run's one JSON document. A document of a command that talked to a database says which
   * (`connection`: URL without secrets, where it came from, which credential). A command that fails
   * after writing its document puts the failure inside it (e.g. `check`) and then throws: `main`
   * writes no second document.
   */
  data(value: unknown): void {
    const connection = this.io.session?.connection;
    const document = connection && isPlainObject(value) ? withConnection(value, connection) : value;
    const restore = blockingWhileWriting(this.io.stdout);
    try {
      writeJsonDocument((chunk) => this.io.stdout.write(chunk), document, jsonReplacer);
    } finally {
      restore();
    }
    if (this.io.session) this.io.session.documents++;
  }

  /** True once this run wrote its JSON document. */
  get documentWritten(): boolean {
    return (this.io.session?.documents ?? 0) > 0;
  }

  line(text = ''): void {
    this.io.stdout.write(text + '\n');
  }

  info(text: string): void {
    if (this.quiet) return;
    this.io.stderr.write(text + '\n');
  }

  notice(text: string): void {
    if (this.quiet) return;
    this.io.stderr.write(this.ce.dim(text) + '\n');
  }

  success(text: string): void {
    if (this.quiet) return;
    this.io.stderr.write(this.ce.green('✔ ') + text + '\n');
  }

  /** A `--debug` line: asked for explicitly, so printed even with --quiet. */
  debug(text: string): void {
    this.io.stderr.write(this.ce.dim(`debug: ${text}`) + '\n');
  }

  /** A line that belongs to an error or a warning (its details, its hint): printed even with --quiet. */
  detail(text: string): void {
    this.io.stderr.write(text + '\n');
  }

  warn(text: string): void {
    this.io.stderr.write(this.ce.yellow('warning: ') + text + '\n');
  }

  error(text: string): void {
    this.io.stderr.write(this.ce.red('error: ') + text + '\n');
  }

  /**
   * Renders rows under headers as a box table at a TTY, as wide as the terminal at most (the widest
   * columns shortened with …), and as aligned plain columns with every cell in full otherwise.
   * At a terminal, `flexible` names the column of free text that gives way first (down to a readable
   * width) so the others stay whole; `optional` names columns a narrow terminal may leave out, least
   * needed first: they go, with a notice saying so, while the rest would not fit whole.
   */
  table(headers: string[], rows: Array<Array<string | number | null | undefined>>, options: TableLayout = {}): void {
    const maxWidth = this.io.stdoutIsTTY ? terminalColumns(this.io) : undefined;
    const shown = maxWidth === undefined ? headers.map((_, i) => i) : columnsThatFit(headers, rows, maxWidth, options);
    const left = headers.filter((_, i) => !shown.includes(i));
    const flexible = options.flexible === undefined ? undefined : shown.findIndex((i) => headers[i] === options.flexible);
    const cells = rows.map((row) => shown.map((i) => row[i]));
    this.io.stdout.write(renderTable(shown.map((i) => headers[i]), cells, this.io.stdoutIsTTY, this.c, maxWidth, flexible) + '\n');
    if (left.length > 0) this.notice(`not shown at this width: ${left.join(', ')} (a wider terminal or --json shows them)`);
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

  /** Progress of a long command on stderr; see `Progress`. Nothing with --quiet. */
  progress(label: string, total?: number, unit = '', options: ProgressOptions = {}): Progress {
    if (this.quiet) return { update() {}, finish() {} };
    const describe = (done: number, detail?: string) => {
      const pct = total ? ` ${Math.min(100, Math.floor((done / total) * 100))}%` : '';
      const count = total ? `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}${unit}` : `${done.toLocaleString('en-US')}${unit}`;
      return `${this.ce.cyan(label)}${pct} ${count}${detail ? ' ' + this.ce.dim(detail) : ''}`;
    };
    if (this.io.stderrIsTTY && !this.json) return this.redrawnProgress(describe, total);
    return this.loggedProgress(describe, options.intervalMs ?? PROGRESS_LINE_INTERVAL_MS);
  }

  private redrawnProgress(describe: (done: number, detail?: string) => string, total?: number): Progress {
    const stream = this.io.stderr;
    const now = () => this.io.now().getTime();
    let last = -Infinity;
    return {
      update(done, detail) {
        if (now() - last < PROGRESS_REDRAW_MS && (!total || done < total)) return;
        last = now();
        stream.write(`\r\x1b[2K${describe(done, detail)}`);
      },
      finish() {
        stream.write('\r\x1b[2K');
      },
    };
  }

  private loggedProgress(describe: (done: number, detail?: string) => string, intervalMs: number): Progress {
    const stream = this.io.stderr;
    const now = () => this.io.now().getTime();
    const started = now();
    let lastLine = started;
    let latest: { done: number; detail?: string } | undefined;
    let printed = false;
    return {
      update(done, detail) {
        latest = { done, detail };
        if (now() - lastLine < intervalMs) return;
        lastLine = now();
        printed = true;
        stream.write(describe(done, detail) + '\n');
      },
      finish() {
        // a run long enough to have logged progress also logs where it ended
        if (printed && latest) stream.write(`${describe(latest.done, latest.detail)} (done in ${((now() - started) / 1000).toFixed(1)} s)\n`);
        latest = undefined;
        printed = false;
      },
    };
  }
}

/** One dim line on stderr (at a terminal) saying which database a command talks to, and with which credential. */
export function describeConnection(connection: ConnectionInfo): string {
  const credential = connection.credential;
  const token =
    !credential || credential.kind === 'none' || !credential.source
      ? 'no token'
      : `${credential.kind ?? 'a'} token from ${credential.source}`;
  return `database: ${connection.url}${connection.source ? ` (${connection.source})` : ''}, ${token}`;
}

/** `connection` joins the document; a command's own `connection` (db status) keeps its fields and gains the others. */
function withConnection(document: Record<string, unknown>, connection: ConnectionInfo): Record<string, unknown> {
  const own = document.connection;
  if (own === undefined) return { ...document, connection };
  if (isPlainObject(own)) return { ...document, connection: { ...connection, ...own } };
  return document;
}

/**
 * Makes writes to a pipe wait for its reader while a document is written. libuv keeps pipes
 * non-blocking and queues what the pipe cannot take in memory: a reader slower than the writer
 * (a CI job's pipe) held a 1 GB import's summary of a million ids in memory three times over
 * (peak RSS 253 MB written to a file, 439 MB to a pipe). Files and terminals already block.
 */
function blockingWhileWriting(stream: Writable): () => void {
  const handle = (stream as { _handle?: { setBlocking?: (blocking: boolean) => unknown } })._handle;
  if (typeof handle?.setBlocking !== 'function' || (stream as { isTTY?: boolean }).isTTY) return () => {};
  handle.setBlocking(true);
  return () => handle.setBlocking!(false);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
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

/** The terminal's width: what the terminal says, else $COLUMNS, else 80. */
export function terminalColumns(io: IO): number {
  const columns = (io.stdout as { columns?: number }).columns ?? Number(io.env.COLUMNS);
  return Number.isInteger(columns) && columns > 20 ? columns : 80;
}

/** `text` in at most `width` characters: on one line, cut with … when longer. */
function shorten(text: string, width: number): string {
  const line = text.replace(ANSI, '').replace(/\s+/g, ' ');
  const characters = [...line];
  return characters.length <= width ? line : characters.slice(0, Math.max(1, width - 1)).join('') + '…';
}

export interface TableLayout {
  /** The column of free text that gives way first at a terminal. */
  flexible?: string;
  /** Columns a narrow terminal leaves out, least needed first. */
  optional?: string[];
}

/** Below this a shortened cell says too little to read. */
const READABLE_WIDTH = 20;

/** What a boxed table's borders and padding take: a border and a space either side of each cell. */
const frameWidth = (columns: number) => columns * 3 + 1;

/**
 * The widest a cell may be for a boxed table of these natural widths to fit `maxWidth`: columns
 * narrower than it keep their width.
 */
function widthCap(widths: number[], maxWidth: number): number {
  const available = maxWidth - frameWidth(widths.length);
  const sorted = [...widths].sort((a, b) => a - b);
  let narrower = 0;
  for (let i = 0; i < sorted.length; i++) {
    const cap = Math.floor((available - narrower) / (sorted.length - i));
    if (cap < sorted[i]) return cap;
    narrower += sorted[i];
  }
  return Infinity;
}

/**
 * Column widths whose boxed table fits `maxWidth`. The `flexible` column gives way first, down to a
 * readable width; then the widest columns, down to `minimum`, while narrower ones keep their width.
 */
export function fitWidths(widths: number[], maxWidth: number, minimum = 6, flexible?: number): number[] {
  const fitted = [...widths];
  if (flexible !== undefined && flexible >= 0) {
    const others = fitted.reduce((sum, width, i) => (i === flexible ? sum : sum + width), frameWidth(fitted.length));
    const room = maxWidth - others;
    if (room >= Math.min(READABLE_WIDTH, fitted[flexible])) {
      fitted[flexible] = Math.min(fitted[flexible], room);
      return fitted;
    }
    fitted[flexible] = Math.min(fitted[flexible], READABLE_WIDTH);
  }
  const cap = Math.max(minimum, widthCap(fitted, maxWidth));
  return fitted.map((width) => Math.min(width, cap));
}

/** The indices of the columns to show at `maxWidth`: every one, unless optional ones must go for the rest to fit whole. */
export function columnsThatFit(headers: string[], rows: Array<Array<string | number | null | undefined>>, maxWidth: number, layout: TableLayout): number[] {
  const natural = headers.map((header, i) => Math.max(visibleWidth(header), ...rows.map((row) => visibleWidth(String(row[i] ?? '')))));
  const needed = (i: number) => (headers[i] === layout.flexible ? Math.min(natural[i], READABLE_WIDTH) : natural[i]);
  let shown = headers.map((_, i) => i);
  for (const header of layout.optional ?? []) {
    if (shown.reduce((sum, i) => sum + needed(i), frameWidth(shown.length)) <= maxWidth) break;
    shown = shown.filter((i) => headers[i] !== header);
  }
  return shown;
}

export function renderTable(
  headers: string[],
  rows: Array<Array<string | number | null | undefined>>,
  boxed: boolean,
  c: Colors,
  maxWidth?: number,
  flexible?: number,
): string {
  let cells = rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '' : String(cell))));
  let widths = headers.map((h, i) => Math.max(visibleWidth(h), ...cells.map((r) => visibleWidth(r[i] ?? ''))));
  if (boxed && maxWidth !== undefined) {
    const fitted = fitWidths(widths, maxWidth, 6, flexible);
    if (fitted.some((width, i) => width < widths[i])) {
      cells = cells.map((row) => row.map((cell, i) => (visibleWidth(cell) > fitted[i] ? shorten(cell, fitted[i]) : cell)));
      headers = headers.map((header, i) => (visibleWidth(header) > fitted[i] ? shorten(header, fitted[i]) : header));
      widths = fitted;
    }
  }
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
