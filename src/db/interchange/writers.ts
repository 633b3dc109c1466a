import { GIFT_METADATA } from './gift.js';
import type { InterchangeFormat } from './model.js';

/**
 * Writers of PingToPass questions (the export's rows: `option_a…option_f`, `correct` letters) as
 * Moodle XML, GIFT and Aiken. What the format holds comes back exactly when the file is imported
 * again: texts, options, the right answers, the explanation, the exam (as the category), and in
 * GIFT and Moodle XML the id, difficulty, objective and tags (in elements the format has, else in a
 * `qbank:` comment Moodle ignores). A question a format cannot hold (Aiken: several right answers,
 * a line break; every format: drag-drop, hotspot and simulation questions) is left out and counted.
 */

export interface InterchangeColumn {
  name: string;
}

/** Questions left out of an export because the format cannot hold them: how many, and why (the first few). */
export interface SkippedQuestions {
  count: number;
  /** The first 20, by id. */
  reasons: Array<{ id: string; reason: string }>;
  /** Exam code to how many of its questions were left out. */
  byExam: Record<string, number>;
}

export interface InterchangeWriter {
  start(): string;
  record(values: unknown[], first: boolean): string;
  end(): string;
  skipped(): SkippedQuestions;
}

interface ExportedQuestion {
  id: string;
  exam: string;
  type: string;
  text: string;
  options: string[];
  correct: number[];
  explanation: string | null;
  difficulty: number | null;
  objectiveId: string | null;
  tags: string[] | null;
}

const OPTION_COLUMNS = ['option_a', 'option_b', 'option_c', 'option_d', 'option_e', 'option_f'];

function reader(columns: InterchangeColumn[]): (values: unknown[]) => ExportedQuestion {
  const at = new Map(columns.map((column, index) => [column.name, index]));
  const get = (values: unknown[], name: string) => {
    const index = at.get(name);
    return index === undefined ? null : values[index];
  };
  const text = (value: unknown) => (value === null || value === undefined ? null : String(value));
  return (values) => {
    const options = OPTION_COLUMNS.map((name) => text(get(values, name))).filter((option): option is string => option !== null);
    const letters = String(get(values, 'correct') ?? '').split(/[;,\s]+/).filter(Boolean);
    const tags = text(get(values, 'tags'));
    let tagList: string[] | null = null;
    try {
      tagList = tags === null ? null : (JSON.parse(tags) as string[]);
    } catch {
      tagList = [tags!];
    }
    const difficulty = get(values, 'difficulty');
    return {
      id: String(get(values, 'id')),
      exam: String(get(values, 'exam_code') ?? ''),
      type: String(get(values, 'type') ?? 'single'),
      text: String(get(values, 'text') ?? ''),
      options,
      correct: letters.map((letter) => letter.toUpperCase().charCodeAt(0) - 65),
      explanation: text(get(values, 'explanation')),
      difficulty: difficulty === null || difficulty === undefined ? null : Number(difficulty),
      objectiveId: text(get(values, 'objective_id')),
      tags: Array.isArray(tagList) ? tagList.map(String) : null,
    };
  };
}

/** Grade of each right answer of a multiple-answer question, as Moodle writes it (33.33333 for a third). */
function shareOf(count: number): string {
  return String(Math.round((100 / count) * 100000) / 100000);
}

function notHeld(question: ExportedQuestion): string | undefined {
  if (question.type !== 'single' && question.type !== 'multiple') return `a ${question.type} question: the format holds multiple choice`;
  if (question.options.length < 2) return 'fewer than two options';
  if (question.correct.length === 0) return 'no right answer';
  return undefined;
}

/** Common to the writers: reading rows, counting what is left out. */
function writerOf(columns: InterchangeColumn[], parts: { start: string; end: string; question: (question: ExportedQuestion) => string | { skip: string } }): InterchangeWriter {
  const read = reader(columns);
  const skipped: SkippedQuestions = { count: 0, reasons: [], byExam: {} };
  return {
    start: () => parts.start,
    end: () => parts.end,
    skipped: () => skipped,
    record(values) {
      const question = read(values);
      const reason = notHeld(question);
      const written = reason ? { skip: reason } : parts.question(question);
      if (typeof written === 'string') return written;
      skipped.count++;
      skipped.byExam[question.exam] = (skipped.byExam[question.exam] ?? 0) + 1;
      if (skipped.reasons.length < 20) skipped.reasons.push({ id: question.id, reason: written.skip });
      return '';
    },
  };
}

