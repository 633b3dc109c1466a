import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { FileProblem } from '../import/records.js';
import { InvalidBytesError, type TextSource } from '../import/text-source.js';
import { examOfCategory } from './gift.js';
import type { InterchangeAnswer, InterchangeItem } from './model.js';

/**
 * Moodle XML (question/format/xml): `<quiz>` holding `<question type="…">` elements. The file is
 * cut into its `<question>` elements by a small scanner (which steps over comments and CDATA), and
 * each is parsed on its own with fast-xml-parser, so memory holds one question and one chunk of
 * text whatever the file's size.
 *
 * qbank reads `multichoice` (single and multiple answers) and `truefalse`; `category` questions set
 * the exam of the questions after them (the path's last segment). Texts are stored as given:
 * HTML stays HTML (the `format` attribute is not kept), entities and CDATA are decoded by XML's
 * rules. `<idnumber>` is the question's id, `<tags>` its tags, `generalfeedback` its explanation; a
 * comment `<!-- qbank: {"difficulty":3,"objective_id":"1.2"} -->` in the question, as `qbank
 * export` writes it, gives what Moodle's format has no element for. Embedded files (`<file>`, the
 * images of a question) are refused: qbank keeps an exhibit as a URL, not as file content.
 */

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  cdataPropName: '__cdata',
  isArray: (name) => name === 'answer' || name === 'tag' || name === 'file' || name === '__cdata',
  processEntities: true,
  // numeric character references are decoded by `decodeCharacterReferences`: the parser's own
  // option for them also loads HTML's entity table on every parse, six times the cost of the rest
  htmlEntities: false,
  // `isArray` looks at the tag's name alone: without this the parser builds the tag's path as a string for every tag
  jPath: false,
});

/** A noncharacter that stands for `&#13;` through the parser. */
const CARRIAGE_RETURN = '\uFDD0';
const CARRIAGE_RETURNS = /\uFDD0/g;

const MARKUP_CHARACTERS: Record<string, string> = { '<': '&lt;', '&': '&amp;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** `&#233;` and `&#xE9;` as the characters they stand for (outside CDATA, where they are text); markup characters stay references. */
export function decodeCharacterReferences(xml: string): string {
  if (!xml.includes('&#')) return xml;
  return xml
    .split(/(<!\[CDATA\[[\s\S]*?\]\]>)/)
    .map((part, index) =>
      index % 2 === 1
        ? part
        : part.replace(/&#(?:x([0-9a-fA-F]+)|([0-9]+));/g, (reference, hex: string | undefined, decimal: string | undefined) => {
            const code = hex !== undefined ? parseInt(hex, 16) : Number(decimal);
            if (!(code > 0 && code <= 0x10ffff) || (code >= 0xd800 && code <= 0xdfff)) return reference;
            const char = String.fromCodePoint(code);
            // the parser turns a carriage return into a line feed, as XML does with raw ones: a written one is kept apart
            if (char === '\r') return CARRIAGE_RETURN;
            return MARKUP_CHARACTERS[char] ?? char;
          }),
    )
    .join('');
}

const HOLDS = 'qbank holds multiple choice and true/false';

type Node = Record<string, unknown>;

/** An element's text: a CDATA section exactly as written; plain text trimmed (as Moodle reads it). */
function textOf(node: unknown): string {
  if (node === undefined || node === null) return '';
  if (typeof node === 'string') return node.trim().replace(CARRIAGE_RETURNS, '\r');
  if (typeof node !== 'object') return String(node);
  const element = node as Node;
  const cdata = element.__cdata as string[] | undefined;
  const plain = typeof element['#text'] === 'string' ? (element['#text'] as string) : '';
  if (cdata && plain.trim() === '') return cdata.join('');
  return (plain + (cdata ?? []).join('')).trim().replace(CARRIAGE_RETURNS, '\r');
}

/** The `<text>` of an element such as `<questiontext>` or `<feedback>`. */
function innerText(node: unknown): string {
  if (node === undefined || node === null || typeof node !== 'object') return '';
  return textOf((node as Node).text);
}

function filesIn(node: unknown): string[] {
  if (node === undefined || node === null || typeof node !== 'object') return [];
  const files = (node as Node).file as Node[] | undefined;
  return (files ?? []).map((file) => String((file['@'] as Node | undefined)?.name ?? 'a file'));
}

