import { stripVTControlCharacters } from 'node:util';
import Table from 'cli-table3';
import { Marked, type Tokens } from 'marked';
import { markedTerminal } from 'marked-terminal';
import pc from 'picocolors';
import stringWidth from 'string-width';
import wrapAnsi from 'wrap-ansi';

/**
 * Markdown for the terminal, as `gh` and `glow` show it: marked + marked-terminal render it, with
 * tables fitted to the width, links as text and URL, mermaid diagrams as their source, and every
 * line wrapped at word boundaries in display columns (wide characters, emoji, ANSI codes) with a
 * hanging indent under its bullet, number or label.
 */

export interface MarkdownOptions {
  /** Display columns available. */
  width: number;
  /** Escapes for bold, colours and highlighting; without them the same layout in plain text. */
  color: boolean;
}

const CODE_INDENT = '    ';
const identity = (text: string) => text;
/** Styles are always produced and stripped afterwards when colour is off: one layout for both. */
const styles = pc.createColors(true);

/** Cell widths that fit `available` columns: narrow columns keep their width, wide ones share the rest. */
export function fitColumns(natural: number[], available: number): number[] {
  const widths = natural.map((w) => Math.max(1, w));
  let remaining = available;
  let open = widths.map((_, i) => i);
  const fitted = new Array<number>(widths.length).fill(0);
  // hand every column its natural width when it is below an equal share of what is left
  for (;;) {
    const share = Math.floor(remaining / Math.max(1, open.length));
    const small = open.filter((i) => widths[i] <= share);
    if (small.length === 0 || open.length === 0) break;
    for (const i of small) {
      fitted[i] = widths[i];
      remaining -= widths[i];
    }
    open = open.filter((i) => widths[i] > share);
  }
  const share = Math.floor(remaining / Math.max(1, open.length));
  for (const [n, i] of open.entries()) fitted[i] = Math.max(3, n === open.length - 1 ? remaining - share * (open.length - 1) : share);
  return fitted;
}

function renderTable(this: { parser: { parseInline(tokens: Tokens.Generic[]): string } }, token: Tokens.Table, width: number): string {
  const cell = (c: Tokens.TableCell) => this.parser.parseInline(c.tokens).replace(/\n/g, ' ');
  const head = token.header.map((c) => styles.bold(cell(c)));
  const rows = token.rows.map((row) => row.map(cell));
  const natural = head.map((_, i) => Math.max(...[head[i], ...rows.map((r) => r[i] ?? '')].map((text) => stringWidth(text))) + 2);
  // borders: one column each side and one between cells
  const available = Math.max(token.header.length * 4, width - (token.header.length + 1));
  const table = new Table({
    head,
    colWidths: fitColumns(natural, available),
    wordWrap: true,
    wrapOnWordBoundary: true,
    style: { head: [], border: [] },
    colAligns: token.align.map((a) => a ?? 'left'),
  });
  for (const row of rows) table.push(row);
  return table.toString() + '\n\n';
}

function renderCode(token: Tokens.Code): string | false {
  if (token.lang?.trim().toLowerCase() !== 'mermaid') return false;
  const source = token.text.split('\n').map((line) => CODE_INDENT + styles.yellow(line));
  return [styles.dim(`${CODE_INDENT}mermaid diagram (source):`), ...source].join('\n') + '\n\n';
}

function renderLink(this: { parser: { parseInline(tokens: Tokens.Generic[]): string } }, token: Tokens.Link): string {
  const text = this.parser.parseInline(token.tokens);
  const href = styles.underline(styles.blue(token.href));
  return stripVTControlCharacters(text) === token.href || !text ? href : `${styles.blue(text)} (${href})`;
}

