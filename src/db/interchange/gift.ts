import type { TextSource } from '../import/text-source.js';
import type { InterchangeAnswer, InterchangeItem, InterchangeQuestion } from './model.js';
import { textBlocks, textLines, type TextLine } from './text-blocks.js';

/**
 * GIFT, as Moodle reads it (question/format/gift): questions separated by blank lines; lines
 * starting with `//` are comments; `$CATEGORY: path` sets the category of the questions after it;
 * `::title::` names a question; answers go between `{` and `}`: `=right`, `~wrong`, `~%50%weighted`,
 * `#feedback` after an answer, `####general feedback` at the end; `{T}`/`{FALSE}` are true/false;
 * text after the `}` makes a missing-word question (`_____` marks the gap); `[html]`, `[markdown]`,
 * `[plain]`, `[moodle]` before a text say its format. `\~ \= \# \{ \} \: \\` are the characters
 * themselves and `\n` a line break. Lines are trimmed (Moodle does), so indentation is not content.
 *
 * qbank holds multiple choice (one or several right answers) and true/false; short answer,
 * matching, numerical, essay and description are named with their line and left out. A comment
 * line `// qbank: {"id":…,"difficulty":…,"objective_id":…,"tags":[…]}` before a question, as
 * `qbank export` writes it, gives what GIFT itself cannot hold; Moodle ignores it.
 */

const ESCAPABLE = new Set(['~', '=', '#', '{', '}', ':', '\\', 'n']);
const FORMAT_MARKER = /^\[(html|markdown|plain|moodle)\]/;
const TRUE_FALSE = /^(T|TRUE|F|FALSE)$/i;
export const GIFT_METADATA = '// qbank: ';

/** Index of the first of `chars` at or after `from` that no backslash escapes (-1 if none). */
function findUnescaped(text: string, target: string, from = 0): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\' && i + 1 < text.length && ESCAPABLE.has(text[i + 1])) {
      i++;
      continue;
    }
    if (text.startsWith(target, i)) return i;
  }
  return -1;
}

