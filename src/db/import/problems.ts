/**
 * What is wrong with an import file, located so an editor can jump to it:
 * `file:line:column field: reason`. The column is the CSV column (1 = the first), or for JSON the
 * column where the record starts.
 */
export interface Problem {
  line: number;
  column?: number;
  field?: string;
  message: string;
  /** JSON: the record's number in the file (from 1), and its id when it has one. */
  record?: number;
  recordId?: string;
  /** CSV and xlsx: the row a spreadsheet shows (the header is row 1), and the column's letter there. */
  row?: number;
  columnLetter?: string;
  /** xlsx: the worksheet; its problems name no file line. */
  sheet?: string;
}

export function formatProblem(file: string, problem: Problem): string {
  const where = problem.column === undefined ? `${file}:${problem.line}` : `${file}:${problem.line}:${problem.column}`;
  // a cell's problem (or any of a workbook's, which has no lines) also says where a spreadsheet shows it
  if (problem.sheet !== undefined || (problem.row !== undefined && problem.column !== undefined)) return formatRowProblem(problem.sheet === undefined ? where : `${file} sheet "${problem.sheet}"`, problem);
  const record = problem.record === undefined ? '' : ` (record ${problem.record}${problem.recordId === undefined ? '' : `, id "${problem.recordId}"`})`;
  return `${where}${record}${problem.field ? ' ' + problem.field : ''}: ${problem.message}`;
}

/** `where row 3 (id algorithms-q-1), column correct (K): reason`: where a spreadsheet user looks. */
function formatRowProblem(where: string, problem: Problem): string {
  const id = problem.recordId === undefined ? '' : ` (id ${problem.recordId})`;
  const named = [problem.field, problem.columnLetter === undefined ? undefined : `(${problem.columnLetter})`].filter(Boolean).join(' ');
  return `${where} row ${problem.row}${id}${named ? `, column ${named}` : ''}: ${problem.message}`;
}

/** Keeps the first problems in full and counts the rest, so a broken million-row file costs no memory. */
export class ProblemLog {
  readonly kept: Problem[] = [];
  count = 0;

  constructor(private readonly keep = 20) {}

  add(problem: Problem): void {
    this.count++;
    if (this.kept.length < this.keep) this.kept.push(problem);
  }

  get empty(): boolean {
    return this.count === 0;
  }

  /** Problems in file order (checks at the end of a file can find problems on earlier lines). */
  sorted(): Problem[] {
    return [...this.kept].sort((a, b) => a.line - b.line || (a.column ?? 0) - (b.column ?? 0));
  }
}