function createMarked(width: number): Marked {
  const marked = new Marked();
  marked.use(
    markedTerminal({
      width,
      reflowText: false,
      showSectionPrefix: false,
      emoji: false,
      tab: CODE_INDENT.length,
      code: styles.yellow,
      codespan: styles.yellow,
      blockquote: (text: string) => styles.italic(styles.gray(text)),
      html: styles.gray,
      heading: (text: string) => styles.bold(styles.green(text)),
      firstHeading: (text: string) => styles.bold(styles.magenta(text)),
      hr: identity,
      listitem: identity,
      table: identity,
      paragraph: identity,
      strong: styles.bold,
      em: styles.italic,
      del: (text: string) => styles.dim(styles.strikethrough(text)),
      link: identity,
      href: identity,
      text: identity,
    }),
  );
  marked.use({
    // a paragraph's soft line breaks are spaces: the text is wrapped again at the terminal's width
    walkTokens(token) {
      if (token.type === 'text' && !('tokens' in token && token.tokens)) token.text = token.text.replace(/\n/g, ' ');
    },
    renderer: {
      table(token) {
        return renderTable.call(this as never, token, width);
      },
      code: renderCode,
      // marked-terminal prints a tight list item's text raw; its inline tokens carry the emphasis and links
      text(token) {
        const parser = (this as unknown as { parser: { parseInline(tokens: Tokens.Generic[]): string } }).parser;
        return 'tokens' in token && token.tokens ? parser.parseInline(token.tokens) : false;
      },
      link(token) {
        return renderLink.call(this as never, token);
      },
    },
  });
  return marked;
}

const markedByWidth = new Map<number, Marked>();

/** Markdown as terminal lines, each at most `width` display columns. */
export function renderMarkdown(source: string, options: MarkdownOptions): string[] {
  const width = Math.max(20, options.width);
  let marked = markedByWidth.get(width);
  if (!marked) markedByWidth.set(width, (marked = createMarked(width)));
  const rendered = (marked.parse(source, { async: false }) as string).replace(/\r/g, '\n').replace(/\n+$/, '');
  const lines = rendered.split('\n');
  const collapsed = lines.filter((line, i) => !(line.trim() === '' && (i === 0 || lines[i - 1].trim() === '')));
  const plain = options.color ? collapsed : collapsed.map((line) => stripVTControlCharacters(line));
  return plain.flatMap((line) => wrapHanging(line, width));
}

/** What a continuation line hangs under: indentation, then bullets, numbers, option letters, marks. */
const HANGING_PREFIX = /^(\s*(?:(?:[*•\-+>│✔✘]|\d+[.)]|[A-Z][.)])\s+)*)/u;
/** Below this many columns for the text, a hanging indent costs more than it gives. */
const MIN_HANGING_TEXT = 16;

/** The raw index in `line` after `visible` characters of its text, skipping ANSI escapes. */
function rawIndexAfter(line: string, visible: number): number {
  let seen = 0;
  let index = 0;
  const escape = /\x1b\[[0-9;]*m|\x1b\]8;[^\x07\x1b]*(?:\x07|\x1b\\)/y;
  while (index < line.length && seen < visible) {
    escape.lastIndex = index;
    const match = escape.exec(line);
    if (match) {
      index += match[0].length;
      continue;
    }
    const codePoint = line.codePointAt(index)!;
    index += codePoint > 0xffff ? 2 : 1;
    seen++;
  }
  return index;
}

/**
 * One line wrapped at word boundaries to `width` display columns; continuation lines are indented
 * to where the text after the prefix (indent, bullet, option letter) starts. Only words wider than
 * the line are broken.
 */
export function wrapHanging(line: string, width: number): string[] {
  if (stringWidth(line) <= width) return [line];
  const plain = stripVTControlCharacters(line);
  const prefix = HANGING_PREFIX.exec(plain)?.[1] ?? '';
  let hang = stringWidth(prefix);
  if (width - hang < MIN_HANGING_TEXT) hang = Math.min(hang, Math.max(0, width - MIN_HANGING_TEXT));
  const prefixEnd = rawIndexAfter(line, [...prefix].length);
  const head = line.slice(0, prefixEnd);
  const rest = line.slice(prefixEnd);
  const headWidth = stringWidth(head);
  if (headWidth >= width - MIN_HANGING_TEXT) return wrapAnsi(line, width, { hard: true, trim: false }).split('\n');
  const wrapped = wrapAnsi(rest, width - hang, { hard: true }).split('\n');
  // the first line sits after the prefix, whose width may differ from the hang
  if (headWidth !== hang) {
    const first = wrapAnsi(rest, width - headWidth, { hard: true }).split('\n')[0];
    const remainder = rest.slice(rawIndexAfter(rest, [...stripVTControlCharacters(first)].length)).replace(/^\s+/, '');
    const after = remainder ? wrapAnsi(remainder, width - hang, { hard: true }).split('\n') : [];
    return [head + first, ...after.map((l) => ' '.repeat(hang) + l)];
  }
  return [head + wrapped[0], ...wrapped.slice(1).map((l) => ' '.repeat(hang) + l)];
}

/** Display columns of a line (wide characters count two, escapes none). */
export const displayWidth = (text: string): number => stringWidth(text);