/** GIFT's special characters escaped; a line break as `\n` (GIFT questions are read line by line). */
export function escapeGift(text: string): string {
  return text.replace(/[\\~=#{}:]/g, (char) => `\\${char}`).replace(/\r?\n/g, '\\n').replace(/\r/g, '');
}

function metadataJson(question: ExportedQuestion, withTags: boolean): string {
  const meta: Record<string, unknown> = { id: question.id };
  if (question.difficulty !== null) meta.difficulty = question.difficulty;
  if (question.objectiveId !== null) meta.objective_id = question.objectiveId;
  if (withTags && question.tags !== null) meta.tags = question.tags;
  return JSON.stringify(meta);
}

export function giftWriter(columns: InterchangeColumn[]): InterchangeWriter {
  let exam: string | undefined;
  return writerOf(columns, {
    start: '',
    end: '',
    question(question) {
      let text = '';
      if (question.exam !== exam) {
        exam = question.exam;
        text += `$CATEGORY: $course$/top/${question.exam.replace(/\//g, '//')}\n\n`;
      }
      const single = question.type === 'single';
      const share = shareOf(question.correct.length);
      const answers = question.options.map((option, index) => {
        const right = question.correct.includes(index);
        // an explicit weight keeps an option that starts with % from reading as one
        const explicit = option.startsWith('%');
        const weight = right ? (single ? (explicit ? '=%100%' : '=') : `~%${share}%`) : explicit ? '~%0%' : '~';
        return `\t${weight}${escapeGift(option)}\n`;
      });
      const general = question.explanation === null ? '' : `\t####${escapeGift(question.explanation)}\n`;
      text += `${GIFT_METADATA}${metadataJson(question, true)}\n::${escapeGift(question.id)}::${escapeGift(question.text)}{\n${answers.join('')}${general}}\n\n`;
      return text;
    },
  });
}

export function aikenWriter(columns: InterchangeColumn[]): InterchangeWriter {
  return writerOf(columns, {
    start: '',
    end: '',
    question(question) {
      if (question.correct.length !== 1) return { skip: `${question.correct.length} right answers: Aiken holds one` };
      const texts = [question.text, ...question.options];
      if (texts.some((text) => /[\r\n]/.test(text))) return { skip: 'a line break in its text or an option: an Aiken question is one line' };
      if (/^[A-Z][.)]/.test(question.text.trim()) || /^ANSWER:/.test(question.text.trim())) return { skip: 'its text would read as an option or answer line' };
      if (texts.some((text) => text.trim().length === 0) || question.text.trim().length < 2) return { skip: 'an empty text or option' };
      const options = question.options.map((option, index) => `${String.fromCharCode(65 + index)}. ${option}\n`).join('');
      return `${question.text}\n${options}ANSWER: ${String.fromCharCode(65 + question.correct[0])}\n\n`;
    },
  });
}

/** Characters XML 1.0 cannot hold, not even escaped. */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/\r/g, '&#13;');
}

/** An element's text: CDATA keeps it exactly (split where it holds `]]>`); a carriage return, which XML turns into a line feed, is written as a reference. */
function xmlText(text: string): string {
  if (text === '') return '<text></text>';
  if (text.includes('\r')) return `<text>${xmlEscape(text)}</text>`;
  return `<text><![CDATA[${text.replace(/]]>/g, ']]]]><![CDATA[>')}]]></text>`;
}

/** html when the text holds HTML tags (it is shown as HTML), else plain_text (shown as written). */
function textFormat(text: string): string {
  return /<\/?[a-z][a-z0-9]*(\s[^<>]*)?\/?>/i.test(text) ? 'html' : 'plain_text';
}

function moodleQuestion(question: ExportedQuestion): string | { skip: string } {
  const all = [question.text, question.explanation ?? '', ...question.options, ...(question.tags ?? []), question.id, question.exam];
  if (all.some((text) => NOT_XML.test(text))) return { skip: 'a control character XML cannot hold' };
  const single = question.type === 'single';
  const share = shareOf(question.correct.length);
  const answers = question.options.map((option, index) => {
    const fraction = question.correct.includes(index) ? (single ? '100' : share) : '0';
    return `    <answer fraction="${fraction}" format="${textFormat(option)}">\n      ${xmlText(option)}\n      <feedback format="html"><text></text></feedback>\n    </answer>\n`;
  });
  const meta = metadataJson(question, false).replace(/-(?=-)/g, '\\u002d');
  // an empty list is an empty <tags/>; no list, no element
  const tags = question.tags === null ? '' : `    <tags>\n${question.tags.map((tag) => `      <tag>${xmlText(tag)}</tag>\n`).join('')}    </tags>\n`;
  const explanation = question.explanation ?? '';
  return (
    `  <question type="multichoice">\n` +
    `    <!-- qbank: ${meta} -->\n` +
    `    <name><text>${xmlEscape(question.id)}</text></name>\n` +
    `    <questiontext format="${textFormat(question.text)}">${xmlText(question.text)}</questiontext>\n` +
    `    <generalfeedback format="${textFormat(explanation)}">${xmlText(explanation)}</generalfeedback>\n` +
    `    <defaultgrade>1</defaultgrade>\n    <penalty>0.3333333</penalty>\n    <hidden>0</hidden>\n` +
    `    <idnumber>${xmlEscape(question.id)}</idnumber>\n` +
    `    <single>${single ? 'true' : 'false'}</single>\n    <shuffleanswers>true</shuffleanswers>\n    <answernumbering>abc</answernumbering>\n` +
    answers.join('') +
    tags +
    `  </question>\n`
  );
}

export function moodleXmlWriter(columns: InterchangeColumn[]): InterchangeWriter {
  let exam: string | undefined;
  return writerOf(columns, {
    start: '<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n',
    end: '</quiz>\n',
    question(question) {
      const written = moodleQuestion(question);
      if (typeof written !== 'string') return written;
      let category = '';
      if (question.exam !== exam) {
        exam = question.exam;
        category = `  <question type="category">\n    <category>${xmlText(`$course$/top/${question.exam.replace(/\//g, '//')}`)}</category>\n    <info format="html"><text></text></info>\n  </question>\n`;
      }
      return category + written;
    },
  });
}

export function interchangeWriter(format: InterchangeFormat, columns: InterchangeColumn[]): InterchangeWriter {
  return format === 'gift' ? giftWriter(columns) : format === 'aiken' ? aikenWriter(columns) : moodleXmlWriter(columns);
}

/** The export's counts without the questions the writer left out; returns the rows written. */
export function leaveOutSkipped(rows: number, groups: Map<string, number>, skipped: SkippedQuestions): number {
  for (const [exam, count] of Object.entries(skipped.byExam)) {
    const left = (groups.get(exam) ?? 0) - count;
    if (left > 0) groups.set(exam, left);
    else groups.delete(exam);
  }
  return rows - skipped.count;
}
