/**
 * PingToPass questions come out one row per question: the options, read as one JSON array of
 * `[text, is_correct]` pairs in their order, become `option_a…option_f`, and the correct ones the
 * letters of `correct`.
 */

export const OPTION_LETTERS = ['A', 'B', 'C', 'D', 'E', 'F'] as const;

export interface OptionPivot {
  /** For each output column, its position in the row as read (-1: filled from the options). */
  positions: number[];
  /** Output positions of `option_a` and of `correct`. */
  optionsAt: number;
  correctAt: number;
}

/** One row as read (the options' JSON last) to the values of the output columns. */
export function pivotOptions(pivot: OptionPivot): (row: unknown[]) => unknown[] {
  const { positions, optionsAt, correctAt } = pivot;
  return (row) => {
    const options = JSON.parse(String(row[row.length - 1] ?? '[]')) as Array<[string, number]>;
    const values = positions.map((at) => (at >= 0 ? row[at] : null));
    let correct = '';
    for (let k = 0; k < OPTION_LETTERS.length; k++) {
      const option = options[k];
      values[optionsAt + k] = option ? option[0] : null;
      if (option && Number(option[1]) !== 0) correct += (correct ? ';' : '') + OPTION_LETTERS[k];
    }
    values[correctAt] = correct;
    return values;
  };
}
