import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import stringWidth from 'string-width';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/modes.js';
import { SHARED_OPEN_INTERVIEW } from './support/shared-fixtures.js';

/**
 * `qbank review` as an editor sees it, in a real pseudo-terminal (tmux) at ordinary sizes, on the
 * open-interview system's own records and on fixtures of our own (fixtures/review-desk). Every wait
 * is for content on the screen, never for a fixed time.
 */

const SHARED = SHARED_OPEN_INTERVIEW;
const DESK = join(process.cwd(), 'fixtures/review-desk/questions.json');

const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
})();

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

type ScreenCheck = string | RegExp | ((screen: string) => boolean);

class TmuxScreen {
  private readonly socket = `qbank-desk-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly session = 'desk';

  constructor(
    public columns: number,
    public rows: number,
  ) {}

  start(command: string): void {
    this.tmux('-f', '/dev/null', 'new-session', '-d', '-x', String(this.columns), '-y', String(this.rows), '-s', this.session, command);
    this.tmux('set-option', '-t', this.session, 'remain-on-exit', 'on');
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** The screen's rows, every one of them (capture-pane drops none, trailing blanks included). */
  lines(): string[] {
    const text = this.tmux('capture-pane', '-p', '-t', this.session);
    const lines = text.replace(/\n$/, '').split('\n');
    while (lines.length < this.rows) lines.push('');
    return lines;
  }

  async waitFor(...checks: ScreenCheck[]): Promise<string[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const lines = this.lines();
      const screen = lines.join('\n');
      if (checks.every((p) => (typeof p === 'string' ? screen.includes(p) : typeof p === 'function' ? p(screen) : p.test(screen)))) return lines;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${checks.join(', ')}; the screen:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.session, ...keys);
  }

  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.tmux('resize-window', '-t', this.session, '-x', String(columns), '-y', String(rows));
  }

  close(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
  }
}

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

async function sql(t: TestDatabase, statement: string): Promise<Record<string, unknown>[]> {
  const client = createClient({ url: `file:${t.dbPath}` });
  try {
    return (await client.execute(statement)).rows as unknown as Record<string, unknown>[];
  } finally {
    client.close();
  }
}

/** A PingToPass database whose pending queue is the reshaped algorithms bank, then our own fixtures. */
async function pingToPassDesk(t: TestDatabase, algorithms: number, maxCharacters?: number): Promise<Array<Record<string, unknown>>> {
  expect((await runCli(['db', 'push', '--schema', 'pingtopass'], { env: t.env, cwd: t.dir })).code).toBe(0);
  expect((await runCli(['db', 'seed'], { env: t.env, cwd: t.dir })).code).toBe(0);
  await sql(t, `UPDATE questions SET review_status = 'approved'`);
  const bank = algorithmsBank(algorithms, maxCharacters);
  writeFileSync(join(t.dir, 'algorithms.json'), JSON.stringify(bank));
  const imported = await runCli(['import', 'algorithms.json', DESK], { env: t.env, cwd: t.dir });
  expect(imported.code, imported.stderr).toBe(0);
  return bank;
}

function startReview(t: TestDatabase, screen: TmuxScreen, args: string[]): void {
  const entry = join(t.dir, 'qbank.mjs');
  writeFileSync(entry, `const { main } = await import(${JSON.stringify(join(process.cwd(), 'src/main.ts'))});\nprocess.exitCode = await main(process.argv.slice(2));\n`);
  const env = { PATH: process.env.PATH!, HOME: t.dir, TERM: 'xterm-256color', LANG: 'C.UTF-8', NO_COLOR: '1', TURSO_DATABASE_URL: t.url, QBANK_STATE_DIR: join(t.dir, 'state') };
  const assignments = Object.entries(env).map(([name, value]) => `${name}=${quote(value)}`);
  screen.start(`cd ${quote(process.cwd())} && env -i ${assignments.join(' ')} ${quote(process.execPath)} --import tsx ${quote(entry)} review --reviewer ada@example.com ${args.join(' ')}; echo "qbank exited $?"`);
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
    t = await createTestDatabase('file');
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
    t = await createTestDatabase('file');
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
    const flagged = await sql(t, `SELECT id, question, diagram FROM questions WHERE diagram IS NOT NULL AND diagram <> '' ORDER BY rowid LIMIT 2`);
    await sql(t, `UPDATE questions SET status = 'flagged' WHERE id IN (${flagged.map((q) => `'${q.id}'`).join(', ')})`);
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
    t = await createTestDatabase('file');
    expect((await runCli(['db', 'push', '--schema', 'open-interview'], { env: t.env, cwd: t.dir })).code).toBe(0);
    expect((await runCli(['db', 'seed'], { env: t.env, cwd: t.dir })).code).toBe(0);
    const [first] = await sql(t, `SELECT w.id, q.question FROM work_queue w JOIN questions q ON q.id = w.item_id WHERE w.status = 'pending' ORDER BY w.priority, w.id LIMIT 1`);
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