/** Splits at every unescaped occurrence of one of `separators`, keeping the separator at the start of the part after it. */
function splitBefore(text: string, separators: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && i + 1 < text.length && ESCAPABLE.has(text[i + 1])) {
      i++;
      continue;
    }
    if (separators.includes(text[i])) {
      parts.push(text.slice(start, i));
      start = i;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** The text GIFT's escapes stand for: `\~` is `~`, `\\` a backslash, `\n` a line break; a backslash before anything else stays. */
export function unescapeGift(text: string): string {
  return text.replace(/\\([~=#{}:\\n])/g, (_, char: string) => (char === 'n' ? '\n' : char));
}

/** A text without its leading format marker (`[html]`…), trimmed and unescaped: the format is not stored, the markup is kept as written. */
function plainText(text: string): string {
  return unescapeGift(text.trim().replace(FORMAT_MARKER, '').trim());
}

/** Exam code of a category path: its last segment (`$course$/top/AZ-900` is AZ-900); `//` in a name is a slash. */
export function examOfCategory(path: string): string | undefined {
  const segments = path
    .trim()
    .split(/(?<!\/)\/(?!\/)/)
    .map((segment) => segment.replace(/\/\//g, '/').trim())
    .filter((segment) => segment !== '' && !/^\$[a-z]+\$$/.test(segment) && segment !== 'top');
  return segments.at(-1);
}

interface Metadata {
  id?: string;
  difficulty?: number;
  objectiveId?: string;
  tags?: string[];
}

function metadataOf(comment: string): Metadata | string {
  let value: unknown;
  try {
    value = JSON.parse(comment.slice(GIFT_METADATA.length));
  } catch {
    return 'the qbank comment is not valid JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'the qbank comment must hold a JSON object';
  const { id, difficulty, objective_id: objectiveId, tags } = value as Record<string, unknown>;
  const meta: Metadata = {};
  if (typeof id === 'string') meta.id = id;
  if (typeof difficulty === 'number') meta.difficulty = difficulty;
  if (typeof objectiveId === 'string') meta.objectiveId = objectiveId;
  if (Array.isArray(tags) && tags.every((tag) => typeof tag === 'string')) meta.tags = tags as string[];
  return meta;
}

interface Block {
  /** The first line that is not a comment. */
  line: number;
  text: string;
  source: string;
  metadata?: Metadata | string;
}

function blockOf(lines: TextLine[]): Block | undefined {
  const kept: TextLine[] = [];
  let metadata: Metadata | string | undefined;
  for (const entry of lines) {
    const text = entry.text.replace(/^\uFEFF/, '').trim();
    if (text.startsWith(GIFT_METADATA.trim())) metadata = metadataOf(text.startsWith(GIFT_METADATA) ? text : GIFT_METADATA + text.slice(GIFT_METADATA.trim().length));
    else if (!text.startsWith('//')) kept.push({ line: entry.line, text });
  }
  if (kept.length === 0) return undefined;
  return { line: kept[0].line, text: kept.map((entry) => entry.text).join('\n'), source: lines.map((entry) => entry.text).join('\n'), metadata };
}

/** The line within the block at which offset `at` of its text falls. */
function lineAt(block: Block, at: number): number {
  let line = block.line;
  for (let i = 0; i < at && i < block.text.length; i++) if (block.text[i] === '\n') line++;
  return line;
}

/** Reads one answer of a multiple-choice list: `=text`, `~text`, `~%-50%text`, each with an optional `#feedback`. */
function answerOf(part: string): InterchangeAnswer | string {
  let text = part.trim();
  let fraction = text.startsWith('=') ? 1 : 0;
  text = text.slice(1).trim();
  const weight = /^%(-?\d+(?:\.\d+)?)%/.exec(text);
  if (weight) {
    fraction = Number(weight[1]) / 100;
    text = text.slice(weight[0].length);
  } else if (text.startsWith('%')) return `answer "${text}" has a malformed weight: write it as %50% or %-25%`;
  const hash = findUnescaped(text, '#');
  const answer: InterchangeAnswer = { text: plainText(hash >= 0 ? text.slice(0, hash) : text), fraction };
  if (hash >= 0) answer.feedback = plainText(text.slice(hash + 1));
  return answer;
}

type Parsed = Omit<InterchangeQuestion, 'line' | 'source' | 'exam'> | string;

function trueFalse(answerText: string, stem: string): Parsed {
  const parts = splitBefore(answerText, '#').map((part, index) => (index === 0 ? part : part.slice(1)));
  const right = /^t/i.test(parts[0].trim());
  const answers: InterchangeAnswer[] = [
    { text: 'True', fraction: right ? 1 : 0 },
    { text: 'False', fraction: right ? 0 : 1 },
  ];
  // `{T#wrong#right}`: the first feedback is for the wrong answer, the second for the right one
  const [wrongFeedback, rightFeedback] = [parts[1], parts[2]].map((text) => (text === undefined ? undefined : plainText(text)));
  if (wrongFeedback) answers[right ? 1 : 0].feedback = wrongFeedback;
  if (rightFeedback) answers[right ? 0 : 1].feedback = rightFeedback;
  return { text: stem, answers, single: true };
}

function multipleChoice(answerText: string, stem: string): Parsed {
  const parts = splitBefore(answerText, '~=');
  if (parts[0].trim() === '') parts.shift();
  else return `text "${parts[0].trim()}" before the first answer: each answer starts with = or ~`;
  const answers: InterchangeAnswer[] = [];
  for (const part of parts) {
    const answer = answerOf(part);
    if (typeof answer === 'string') return answer;
    answers.push(answer);
  }
  return { text: stem, answers, single: findUnescaped(answerText, '=') >= 0 };
}

/** The kind of question an answer list makes, as Moodle tells them apart. */
function kindOf(answerText: string): string {
  if (answerText === '') return 'essay';
  if (answerText.startsWith('#')) return 'numerical';
  // matching: every `=` answer pairs a question with an answer (an option that merely holds -> is not one)
  const pairs = splitBefore(answerText, '~=').filter((part) => part.trim() !== '');
  if (pairs.length > 0 && pairs.every((part) => part.startsWith('=') && findUnescaped(part, '->') >= 0)) return 'matching';
  if (TRUE_FALSE.test(splitBefore(answerText, '#')[0].trim())) return 'truefalse';
  if (findUnescaped(answerText, '~') >= 0) return 'multichoice';
  return 'short answer';
}

/** One question's text (title and comments already taken off) as a question, or why qbank cannot hold it. */
function parseQuestion(text: string): { parsed: Parsed; answerAt: number } {
  const open = findUnescaped(text, '{');
  if (open < 0) return { parsed: 'no answers between { and }: a description, not a question', answerAt: 0 };
  const close = findUnescaped(text, '}', open + 1);
  if (close < 0) return { parsed: 'the answers opened with { are never closed with }', answerAt: open };
  let answerText = text.slice(open + 1, close).trim();
  // text after the answers makes a missing-word question: `_____` marks where the answers were
  const written = text.slice(close + 1).trim() === '' ? text.slice(0, open) : text.slice(0, open) + '_____' + text.slice(close + 1);
  const stem = unescapeGift(written.trim().replace(FORMAT_MARKER, '').trim());
  let generalFeedback: string | undefined;
  const general = findUnescaped(answerText, '####');
  if (general >= 0) {
    generalFeedback = plainText(answerText.slice(general + 4));
    answerText = answerText.slice(0, general).trim();
  }
  const kind = kindOf(answerText);
  let parsed: Parsed;
  if (kind === 'truefalse') parsed = trueFalse(answerText, stem);
  else if (kind === 'multichoice') parsed = multipleChoice(answerText, stem);
  else parsed = `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} question: qbank holds multiple choice and true/false`;
  if (typeof parsed !== 'string' && generalFeedback) parsed.generalFeedback = generalFeedback;
  if (typeof parsed !== 'string' && stem === '') parsed = 'the question has no text before its answers';
  return { parsed, answerAt: open };
}

/** A question with its title, category and metadata, or the problem with it. */
function itemOf(block: Block, category: string | undefined): InterchangeItem {
  const exam = category === undefined ? undefined : examOfCategory(category);
  let text = block.text;
  if (text.startsWith('::')) {
    const end = findUnescaped(text, '::', 2);
    if (end < 0) return { line: block.line, source: block.source, exam, message: 'the title opened with :: is never closed with ::' };
    text = text.slice(end + 2);
  }
  if (typeof block.metadata === 'string') return { line: block.line, source: block.source, exam, message: block.metadata };
  const { parsed, answerAt } = parseQuestion(text);
  const offset = block.text.length - text.length + answerAt;
  if (typeof parsed === 'string') return { line: block.line, source: block.source, exam, message: parsed };
  const meta = block.metadata ?? {};
  return { ...parsed, line: block.line, answerLine: lineAt(block, offset), source: block.source, exam, ...meta };
}

/** Reads a GIFT file into questions (and problems), a batch per chunk of text. */
export async function* readGift(source: TextSource, onText?: () => void): AsyncGenerator<InterchangeItem[]> {
  let category: string | undefined;
  for await (const blocks of textBlocks(textLines(source, onText))) {
    const items: InterchangeItem[] = [];
    for (const lines of blocks) {
      const block = blockOf(lines);
      if (!block) continue;
      const categoryLine = /^\$CATEGORY:([^\n]*)\n?/i.exec(block.text);
      if (categoryLine) {
        category = categoryLine[1].trim();
        // a question right below its category line, without a blank line between
        const rest = block.text.slice(categoryLine[0].length);
        if (rest.trim() === '') continue;
        items.push(itemOf({ ...block, line: block.line + 1, text: rest }, category));
        continue;
      }
      items.push(itemOf(block, category));
    }
    yield items;
  }
}
