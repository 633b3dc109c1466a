import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import stringWidth from 'string-width';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, seededDatabase, sqlite, type TestDatabase } from './support/modes.js';
import { SHARED_OPEN_INTERVIEW } from './support/shared-fixtures.js';
import { haveCommands, startQbank, TmuxScreen } from './support/tmux.js';

/**
 * `qbank review` as an editor sees it, in a real pseudo-terminal (tmux) at ordinary sizes, on the
 * open-interview system's own records and on fixtures of our own (fixtures/review-desk). Every wait
 * is for content on the screen, never for a fixed time.
 */

const SHARED = SHARED_OPEN_INTERVIEW;
const DESK = join(process.cwd(), 'fixtures/review-desk/questions.json');

const hasTmux = haveCommands('tmux');

const words = (text: string) => text.split(/\s+/).filter(Boolean);
const squash = (text: string) => words(text).join(' ');

/** The screen's text as one run of words: a wrapped paragraph reads as the paragraph. */
const screenWords = (lines: string[]) => squash(lines.join(' '));

/** The rows of the paragraph that starts with the start of `text`, down to the next blank row or the marker. */
function blockOf(lines: string[], text: string): string[] {
  const start = words(text).slice(0, 3).join(' ');
  const first = lines.findIndex((line) => squash(line).includes(start));
  expect(first, `"${start}" on screen:\n${lines.join('\n')}`).toBeGreaterThanOrEqual(0);
  const block: string[] = [];
  for (const line of lines.slice(first, -1)) {
    if (!line.trim() || line.includes('── ')) break;
    block.push(line);
  }
  block[0] = block[0].slice(block[0].indexOf(start.split(' ')[0]));
  return block;
}

const LABEL = /^(?:✔|[A-F]\.)$/u;

/** Every word shown in `block` is a whole word of `text`: none was cut at the edge. */
function expectWordsWhole(block: string[], text: string): void {
  const whole = new Set(words(text));
  for (const token of words(block.join('\n'))) if (!LABEL.test(token)) expect(whole, `"${token}" is not a word of the text: cut at the edge?\n${block.join('\n')}`).toContain(token);
}

/** Wrapped greedily: the first word of a continuation line did not fit at the end of the line above. */
function expectNoEarlyBreak(block: string[], columns: number): void {
  for (let i = 0; i + 1 < block.length; i++) {
    const line = block[i].trimEnd();
    const next = block[i + 1];
    const indent = next.length - next.trimStart().length;
    const hang = line.length - line.replace(/^\s*(?:(?:[*•\-✔]|\d+[.)]|[A-Z][.)])\s+)*/u, '').length;
    // a continuation hangs under the text of the line above; a new option starts with its letter
    if (hang !== indent || LABEL.test(words(next)[0])) continue;
    const first = words(next)[0];
    expect(stringWidth(line) + 1 + stringWidth(first), `"${first}" would have fitted after "${line}"`).toBeGreaterThan(columns);
  }
}

/** Presses space until `text` is on screen (or the pane stops moving). */
async function pageDownUntil(screen: TmuxScreen, lines: string[], text: string): Promise<string[]> {
  for (let page = 0; page < 60 && !lines.join('\n').includes(text); page++) {
    const before = lines.join('\n');
    screen.keys('Space');
    lines = await screen.waitFor((now) => now !== before);
  }
  return lines;
}

function expectKeyLineLast(lines: string[]): void {
  expect(lines.at(-1)).toMatch(/a (approve|keep).*q quit/);
}

interface Algorithm {
  question: string;
  type: string;
  options: Array<{ text: string; isCorrect: boolean }>;
  explanation: string;
}