function metadataOf(xml: string): { difficulty?: number; objectiveId?: string } | string {
  const comment = /<!--\s*qbank:\s*([\s\S]*?)\s*-->/.exec(xml);
  if (!comment) return {};
  try {
    const value = JSON.parse(comment[1]) as Record<string, unknown>;
    const meta: { difficulty?: number; objectiveId?: string } = {};
    if (typeof value.difficulty === 'number') meta.difficulty = value.difficulty;
    if (typeof value.objective_id === 'string') meta.objectiveId = value.objective_id;
    return meta;
  } catch {
    return 'the qbank comment is not valid JSON';
  }
}

interface ElementAt {
  xml: string;
  line: number;
}

function lineOf(element: ElementAt, offset: number): number {
  let line = element.line;
  for (let i = 0; i < offset && i < element.xml.length; i++) if (element.xml.charCodeAt(i) === 10) line++;
  return line;
}

/** One `<question>` element as a question, a category change, or a problem. */
export function readQuestionElement(element: ElementAt, exam: string | undefined): InterchangeItem | { category: string } {
  const problem = (message: string, at = element.line): InterchangeItem => ({ line: at, source: element.xml, exam, message });
  const valid = XMLValidator.validate(element.xml);
  if (valid !== true) return problem(`not well-formed XML: ${valid.err.msg}`, element.line + valid.err.line - 1);
  const question = (parser.parse(decodeCharacterReferences(element.xml)) as Node).question as Node;
  const type = String((question['@'] as Node | undefined)?.type ?? '');
  if (type === 'category') return { category: innerText(question.category) };
  if (type !== 'multichoice' && type !== 'truefalse') return problem(`${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type || 'untyped'} question: ${HOLDS}`);
  const answerAt = element.xml.indexOf('<answer');
  const answerLine = answerAt >= 0 ? lineOf(element, answerAt) : element.line;
  const answerNodes = (question.answer as Node[] | undefined) ?? [];
  const embedded = [...filesIn(question.questiontext), ...filesIn(question.generalfeedback), ...answerNodes.flatMap((answer) => [...filesIn(answer), ...filesIn(answer.feedback)])];
  if (embedded.length > 0) return problem(`embeds ${embedded.join(', ')}: qbank keeps an exhibit as a URL, not as file content`);
  const answers: InterchangeAnswer[] = [];
  for (const node of answerNodes) {
    const fraction = Number((node['@'] as Node | undefined)?.fraction ?? 0);
    if (!Number.isFinite(fraction)) return problem(`an answer's fraction "${String((node['@'] as Node).fraction)}" is not a number`, answerLine);
    const answer: InterchangeAnswer = { text: textOf(node.text), fraction: fraction / 100 };
    const feedback = innerText(node.feedback);
    if (feedback !== '') answer.feedback = feedback;
    answers.push(answer);
  }
  if (type === 'truefalse') {
    // Moodle's true/false answers are the words true and false: qbank's two options say True and False
    for (const answer of answers) answer.text = /^true$/i.test(answer.text.trim()) ? 'True' : /^false$/i.test(answer.text.trim()) ? 'False' : answer.text;
  }
  const meta = metadataOf(element.xml);
  if (typeof meta === 'string') return problem(meta);
  // a question without <tags> says nothing about them; an empty <tags/> is an empty list
  const tagsNode = question.tags;
  const tagNodes = typeof tagsNode === 'object' && tagsNode !== null ? ((tagsNode as Node).tag as Node[] | undefined) : undefined;
  const tags = tagsNode === undefined ? undefined : (tagNodes ?? []).map((tag) => textOf(tag.text));
  const id = textOf(question.idnumber);
  const general = innerText(question.generalfeedback);
  return {
    line: element.line,
    answerLine,
    source: element.xml,
    exam,
    text: innerText(question.questiontext),
    answers,
    single: type === 'truefalse' || !/^(false|0)$/i.test(textOf(question.single)),
    ...(general !== '' ? { generalFeedback: general } : {}),
    ...(tags !== undefined ? { tags } : {}),
    ...(id !== '' ? { id } : {}),
    ...meta,
  };
}

