import Ajv2020 from 'ajv/dist/2020.js';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { runCli } from './support/cli.js';
import { databaseForEachTest, MODES, preparedDatabase, snapshot, sqlite, type TestDatabase } from './support/modes.js';
import { PINGTOPASS_WITH_EXAMS } from './support/interchange.js';

const ROOT = join(import.meta.dirname, '..');

/** The import document's schema (docs/json), to hold a document with a diff to it. */
function importSchema() {
  const ajv = new Ajv2020.default({ allErrors: true, strict: true, allowUnionTypes: true });
  const dir = join(ROOT, 'docs', 'json');
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.schema.json'))) ajv.addSchema(JSON.parse(readFileSync(join(dir, file), 'utf8')));
  return ajv.getSchema('https://qbank.dev/json/import.schema.json')!;
}

/** `text` with each `from`, found there exactly once, replaced by its `to`. */
function withChanges(text: string, changes: Array<[string, string]>): string {
  for (const [from, to] of changes) {
    if (text.split(from).length !== 2) throw new Error(`not once in the file: ${from}`);
    text = text.replace(from, to);
  }
  return text;
}

const LONG = 'Secure Shell listens on port 22 by default. '.repeat(30).trim();
const HEADER = 'id,exam_code,text,option_a,option_b,option_c,correct,difficulty,tags,explanation';
const ORIGINAL = [
  HEADER,
  `df-1,CCNA-200-301,Which port does SSH use?,22,23,25,A,1,ssh,"${LONG}"`,
  'df-2,CCNA-200-301,Which port does Telnet use?,22,23,25,A,1,telnet,Plain text remote shell.',
  'df-3,CCNA-200-301,Which port does SMTP use?,21,26,25,C,2,mail,Mail transfer.',
  'df-4,CCNA-200-301,Which port does HTTP use?,80,8080,443,A,1,web,The web.',
].join('\n');
// df-1: explanation edited; df-2: key moved A -> B; df-3: option B's text; df-4: a tag added
const EDITED = withChanges(ORIGINAL, [
  [`"${LONG}"`, `"${LONG} Changed."`],
  ['Telnet use?,22,23,25,A', 'Telnet use?,22,23,25,B'],
  ['SMTP use?,21,26,25', 'SMTP use?,21,24,25'],
  [',web,The web.', ',web;legacy,The web.'],
]);

/** The CLI with stdout at a terminal (runCli's stdout is never one). */
async function atTerminal(t: TestDatabase, args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, callback) {
        append(chunk.toString());
        callback();
      },
    });
  const code = await main(args, {
    stdin: new PassThrough(),
    stdout: sink((text) => (stdout += text)),
    stderr: sink(() => undefined),
    stdinIsTTY: false,
    stdoutIsTTY: true,
    stderrIsTTY: false,
    env: { PATH: process.env.PATH, NO_COLOR: '1', ...t.env },
    cwd: t.dir,
    now: () => new Date(),
  });
  return { code, stdout };
}