/** The open-interview system's multiple-choice tests, reshaped as a PingToPass bank for CCNA-200-301. */
function algorithmsBank(limit: number, maxCharacters = Infinity): Array<Record<string, unknown>> {
  const tests = JSON.parse(readFileSync(join(SHARED, 'data-tests-algorithms.json'), 'utf8')) as Array<{ questions: Algorithm[] }>;
  const questions = tests.flatMap((test) => test.questions).filter((q) => q.options.length >= 2 && q.options.length <= 6)
    .filter((q) => q.question.length + q.options.reduce((sum, o) => sum + o.text.length, 0) <= maxCharacters)
    .slice(0, limit);
  return questions.map((q, i) => {
    const row: Record<string, unknown> = {
      id: `q_algo_${String(i).padStart(3, '0')}`,
      exam_code: 'CCNA-200-301',
      type: q.options.filter((o) => o.isCorrect).length > 1 ? 'multiple' : 'single',
      text: q.question,
      correct: q.options.flatMap((o, n) => (o.isCorrect ? ['ABCDEF'[n]] : [])).join(';'),
      explanation: q.explanation,
      difficulty: 3,
    };
    q.options.forEach((o, n) => (row[`option_${'abcdef'[n]}`] = o.text));
    return row;
  });
}

/** The seeded PingToPass database made one whose pending queue is the reshaped algorithms bank, then our own fixtures. */
async function pingToPassDesk(t: TestDatabase, algorithms: number, maxCharacters?: number): Promise<Array<Record<string, unknown>>> {
  await sqlite(t, `UPDATE questions SET review_status = 'approved'`);
  const bank = algorithmsBank(algorithms, maxCharacters);
  writeFileSync(join(t.dir, 'algorithms.json'), JSON.stringify(bank));
  const imported = await runCli(['import', 'algorithms.json', DESK], { env: t.env, cwd: t.dir });
  expect(imported.code, imported.stderr).toBe(0);
  return bank;
}

function startReview(t: TestDatabase, screen: TmuxScreen, args: string[]): void {
  startQbank(screen, t, ['review', '--reviewer', 'ada@example.com', ...args]);
}

const SIZES = [
  { columns: 80, rows: 24 },
  { columns: 100, rows: 40 },
  { columns: 120, rows: 40 },
];

