import type { CheckQuestion, RawFinding, Thresholds } from './model.js';

/**
 * The rules that judge one question on its own: pure functions of the row and the thresholds, so
 * they run the same on a database's rows and on an import file's.
 */

const ALL_NONE = /^(all|none|both|neither) of the (above|options|answers)[\s.!]*$/i;
const INCOMPLETE_ENDINGS = [
  'when the', 'you can', 'if it', 'and the', 'which is', 'such as', 'for example', 'this is', 'that is',
  'it is', 'of the', 'in the', 'to the', 'is a', 'with the', 'for the', 'because', 'and', 'or', 'the', 'a', 'an', 'to', 'with',
];
/** An option list (or record list) pasted in as JSON: `[{"id":…,"text":…}]` or `{"question":…,"answer":…}`. */
const PASTED_RECORDS = /\[\s*\{\s*"(id|text|option|label|isCorrect)"\s*:|\{\s*"(question|answer|options|explanation)"\s*:\s*["[{]/;

export function normaliseText(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

function finding(question: CheckQuestion, rule: RawFinding['rule'], message: string, related: string[] = []): RawFinding {
  const found: RawFinding = { rule, table: question.table, id: question.id, group: question.group, message, related };
  if (question.line !== undefined) found.line = question.line;
  return found;
}

export function optionRules(question: CheckQuestion, thresholds: Thresholds): RawFinding[] {
  if (question.answer !== null || question.type === null) return [];
  if (question.type !== 'single' && question.type !== 'multiple') return [];
  const found: RawFinding[] = [];
  const options = question.options;
  const correct = options.filter((option) => option.isCorrect);
  if (options.length < 2) found.push(finding(question, 'too-few-options', `${options.length} option${options.length === 1 ? '' : 's'}; a question needs at least two`));
  if (options.length > 0 && correct.length === 0) found.push(finding(question, 'no-correct-option', `none of its ${options.length} options is marked correct`));
  if (question.type === 'single' && correct.length > 1) found.push(finding(question, 'single-multiple-correct', `a single-answer question with ${correct.length} correct options`, correct.map((o) => o.id)));
  const orderProblem = describeOrderProblem(options.map((option) => option.order));
  if (orderProblem) found.push(finding(question, 'option-order', orderProblem));
  found.push(...duplicateOptions(question));
  for (const option of options) {
    if (ALL_NONE.test(option.text.trim())) found.push(finding(question, 'all-none-of-the-above', `option "${option.text.trim()}"`, [option.id]));
  }
  const bias = lengthBias(question, thresholds);
  if (bias) found.push(bias);
  return found;
}

/** Orders must be distinct and have no gaps (0..n-1 or 1..n). */
export function describeOrderProblem(orders: Array<number | null>): string | undefined {
  if (orders.length === 0) return undefined;
  if (orders.some((order) => order === null)) return 'an option has no order';
  const sorted = [...(orders as number[])].sort((a, b) => a - b);
  const repeated = sorted.filter((order, index) => index > 0 && order === sorted[index - 1]);
  if (repeated.length > 0) return `repeated order ${[...new Set(repeated)].join(', ')} (orders ${sorted.join(', ')})`;
  const start = sorted[0]!;
  if ((start !== 0 && start !== 1) || sorted[sorted.length - 1]! - start !== sorted.length - 1) return `orders ${sorted.join(', ')} leave gaps`;
  return undefined;
}

function duplicateOptions(question: CheckQuestion): RawFinding[] {
  const options = question.options;
  if (options.length < 2) return [];
  const keys = options.map((option) => normaliseText(option.text));
  const found: RawFinding[] = [];
  const done = new Array<boolean>(options.length).fill(false);
  for (let i = 0; i < options.length; i++) {
    if (done[i]) continue;
    let ids: string[] | undefined;
    for (let j = i + 1; j < options.length; j++) {
      if (keys[j] !== keys[i]) continue;
      ids ??= [options[i]!.id];
      ids.push(options[j]!.id);
      done[j] = true;
    }
    if (ids) found.push(finding(question, 'duplicate-option', `${ids.length} options read "${keys[i]}"`, ids));
  }
  return found;
}

function lengthBias(question: CheckQuestion, thresholds: Thresholds): RawFinding | undefined {
  const correct = question.options.filter((option) => option.isCorrect);
  const wrong = question.options.filter((option) => !option.isCorrect);
  if (correct.length !== 1 || wrong.length === 0) return undefined;
  const correctLength = correct[0]!.text.trim().length;
  const wrongLengths = wrong.map((option) => option.text.trim().length);
  if (correctLength <= Math.max(...wrongLengths)) return undefined;
  const mean = wrongLengths.reduce((a, b) => a + b, 0) / wrongLengths.length;
  if (correctLength < thresholds.lengthBiasRatio * mean || correctLength - mean < thresholds.lengthBiasMinExtra) return undefined;
  return finding(question, 'option-length-bias', `the correct option has ${correctLength} characters, the wrong ones ${mean.toFixed(0)} on average`, [correct[0]!.id]);
}

export function textRules(question: CheckQuestion): RawFinding[] {
  const found: RawFinding[] = [];
  if (question.published && (question.explanation ?? '').trim() === '') found.push(finding(question, 'missing-explanation', 'published without an explanation'));
  if (question.answer !== null) {
    const truncation = describeTruncation(question.answer);
    if (truncation) found.push(finding(question, 'truncated-answer', truncation));
  }
  const fields: Array<[string, string | null]> = [['answer', question.answer], ['explanation', question.explanation], ['tldr', question.tldr], ['text', question.text]];
  for (const [field, value] of fields) {
    // every pasted record has a brace: most texts are passed over without the expression
    if (value !== null && value.includes('{') && PASTED_RECORDS.test(value)) found.push(finding(question, 'json-in-text', `its ${field} holds serialized records (${JSON.stringify(value.slice(0, 40))}…)`));
  }
  return found;
}

/** An answer that stops mid-sentence, as the system's find-truncated-answers.js looks for. */
export function describeTruncation(answer: string): string | undefined {
  const text = answer.trimEnd();
  if (text === '') return 'empty answer';
  const lastLine = text.slice(text.lastIndexOf('\n') + 1).trim();
  if (lastLine.startsWith('```') || /^([-*+]|\d+\.)\s/.test(lastLine) || lastLine.startsWith('|')) return undefined;
  if (/[.!?:;)\]"'`*>]$/.test(text)) return undefined;
  const words = normaliseText(text.slice(-40)).split(' ');
  const tail2 = words.slice(-2).join(' ');
  const tail1 = words.slice(-1).join(' ');
  const incomplete = INCOMPLETE_ENDINGS.find((ending) => ending === tail2 || ending === tail1);
  if (incomplete) return `the answer ends in "${incomplete}"`;
  return `the answer ends without closing punctuation ("…${text.slice(-30)}")`;
}