/**
 * Cuts text into `<question>` elements as it streams in. `push` takes the next chunk and returns
 * the elements it completed; what is left (part of a question) waits for the next chunk.
 */
export class QuestionScanner {
  private buffer = '';
  /** The line at which `buffer` starts. */
  private line = 1;
  private sawQuiz = false;

  push(text: string): ElementAt[] {
    this.buffer += text;
    const found: ElementAt[] = [];
    let at = 0;
    // lines are counted once, up to each element's start
    let counted = 0;
    const lineAt = (offset: number) => {
      this.line += countLines(this.buffer, counted, offset);
      counted = offset;
      return this.line;
    };
    for (;;) {
      const next = this.nextElement(at);
      if (next === undefined) break;
      if (next.skipTo !== undefined) {
        at = next.skipTo;
        continue;
      }
      found.push({ xml: this.buffer.slice(next.start, next.end), line: lineAt(next.start) });
      at = next.end;
    }
    lineAt(at);
    this.buffer = this.buffer.slice(at);
    return found;
  }

  /** At the end of the file: anything left is an element that never closed. */
  end(): void {
    const open = this.buffer.search(/<question[\s>/]/);
    if (open >= 0) throw new FileProblem([{ line: this.line + countLines(this.buffer, 0, open), message: 'a <question> element is never closed with </question>' }]);
    if (!this.sawQuiz) throw new FileProblem([{ line: 1, message: 'not Moodle XML: no <quiz> element' }]);
  }

  /** The next complete question element from `at`, or a position to skip to, or undefined when more text is needed. */
  private nextElement(at: number): { start: number; end: number; skipTo?: undefined } | { skipTo: number } | undefined {
    const b = this.buffer;
    const start = b.indexOf('<', at);
    // no tag starts in what is left: it is text between elements
    if (start < 0) return at < b.length ? { skipTo: b.length } : undefined;
    const skipPast = (close: string) => {
      const end = b.indexOf(close, start);
      return end < 0 ? undefined : { skipTo: end + close.length };
    };
    if (b.startsWith('<!--', start)) return skipPast('-->');
    if (b.startsWith('<![CDATA[', start)) return skipPast(']]>');
    if (b.startsWith('<?', start)) return skipPast('?>');
    if (b.length - start < 10) return undefined;
    if (!/^<question[\s>/]/.test(b.slice(start, start + 10))) {
      if (/^<quiz[\s>/]/.test(b.slice(start, start + 6))) this.sawQuiz = true;
      return skipPast('>');
    }
    const end = this.closeOfQuestion(start);
    return end === undefined ? undefined : { start, end };
  }

  private closeOfQuestion(start: number): number | undefined {
    const b = this.buffer;
    let i = start + 1;
    for (;;) {
      const next = b.indexOf('<', i);
      if (next < 0) return undefined;
      if (b.startsWith('</question>', next)) return next + '</question>'.length;
      const close = b.startsWith('<![CDATA[', next) ? ']]>' : b.startsWith('<!--', next) ? '-->' : undefined;
      if (close) {
        const end = b.indexOf(close, next);
        if (end < 0) return undefined;
        i = end + close.length;
      } else if (b.length - next < '</question>'.length) return undefined;
      else i = next + 1;
    }
  }
}

function countLines(text: string, from: number, to: number): number {
  let lines = 0;
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === 10) lines++;
  return lines;
}

/** Reads a Moodle XML file into questions (and problems), a batch per chunk of text. */
export async function* readMoodleXml(source: TextSource, onText?: () => void): AsyncGenerator<InterchangeItem[]> {
  const scanner = new QuestionScanner();
  let exam: string | undefined;
  const take = (elements: ElementAt[]): InterchangeItem[] => {
    const items: InterchangeItem[] = [];
    for (const element of elements) {
      const item = readQuestionElement(element, exam);
      if ('category' in item) exam = examOfCategory(item.category);
      else items.push(item);
    }
    return items;
  };
  try {
    for await (const text of source.chunks()) {
      onText?.();
      yield take(scanner.push(text));
    }
  } catch (error) {
    if (error instanceof InvalidBytesError) throw new FileProblem([{ line: 1, message: `bytes at byte offset ${error.byteOffset} are not valid ${error.encoding}` }]);
    throw error;
  }
  scanner.end();
}
