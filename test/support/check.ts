import { expect } from 'vitest';

interface Finding {
  rule: string;
  id: string | null;
  related?: string[];
}

/** A check report's findings as `rule id`, sorted: what a test compares with the defects it planted. */
export const findingPairs = (report: { findings: Finding[] }): string[] => report.findings.map((f) => `${f.rule} ${f.id}`).sort();

/**
 * The defects planted in fixtures/check's PingToPass bank that a check finds both in the import
 * file and in the database (each form adds its own: a row the file cannot read, a dangling option).
 */
export const PINGTOPASS_PLANTED_IN_BOTH = [
  'all-none-of-the-above d-allnone',
  'answer-position-bias BIAS-1',
  'duplicate-option d-dupopt',
  'duplicate-question d-dup-1',
  'invalid-value d-value',
  'json-in-text d-jsontext',
  'longest-option-correct BIAS-1',
  'missing-explanation d-noexpl',
  'near-duplicate-question d-near-1',
  'option-length-bias d-lenbias',
  'single-multiple-correct d-twocorrect',
  'too-few-options d-oneoption',
];

/**
 * What a check finds in the open-interview system's own records (../shared/fixtures/open-interview),
 * whether it reads the file or the database they were imported into: the README's "9 × repeated
 * question text, distinct ids", and an answer cut off mid-sentence but not one that ends a sentence.
 */
export function expectTheRecordsFindings(report: { findings: Finding[] }): void {
  const duplicates = report.findings
    .filter((f) => f.rule === 'duplicate-question')
    .map((f) => [f.id, ...(f.related ?? [])].sort().join(' '))
    .sort();
  expect(duplicates).toEqual(['q-1161 q-1162', 'q-12805 q-594', 'q-1339 q-648', 'q-5511 q-5512 q-5513']);
  const truncated = new Set(report.findings.filter((f) => f.rule === 'truncated-answer').map((f) => f.id));
  expect(truncated.has('q-1049')).toBe(true); // "… for rollback, revert t"
  expect(truncated.has('gh-34')).toBe(false); // "… reserved capacity."
}
