/**
 * What a spreadsheet program chose when it saved a CSV file: the delimiter (comma; semicolon in
 * most European locales; tab for "Unicode Text") and the line ending (CRLF, LF, or CR alone for
 * "CSV (Macintosh)"). Both are read from the header, whose names must be known columns; the
 * rejects file is written back in the same dialect.
 */
import { CSV_DELIMITERS } from './csv.js';

export type LineEnding = '\r\n' | '\n' | '\r';

export interface CsvDialect {
  delimiter: string;
  lineEnding: LineEnding;
}

export const DELIMITER_NAMES: Record<string, string> = { ',': 'comma', ';': 'semicolon', '\t': 'tab' };

/** The line ending of the first line break in `text` (CRLF when there is none). */
export function lineEndingOf(text: string): LineEnding {
  const lf = text.indexOf('\n');
  const cr = text.indexOf('\r');
  if (cr === -1 && lf === -1) return '\r\n';
  if (cr === -1 || (lf !== -1 && lf < cr)) return '\n';
  if (text.charCodeAt(cr + 1) === 10) return '\r\n';
  return cr + 1 === text.length && lf === -1 ? '\r\n' : '\r';
}

/** The first line's fields split on `delimiter`, quotes taken off: enough to recognise a header. */
export function roughHeader(text: string, delimiter: string): string[] {
  const end = text.search(/[\r\n]/);
  const line = end === -1 ? text : text.slice(0, end);
  return line.split(delimiter).map((field) => field.trim().replace(/^"(.*)"$/s, '$1').replace(/""/g, '"'));
}

/** How many of the header's names are known columns when it is split on each delimiter. */
function knownNames(text: string, resolve: (name: string) => string | undefined): Array<{ delimiter: string; known: number }> {
  return CSV_DELIMITERS.map((delimiter) => {
    const names = roughHeader(text, delimiter);
    return { delimiter, known: names.length > 1 ? new Set(names.map(resolve).filter(Boolean)).size : 0 };
  });
}

/**
 * The delimiter under which the most header names are known columns (comma on a tie). With a
 * delimiter given, that one, and `better` names a delimiter that would recognise more names.
 */
export function chooseDelimiter(text: string, resolve: (name: string) => string | undefined, given?: string): { delimiter: string; better?: string } {
  const scores = knownNames(text, resolve);
  const best = scores.reduce((a, b) => (b.known > a.known ? b : a));
  if (given === undefined) return { delimiter: best.known > 0 ? best.delimiter : ',' };
  const own = scores.find((score) => score.delimiter === given)?.known ?? 0;
  return { delimiter: given, better: best.known > own ? best.delimiter : undefined };
}

/** The spreadsheet's letter for a column number from 1: A … Z, AA … */
export function columnLetter(column: number): string {
  let letters = '';
  for (let n = column; n > 0; n = Math.floor((n - 1) / 26)) letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  return letters;
}
