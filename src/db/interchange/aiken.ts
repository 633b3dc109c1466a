import { open } from 'node:fs/promises';
import type { TextSource } from '../import/text-source.js';
import { LETTERS, type InterchangeItem, type InterchangeQuestion } from './model.js';
import { textLines, type TextLine } from './text-blocks.js';

/**
 * Aiken, as Moodle reads it (question/format/aiken): a question is one line of text, then its
 * options, each on a line starting with a capital letter and `.` or `)` (`A.`, `B)`, the space
 * after it optional), then `ANSWER: X`. One right answer; no feedback, no categories. Blank lines
 * between questions are optional. Moodle reports a broken question at the line where it notices
 * (the next question's line, for one without `ANSWER:`); qbank names the question's own line and
 * says which line showed the problem.
 */

const OPTION = /^([A-Z])[.)][ \t]?/;
const ANSWER = /^ANSWER:/;

/** Content that reads as Aiken: some `ANSWER: X` lines, each after lettered options. */
export function looksLikeAiken(text: string): boolean {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  let options = 0;
  let answers = 0;
  for (const line of lines) {
    if (OPTION.test(line)) options++;
    else if (/^ANSWER:\s*[A-Z]\b/.test(line)) {
      if (options >= 2) answers++;
      options = 0;
    }
  }
  return answers > 0;
}

/** Whether the start of the file at `path` looks like Aiken (see `looksLikeAiken`). */
export async function fileLooksLikeAiken(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    // the sample can end inside a question: judge the complete lines
    return looksLikeAiken(bytesRead === buffer.length ? text.slice(0, text.lastIndexOf('\n')) : text);
  } finally {
    await handle.close();
  }
}

interface Building {
  line: number;
  lines: TextLine[];
  text: string;
  options: string[];
}

/** Reads an Aiken file into questions (and problems, each at its line), a batch per chunk of text. */
export async function* readAiken(source: TextSource, onText?: () => void): AsyncGenerator<InterchangeItem[]> {
  let current: Building | undefined;
  const sourceOf = (lines: TextLine[]) => lines.map((entry) => entry.text).join('\n');
  for await (const batch of textLines(source, onText)) {
    const items: InterchangeItem[] = [];
    for (const entry of batch) {
      const text = entry.text.replace(/^\uFEFF/, '').trim();
      // Moodle skips lines shorter than two characters
      if (text.length < 2) continue;
      const option = OPTION.exec(text);
      if (option) {
        if (!current) items.push({ line: entry.line, source: entry.text, message: 'an option before any question: the question is not started' });
        else {
          current.options.push(text.slice(option[0].length).trim());
          current.lines.push(entry);
        }
        continue;
      }
      if (ANSWER.test(text)) {
        if (!current) {
          items.push({ line: entry.line, source: entry.text, message: 'ANSWER with no question before it: the question is not started' });
          continue;
        }
        current.lines.push(entry);
        items.push(finish(current, text.slice(text.indexOf(':') + 1).trim(), entry.line, sourceOf(current.lines)));
        current = undefined;
        continue;
      }
      if (current) {
        items.push({ line: current.line, source: sourceOf(current.lines), message: `the question has no ANSWER line: line ${entry.line} starts the next question before it is completed` });
      }
      current = { line: entry.line, lines: [entry], text, options: [] };
    }
    yield items;
  }
  if (current) yield [{ line: current.line, source: sourceOf(current.lines), message: 'the question has no ANSWER line: the file ends before it is completed' }];
}

function finish(question: Building, answer: string, answerLine: number, source: string): InterchangeItem {
  if (question.options.length < 2) return { line: question.line, source, message: `a question needs at least two options (ANSWER on line ${answerLine})` };
  const letter = answer.slice(0, 1);
  const right = LETTERS.indexOf(letter);
  if (right < 0 || right >= question.options.length || letter === '') {
    return { line: question.line, source, message: `ANSWER "${answer}" on line ${answerLine} names no option (this question has ${question.options.length}: A-${LETTERS[question.options.length - 1]})` };
  }
  const result: InterchangeQuestion = {
    line: question.line,
    source,
    text: question.text,
    answers: question.options.map((text, index) => ({ text, fraction: index === right ? 1 : 0 })),
    single: true,
  };
  return result;
}

/**
 * The format of a `.txt` file, which may be delimited text or Aiken: Aiken when its content reads
 * as Aiken, else `format` (what the name says). A file that cannot be read keeps `format`; the
 * import says why it cannot be read.
 */
export async function textFormatOf<F extends string>(path: string, format: F | undefined): Promise<F | 'aiken' | undefined> {
  if (!/\.txt$/i.test(path) || format === 'aiken') return format;
  try {
    return (await fileLooksLikeAiken(path)) ? 'aiken' : format;
  } catch {
    return format;
  }
}