describe.each(MODES)('import --diff and look-alike rows, PingToPass (%s)', (mode) => {
  const t = databaseForEachTest(() => preparedDatabase(mode, PINGTOPASS_WITH_EXAMS));
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  beforeEach(async () => {
    writeFileSync(join(t.dir, 'original.csv'), ORIGINAL);
    writeFileSync(join(t.dir, 'edited.csv'), EDITED);
    const first = await cli(['import', 'original.csv']);
    expect(first.code, first.stderr).toBe(0);
  });

  it('--dry-run --diff shows each changed field, old and new, and writes nothing', async () => {
    const before = await snapshot(t, { systemsOnly: true });
    const planned = await cli(['import', '--diff', 'edited.csv', '--dry-run', '--json']);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.json().diff).toEqual([
      { id: 'df-1', line: 2, fields: [{ field: 'explanation', old: LONG, new: `${LONG} Changed.` }] },
      { id: 'df-2', line: 3, fields: [{ field: 'correct', old: 'A', new: 'B' }] },
      {
        id: 'df-3',
        line: 4,
        fields: [
          {
            field: 'options',
            old: [
              { letter: 'A', text: '21', correct: false },
              { letter: 'B', text: '26', correct: false },
              { letter: 'C', text: '25', correct: true },
            ],
            new: [
              { letter: 'A', text: '21', correct: false },
              { letter: 'B', text: '24', correct: false },
              { letter: 'C', text: '25', correct: true },
            ],
          },
        ],
      },
      { id: 'df-4', line: 5, fields: [{ field: 'tags', old: ['web'], new: ['web', 'legacy'] }] },
    ]);
    expect(await snapshot(t, { systemsOnly: true })).toBe(before);
    const validate = importSchema();
    expect(validate(planned.json()), JSON.stringify(validate.errors)).toBe(true);

    // the flags before the subcommand and after the file; without a terminal every value is whole
    const text = await cli(['import', '--dry-run', 'questions', 'edited.csv', '--diff']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('~ df-2 (edited.csv line 3)\n    correct:\n    - A\n    + B\n');
    expect(text.stdout).toContain(`    - ${LONG}\n    + ${LONG} Changed.\n`);
    expect(text.stdout).toContain('    options:\n    - A. 21\n      B. 26\n      C. 25  [correct]\n    + A. 21\n      B. 24\n      C. 25  [correct]\n');
    expect(text.stdout).toContain('    tags:\n    - web\n    + web, legacy\n');
    expect(await snapshot(t, { systemsOnly: true })).toBe(before);
    // a plain dry run carries no diff
    expect((await cli(['import', 'edited.csv', '--dry-run', '--json'])).json().diff).toBeUndefined();
  });

  it('at a terminal long values are cut to the screen width with their full length', async () => {
    const before = await snapshot(t, { systemsOnly: true });
    const shown = await atTerminal(t, ['import', 'edited.csv', '--dry-run', '--diff']);
    expect(shown.code).toBe(0);
    const lines = shown.stdout.split('\n');
    expect(lines.every((line) => [...line].length <= 80), shown.stdout).toBe(true);
    expect(shown.stdout).toContain(`chars)`);
    expect(shown.stdout).toContain(`(${LONG.length.toLocaleString('en-US')} chars)`);
    expect(shown.stdout).toContain('    correct: A → B');
    expect(await snapshot(t, { systemsOnly: true })).toBe(before);
  });

  it('--diff without --dry-run imports and shows what it changed', async () => {
    const result = await cli(['import', 'edited.csv', '--diff', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().diff.map((entry: { id: string }) => entry.id)).toEqual(['df-1', 'df-2', 'df-3', 'df-4']);
    expect(await sqlite(t, "SELECT text, is_correct FROM answer_options WHERE question_id = 'df-2' ORDER BY \"order\"")).toEqual([
      { text: '22', is_correct: 0 },
      { text: '23', is_correct: 1 },
      { text: '25', is_correct: 0 },
    ]);
    // importing it again changes nothing, so there is nothing to show
    const again = await cli(['import', 'edited.csv', '--diff']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toContain('~ ');
  });

  it('does not warn about a question another row of the file matches, changed or not', async () => {
    const ssh = 'Which TCP port does the Secure Shell protocol listen on by default on a Cisco router?';
    const tftp = 'Which UDP port does the Trivial File Transfer Protocol listen on by default on a server?';
    const bank = ['exam_code,text,option_a,option_b,correct,explanation,difficulty', `CCNA-200-301,${ssh},22,23,A,Remote.,1`, `CCNA-200-301,${tftp},69,21,A,Files.,1`];
    writeFileSync(join(t.dir, 'bank.csv'), bank.join('\n'));
    expect((await cli(['import', 'bank.csv'])).code).toBe(0);
    // both stored questions matched (one unchanged, one edited), and a new row like each of them
    writeFileSync(
      join(t.dir, 'again.csv'),
      [
        bank[0],
        bank[1],
        `CCNA-200-301,${tftp},69,21,A,Edited.,1`,
        `CCNA-200-301,${ssh.replace('router', 'switch')},22,23,A,New.,1`,
        `CCNA-200-301,${tftp.replace('server', 'client')},69,21,A,New.,1`,
      ].join('\n'),
    );
    const planned = await cli(['import', 'again.csv', '--dry-run', '--json']);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.json()).toMatchObject({ created: 2, updated: 1, unchanged: 1, warningCount: 0 });
  });

  it('warns when a row without an id looks like an existing question, and not for an unrelated one', async () => {
    const noIds = [
      'exam_code,text,option_a,option_b,correct,difficulty',
      'CCNA-200-301,Which TCP port does the Secure Shell protocol listen on by default on a Cisco router?,22,23,A,1',
      'CCNA-200-301,What does OSPF stand for?,Open Shortest Path First,Only Static Paths Forwarded,A,2',
    ].join('\n');
    writeFileSync(join(t.dir, 'no-ids.csv'), noIds);
    expect((await cli(['import', 'no-ids.csv'])).code).toBe(0);
    const [original] = await sqlite(t, "SELECT id FROM questions WHERE text LIKE 'Which TCP port does the Secure Shell%'");
    // one word edited, no id; and a question unlike any other
    writeFileSync(
      join(t.dir, 'edited-no-ids.csv'),
      [
        'exam_code,text,option_a,option_b,correct,difficulty',
        'CCNA-200-301,Which TCP port does the Secure Shell protocol listen on by default on a Cisco switch?,22,23,A,1',
        'CCNA-200-301,What does OSPF stand for?,Open Shortest Path First,Only Static Paths Forwarded,A,2',
        'CCNA-200-301,Which protocol resolves IPv4 addresses to MAC addresses?,ARP,RARP,A,2',
      ].join('\n'),
    );
    const planned = await cli(['import', 'edited-no-ids.csv', '--dry-run', '--json']);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.json()).toMatchObject({ created: 2, unchanged: 1, warningCount: 1 });
    expect(planned.json().warnings).toEqual([
      `edited-no-ids.csv:2: no id; looks like question ${original.id} (87% the same text): it would be created, not updated; add its id to update it`,
    ]);
    const imported = await cli(['import', 'edited-no-ids.csv']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toContain(`edited-no-ids.csv:2: no id; looks like question ${original.id} (87% the same text): it will be created, not updated; add its id to update it`);
    expect(imported.stderr).not.toMatch(/edited-no-ids\.csv:4:/);
    // the ids qbank gave the new rows are listed
    const created = await sqlite(t, "SELECT id FROM questions WHERE text LIKE '%Cisco switch?' OR text LIKE 'Which protocol resolves%' ORDER BY rowid");
    expect(imported.stderr).toContain(`2 rows without an id got: ${created.map((row) => row.id).join(', ')}`);
  });
});

describe.each(MODES)('import --diff and look-alike rows, open-interview (%s)', (mode) => {
  const t = databaseForEachTest(() => preparedDatabase(mode, [['db', 'push', '--schema', 'open-interview']]));
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });
  const record = (id: string | undefined, question: string, explanation = 'Because.', tags = ['a']) => ({
    ...(id ? { id } : {}),
    question,
    answer: 'An answer.',
    explanation,
    difficulty: 'beginner',
    channel: 'diff',
    subChannel: 'basics',
    tags,
  });

  beforeEach(async () => {
    writeFileSync(
      join(t.dir, 'first.json'),
      JSON.stringify([record('oi-1', 'What is a closure in JavaScript and when would you use one in practice?'), record('oi-2', 'What does the event loop do?')]),
    );
    expect((await cli(['import', 'first.json'])).code).toBe(0);
  });

  it('--dry-run --diff shows the changed columns and writes nothing', async () => {
    writeFileSync(
      join(t.dir, 'edited.json'),
      JSON.stringify([record('oi-1', 'What is a closure in JavaScript and when would you use one in practice?', 'Because of scope.'), record('oi-2', 'What does the event loop do?', 'Because.', ['a', 'b'])]),
    );
    const before = await snapshot(t, { systemsOnly: true });
    const planned = await cli(['import', 'edited.json', '--diff', '--dry-run', '--json']);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.json().diff).toEqual([
      { id: 'oi-1', line: expect.any(Number), fields: [{ field: 'explanation', old: 'Because.', new: 'Because of scope.' }] },
      { id: 'oi-2', line: expect.any(Number), fields: [{ field: 'tags', old: ['a'], new: ['a', 'b'] }] },
    ]);
    const text = await cli(['import', '--diff', '--dry-run', 'edited.json']);
    expect(text.stdout).toContain('~ oi-1 (edited.json line');
    expect(text.stdout).toContain('    explanation:\n    - Because.\n    + Because of scope.\n');
    expect(await snapshot(t, { systemsOnly: true })).toBe(before);
  });

  it('warns when a record without an id looks like an existing question of its channel', async () => {
    writeFileSync(
      join(t.dir, 'no-id.json'),
      JSON.stringify([record(undefined, 'What is a closure in JavaScript and when would you use one in production?'), record(undefined, 'How does garbage collection work in V8?')]),
    );
    const planned = await cli(['import', 'no-id.json', '--dry-run', '--json']);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.json().warningCount).toBe(1);
    expect(planned.json().warnings[0]).toMatch(/no id; looks like question oi-1 \(85% the same text\): it would be created, not updated; add its id to update it$/);
  });
});
