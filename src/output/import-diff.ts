import type { QuestionDiff } from '../db/import/session.js';
import type { Output } from './output.js';

/**
 * `qbank import --diff`: per updated question, each changed field's old (-) and new (+) value, on
 * stdout. At a terminal a long value is cut to one line of an 80-column screen, saying how long it
 * is in full; anywhere else every value is printed whole, its lines indented under the first.
 */

const WIDTH = 80;
const INDENT = '      ';

interface DiffOfFile {
  file: string;
  diff?: QuestionDiff[];
}

interface OptionValue {
  letter: string;
  text: string;
  correct: boolean;
}

function isOptionList(value: unknown): value is OptionValue[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'object' && item !== null && 'letter' in item && 'text' in item);
}

/** A field's value as text: options one a line with their correct mark, lists joined, nothing as "(none)". */
export function valueText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '(none)';
  if (isOptionList(value)) return value.map((option) => `${option.letter}. ${option.text}${option.correct ? '  [correct]' : ''}`).join('\n');
  if (Array.isArray(value)) return value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** One line of at most `width` characters: line breaks shown as ⏎, the rest cut with its full length. */
export function shortened(text: string, width: number): string {
  const flat = text.replace(/\r?\n/g, ' ⏎ ');
  const chars = [...flat];
  if (chars.length <= width) return flat;
  const total = [...text].length;
  const suffix = `… (${total.toLocaleString('en-US')} chars)`;
  return chars.slice(0, Math.max(10, width - suffix.length)).join('') + suffix;
}

function whole(text: string): string {
  return text.split('\n').join('\n' + INDENT);
}

export function renderImportDiffs(out: Output, summaries: DiffOfFile[]): void {
  const tty = out.io.stdoutIsTTY;
  for (const summary of summaries) {
    for (const question of summary.diff ?? []) {
      out.line(out.c.bold(`~ ${question.id}`) + out.c.dim(` (${summary.file} line ${question.line})`));
      for (const change of question.fields) {
        const old = valueText(change.old);
        const next = valueText(change.new);
        const room = WIDTH - INDENT.length;
        if (tty && !old.includes('\n') && !next.includes('\n') && change.field.length + old.length + next.length + 10 <= WIDTH) {
          out.line(`    ${change.field}: ${out.c.red(old)} → ${out.c.green(next)}`);
          continue;
        }
        out.line(`    ${change.field}:`);
        out.line(out.c.red(`    - ${tty ? shortened(old, room) : whole(old)}`));
        out.line(out.c.green(`    + ${tty ? shortened(next, room) : whole(next)}`));
      }
    }
  }
  const count = summaries.reduce((sum, summary) => sum + (summary.diff?.length ?? 0), 0);
  if (count === 0) out.notice('no existing question changes');
}
