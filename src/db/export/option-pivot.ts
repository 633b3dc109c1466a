/**
 * PingToPass questions come out one row per question: the options, read as one JSON array of
 * `[text, is_correct]` pairs in their order, become `option_a…option_f`, and the correct ones the
 * letters of `correct`.
 */

import { blobHeldIn } from '../client.js';

export const OPTION_LETTERS = ['A', 'B', 'C', 'D', 'E', 'F'] as const;

export interface OptionPivot {
  /** For each output column, its position in the row as read (-1: filled from the options). */
  positions: number[];
  /** Output positions of `option_a` and of `correct`. */
  optionsAt: number;
  correctAt: number;
}

type Option = [text: string | { $blob: string }, isCorrect: number, order?: unknown];

/** An option's text as read: a blob arrives as {"$blob": HEX} and leaves as its bytes (written as base64). */
function optionText(text: Option[0]): string | Uint8Array {
  return blobHeldIn(text) ?? (text as string);
}

/**
 * A row read with the options in the index's order, `[text, is_correct, order]` each: they are in
 * their sorted order when the orders strictly increase. Then the options, parsed, replace their
 * JSON in the row (not parsed twice); otherwise the row must be read sorted.
 */
export function settleOptions(row: unknown[]): boolean {
  const at = row.length - 1;
  const options = JSON.parse(String(row[at] ?? '[]')) as Option[];
  for (let k = 1; k < options.length; k++) {
    const before = options[k - 1][2];
    const order = options[k][2];
    if (typeof before !== 'number' || typeof order !== 'number' || !(order > before)) return false;
  }
  row[at] = options;
  return true;
}

/** One row as read (the options last: their JSON, or the list `settleOptions` parsed) to the values of the output columns. */
export function pivotOptions(pivot: OptionPivot): (row: unknown[]) => unknown[] {
  const { positions, optionsAt, correctAt } = pivot;
  return (row) => {
    const read = row[row.length - 1];
    const options = (Array.isArray(read) ? read : JSON.parse(String(read ?? '[]'))) as Option[];
    const values = positions.map((at) => (at >= 0 ? row[at] : null));
    let correct = '';
    for (let k = 0; k < OPTION_LETTERS.length; k++) {
      const option = options[k];
      values[optionsAt + k] = option ? optionText(option[0]) : null;
      if (option && Number(option[1]) !== 0) correct += (correct ? ';' : '') + OPTION_LETTERS[k];
    }
    values[correctAt] = correct;
    return values;
  };
}