describe.runIf(hasTmux && existsSync(SHARED))('the review screen in a real terminal', () => {
  let t: TestDatabase | undefined;
  let screen: TmuxScreen | undefined;

  afterEach(async () => {
    screen?.close();
    await t?.close();
    screen = undefined;
    t = undefined;
  });

  // at 80×24 the real questions of ordinary length (stem and options up to 1,150 characters: most of them)
  it.each(SIZES)('PingToPass at $columns×$rows: header, stem, every option and the keys on the first screen, wrapped at word boundaries', async ({ columns, rows }) => {
    t = await seededDatabase('file', 'pingtopass');
    const bank = await pingToPassDesk(t, 3, columns === 80 ? 1_150 : undefined);
    screen = new TmuxScreen(columns, rows);
    startReview(t, screen, ['--schema', 'pingtopass']);
    for (const [n, question] of bank.entries()) {
      const lines = await screen.waitFor(`${n + 1} / ${bank.length + 3}`, String(question.id), 'q quit');
      expect(lines[0]).toContain('reviewer ada@example.com');
      const shown = screenWords(lines);
      expect(shown).toContain(squash(String(question.text)));
      for (const letter of 'abcdef') {
        const option = question[`option_${letter}`];
        if (option) expect(shown).toContain(`${letter.toUpperCase()}. ${squash(String(option))}`);
      }
      const options = 'abcdef'.split('').map((letter) => question[`option_${letter}`] ?? '').join(' ');
      const stem = blockOf(lines, String(question.text));
      const choices = blockOf(lines, String(question.option_a));
      expectWordsWhole(stem, String(question.text));
      expectWordsWhole(choices, options);
      expectNoEarlyBreak(stem, columns);
      expectNoEarlyBreak(choices, columns);
      expectKeyLineLast(lines);
      // markdown is rendered, not printed
      expect(lines.join('\n')).not.toMatch(/^\s*#{1,6} |```/m);
      screen.keys('s');
    }
    screen.keys('q');
    await screen.waitFor('qbank exited 0');
  }, 120_000);

  it('PingToPass at 80×24: a 400-word stem scrolls with the rest, a 200-line explanation is read to its end with the scroll keys, and a resize redraws at the same content', async () => {
    t = await seededDatabase('file', 'pingtopass');
    await pingToPassDesk(t, 0);
    screen = new TmuxScreen(80, 24);
    startReview(t, screen, ['--schema', 'pingtopass']);
    const desk = JSON.parse(readFileSync(DESK, 'utf8')) as Array<Record<string, string>>;

    // the long stem: its start on the first screen, a marker saying how much is below, keys at the bottom
    let lines = await screen.waitFor('q_desk_long_stem', 'more below (');
    expectKeyLineLast(lines);
    expect(lines.slice(-2).join('\n')).toMatch(/more below \(\d+ lines?\)/);
    const stem = blockOf(lines, desk[0].text);
    expectWordsWhole(stem, desk[0].text);
    expectNoEarlyBreak(stem, 80);
    lines = await pageDownUntil(screen, lines, 'D. Acknowledge after a cache write');
    expect(screenWords(lines)).toContain('A. Acknowledge after a quorum');
    expectKeyLineLast(lines);
    screen.keys('g');
    await screen.waitFor('A team runs a write-heavy service.');
    screen.keys('s');

    // wide characters: the option letters hang their text, nothing runs past the edge
    lines = await screen.waitFor('q_desk_wide', 'A. READ COMMITTED', 'B. SERIALIZABLE');
    for (const line of lines) expect(stringWidth(line), line).toBeLessThanOrEqual(80);
    expect(screenWords(lines)).toContain('SERIALIZABLE:');
    // the table fitted to the width, the link as text and URL, the mermaid source in a block
    screen.keys('G');
    lines = await screen.waitFor('mermaid diagram (source):', 'L-->>C: committed', '── end');
    expect(screenWords(lines)).toContain('See the PostgreSQL manual (https://www.postgresql.org/docs/current/transaction-iso.html) for details.');
    expectKeyLineLast(lines);
    screen.keys('b');
    lines = await screen.waitFor('┌', '│ REPEATABLE READ');
    for (const line of lines) expect(stringWidth(line), line).toBeLessThanOrEqual(80);
    screen.keys('s');

    // the 200-line explanation: page down with space until its last line shows
    lines = await screen.waitFor('q_desk_long_explanation', 'more below (');
    expect(screenWords(lines)).toContain('A. Once a quorum of replicas has written it');
    lines = await pageDownUntil(screen, lines, 'end marker 7Q2X');
    expect(lines.join('\n')).toContain('Last line of the explanation: the end marker 7Q2X.');
    expect(lines.join('\n')).not.toContain('more below');
    expectKeyLineLast(lines);

    // from the middle of the explanation, resize: the same step is on top, at the new width
    screen.keys('g');
    lines = await screen.waitFor('q_desk_long_explanation', (text) => !text.includes('7Q2X'));
    for (const page of [1, 2, 3, 4, 5]) {
      const before = lines.join('\n');
      screen.keys('Space');
      lines = await screen.waitFor((text) => text !== before);
      expect(page).toBeGreaterThan(0);
    }
    const step = Number(lines.find((line) => /Step \d{3}/.test(line))!.match(/Step (\d{3})/)![1]);
    // the top row is that step's first line, or the end of the one before it
    const onTop = (row: string) => row.includes(`Step ${String(step).padStart(3, '0')}`) || row.includes(`Step ${String(step - 1).padStart(3, '0')}`);
    screen.resize(120, 40);
    // tmux reflows the old screen first; qbank's redraw is the one with the key line on the last row
    const redrawn = (columns: number, drawn: RegExp) => (text: string) => {
      const rows = text.split('\n');
      return /q quit/.test(rows.at(-1) ?? '') && rows.every((line) => stringWidth(line) <= columns) && rows.some((line) => drawn.test(line));
    };
    // at 120 a step is one row; at 80 it continues on a row hanging under its text
    const oneRowStep = /^ {6}\d+\. Step \d{3} .* answers the client\.$/;
    const hangingRow = /^ {10}\S/;
    lines = await screen.waitFor(redrawn(120, oneRowStep));
    expect(lines.length).toBe(40);
    expect(onTop(lines[1]), lines.join('\n')).toBe(true);
    expectKeyLineLast(lines);
    screen.resize(80, 24);
    lines = await screen.waitFor(redrawn(80, hangingRow));
    expect(lines[1].includes(`Step ${String(step - 1).padStart(3, '0')}`) || onTop(lines[1]) || lines[1].includes('answers the client'), lines.join('\n')).toBe(true);
    expectKeyLineLast(lines);

    screen.keys('q');
    await screen.waitFor('qbank exited 0');
  }, 120_000);

  it.each(SIZES)('open-interview flagged questions at $columns×$rows: the question first, then answer, explanation, diagram and history in the scrolling pane', async ({ columns, rows }) => {
    t = await createTestDatabase('file');
    expect((await runCli(['db', 'push', '--schema', 'open-interview'], { env: t.env, cwd: t.dir })).code).toBe(0);
    const imported = await runCli(['import', join(SHARED, 'data-questions.json'), '--skip-invalid', '--ignore-unknown-columns'], { env: t.env, cwd: t.dir });
    expect(imported.code, imported.stderr).toBe(0);
    const flagged = await sqlite(t, `SELECT id, question, diagram FROM questions WHERE diagram IS NOT NULL AND diagram <> '' ORDER BY rowid LIMIT 2`);
    await sqlite(t, `UPDATE questions SET status = 'flagged' WHERE id IN (${flagged.map((q) => `'${q.id}'`).join(', ')})`);
    screen = new TmuxScreen(columns, rows);
    startReview(t, screen, ['--schema', 'open-interview']);
    const question = flagged[0];
    let lines = await screen.waitFor(`1 / 2`, String(question.id), 'q quit');
    expect(screenWords(lines)).toContain(squash(String(question.question)));
    const asked = blockOf(lines, String(question.question));
    expectWordsWhole(asked, String(question.question));
    expectNoEarlyBreak(asked, columns);
    expectKeyLineLast(lines);
    // page through the whole item: markdown rendered on every screen, the diagram as its source
    const seen = new Set<string>();
    for (let page = 0; page < 60; page++) {
      for (const line of lines) seen.add(line.trim());
      expect(lines.join('\n')).not.toMatch(/^\s*#{1,6} |```|\*\*\S/m);
      for (const line of lines) expect(stringWidth(line), line).toBeLessThanOrEqual(columns);
      expectKeyLineLast(lines);
      if (!lines.join('\n').includes('more below')) break;
      const before = lines.join('\n');
      screen.keys('Space');
      lines = await screen.waitFor((text) => text !== before);
    }
    for (const heading of ['Answer', 'Explanation', 'Diagram', 'History']) expect(seen, heading).toContain(heading);
    expect(seen).toContain('mermaid diagram (source):');
    screen.keys('q');
    await screen.waitFor('qbank exited 0');
  }, 120_000);

  it('open-interview work queue at 80×24: the same layout, the claim in the header, the key line on the last row', async () => {
    t = await seededDatabase('file', 'open-interview');
    const [first] = await sqlite(t, `SELECT w.id, q.question FROM work_queue w JOIN questions q ON q.id = w.item_id WHERE w.status = 'pending' ORDER BY w.priority, w.id LIMIT 1`);
    screen = new TmuxScreen(80, 24);
    startReview(t, screen, ['--schema', 'open-interview', '--queue', 'work']);
    const lines = await screen.waitFor(`#${first.id}`, 'claimed by ada@example.com', 'q quit');
    expect(lines[0]).toContain('claimed by ada@example.com');
    expect(screenWords(lines)).toContain(squash(String(first.question)));
    for (const line of lines) expect(stringWidth(line), line).toBeLessThanOrEqual(80);
    expect(lines.at(-1)).toMatch(/a \S+.*q quit/);
    screen.keys('q');
    await screen.waitFor('qbank exited 0');
  }, 120_000);
});
