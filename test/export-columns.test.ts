import { describe, expect, it } from 'vitest';
import * as exported from '../src/db/export/columns.js';
import { OPEN_INTERVIEW_CERTIFICATION_COLUMNS, OPEN_INTERVIEW_QUESTION_COLUMNS } from '../src/db/import/open-interview-rows.js';
import { PINGTOPASS_EXAM_COLUMNS, PINGTOPASS_QUESTION_COLUMNS } from '../src/db/import/pingtopass-rows.js';
import type { ColumnSpec } from '../src/db/import/records.js';

/** The export writes the import's columns: its lists (kept apart from the import's validation) are the import's, name for name and kind for kind. */
const nameAndKind = (columns: ColumnSpec[]) => columns.map((column) => `${column.name}:${column.kind ?? 'raw'}`);

describe('the export writes exactly the import columns', () => {
  it.each([
    ['PingToPass questions', exported.PINGTOPASS_QUESTION_COLUMNS, PINGTOPASS_QUESTION_COLUMNS],
    ['PingToPass exams', exported.PINGTOPASS_EXAM_COLUMNS, PINGTOPASS_EXAM_COLUMNS],
    ['open-interview questions', exported.OPEN_INTERVIEW_QUESTION_COLUMNS, OPEN_INTERVIEW_QUESTION_COLUMNS],
    ['open-interview certifications', exported.OPEN_INTERVIEW_CERTIFICATION_COLUMNS, OPEN_INTERVIEW_CERTIFICATION_COLUMNS],
  ])('%s', (_name, ours, imports) => {
    expect(nameAndKind(ours)).toEqual(nameAndKind(imports));
  });
});
