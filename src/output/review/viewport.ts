import { stripVTControlCharacters } from 'node:util';
import type { Writable } from 'node:stream';
import { displayWidth, wrapHanging } from '../markdown.js';

/**
 * The review screen's frame at a known terminal size: the header on top, the item in a pane that
 * scrolls like `less`, and the notice and key line at the bottom, the key line on the last row.
 */

export interface TerminalSize {
  columns: number;
  rows: number;
}

/** The size of a terminal stream, or undefined for a pipe, a file or a stream that does not say. */
export function terminalSize(stream: Writable, isTTY: boolean): TerminalSize | undefined {
  const { columns, rows } = stream as Writable & { columns?: number; rows?: number };
  if (!isTTY || !columns || !rows) return undefined;
  return { columns, rows };
}

/** How the pane moves for a key, or undefined when the key is not a scroll key. */
export type ScrollMove = 'line-down' | 'line-up' | 'page-down' | 'page-up' | 'top' | 'bottom';

export function scrollMoveOf(key: { name: string; ctrl: boolean; shift?: boolean }): ScrollMove | undefined {
  if (key.ctrl) return undefined;
  switch (key.name) {
    case 'space':
    case 'pagedown':
      return 'page-down';
    case 'b':
    case 'pageup':
      return 'page-up';
    case 'j':
    case 'down':
      return 'line-down';
    case 'k':
    case 'up':
      return 'line-up';
    case 'g':
      return key.shift ? 'bottom' : 'top';
    case 'home':
      return 'top';
    case 'end':
      return 'bottom';
    default:
      return undefined;
  }
}

export function scrolled(top: number, move: ScrollMove, paneHeight: number, bodyLength: number): number {
  const page = Math.max(1, paneHeight - 1);
  const next = { 'line-down': top + 1, 'line-up': top - 1, 'page-down': top + page, 'page-up': top - page, top: 0, bottom: bodyLength }[move];
  return clampTop(next, paneHeight, bodyLength);
}

const clampTop = (top: number, paneHeight: number, bodyLength: number) => Math.max(0, Math.min(top, bodyLength - paneHeight));

/**
 * Characters of content before a line: letters and marks, not spaces or table borders, which is
 * what stays the same when the text is wrapped again at another width.
 */
const NOT_CONTENT = /[\s\u2500-\u257f]/gu;
const contentLength = (line: string) => stripVTControlCharacters(line).replace(NOT_CONTENT, '').length;

export function contentOffset(lines: string[], top: number): number {
  let offset = 0;
  for (let i = 0; i < top && i < lines.length; i++) offset += contentLength(lines[i]);
  return offset;
}

/** The line that holds the content at `offset`: where a pane scrolled to `offset` starts again. */
export function lineAtOffset(lines: string[], offset: number): number {
  let seen = 0;
  for (const [i, line] of lines.entries()) {
    const length = contentLength(line);
    if (seen + length > offset) return i;
    seen += length;
  }
  return lines.length;
}

export interface FrameInput {
  size: TerminalSize;
  header: string;
  body: string[];
  notice?: string;
  /** The key line's entries ("a approve", "q quit"): never broken inside one. */
  keys: string[];
  /** First body line shown. */
  top: number;
  /** Styles the scroll marker. */
  dim: (text: string) => string;
}

export interface Frame {
  /** The whole screen, to be written after clearing it; no newline after the last row. */
  text: string;
  /** `top` kept within the body. */
  top: number;
  paneHeight: number;
}

/** "more below (37 lines)" and how to get there, or undefined when the whole item is in view. */
function scrollMarker(top: number, paneHeight: number, bodyLength: number): { short: string; long: string } | undefined {
  const below = bodyLength - top - paneHeight;
  const lines = `${below} line${below === 1 ? '' : 's'}`;
  if (below > 0) return { short: `── more below (${lines})`, long: `── more below (${lines}) · space/j down · b/k up · g/G top/bottom` };
  if (top > 0) return { short: '── end · b up', long: '── end · b/k up · g top' };
  return undefined;
}

/**
 * The rows under the pane: the marker beside the keys when both fit on the last row (a row more for
 * the item), else on a row of its own; the notice above them.
 */
function footerRows(entries: string[], marker: { short: string; long: string } | undefined, columns: number, dim: (text: string) => string): { marker: string[]; keys: string[] } {
  const keys = fitKeys(entries, columns);
  if (!marker) return { marker: [], keys };
  const last = keys.at(-1) ?? '';
  const tight = keys.length === 1 ? entries.join('  ') : last;
  for (const [line, text] of [[last, marker.long], [last, marker.short], [tight, marker.short]]) {
    if (displayWidth(line) + 3 + displayWidth(text) <= columns) return { marker: [], keys: [...keys.slice(0, -1), line + '   ' + dim(text)] };
  }
  return { marker: [dim(marker.long.slice(0, columns))], keys };
}

/** The key entries on as few rows as the width allows, each entry whole. */
export function fitKeys(entries: string[], columns: number): string[] {
  for (const separator of ['   ', '  ']) {
    const line = entries.join(separator);
    if (displayWidth(line) <= columns) return [line];
  }
  const rows: string[] = [];
  for (const entry of entries) {
    const last = rows.at(-1);
    if (last !== undefined && displayWidth(last + '  ' + entry) <= columns) rows[rows.length - 1] = last + '  ' + entry;
    else rows.push(...wrapHanging(entry, columns));
  }
  return rows;
}

export function frame(input: FrameInput): Frame {
  const { size, body } = input;
  const wrap = (text: string) => text.split('\n').flatMap((line) => wrapHanging(line, size.columns));
  const header = wrap(input.header);
  const notice = input.notice ? wrap(input.notice) : [];
  const keys = fitKeys(input.keys, size.columns);
  const pane = (height: number, top: number) => {
    const shown = body.slice(top, top + height);
    while (shown.length < height) shown.push('');
    return shown;
  };
  const available = Math.max(1, size.rows - header.length - notice.length - keys.length);
  let paneHeight = available;
  let top = clampTop(input.top, paneHeight, body.length);
  let footer = footerRows(input.keys, scrollMarker(top, paneHeight, body.length), size.columns, input.dim);
  if (footer.marker.length) {
    paneHeight = Math.max(1, available - 1);
    top = clampTop(input.top, paneHeight, body.length);
    footer = footerRows(input.keys, scrollMarker(top, paneHeight, body.length), size.columns, input.dim);
    // the marker fits beside the keys at this position after all: its row stays, blank
    if (!footer.marker.length) footer = { ...footer, marker: [''] };
  }
  const rows = [...header, ...pane(paneHeight, top), ...footer.marker, ...notice, ...footer.keys];
  // a screen too small for the header, notice and keys: the key line still ends the last row
  const visible = rows.slice(Math.max(0, rows.length - size.rows));
  return { text: visible.join('\n'), top, paneHeight };
}
