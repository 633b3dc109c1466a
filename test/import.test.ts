import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, databaseForEachTest, MODES, preparedDatabase, snapshot, sqlite, type TestDatabase } from './support/modes.js';
import { EXAMS_CSV, QUESTIONS_CSV } from './support/interchange.js';

const ROOT = join(import.meta.dirname, '..');
const OI_QUESTIONS_JSON = join(ROOT, 'fixtures', 'open-interview', 'questions.json');
const OI_QUESTIONS_CSV = join(ROOT, 'fixtures', 'import', 'open-interview', 'questions.csv');
const OI_CERTIFICATIONS = join(ROOT, 'fixtures', 'import', 'open-interview', 'certifications.csv');

async function count(t: TestDatabase, table: string): Promise<number> {
  return Number((await sqlite(t, `SELECT count(*) AS n FROM ${table}`))[0].n);
}

describe.each(MODES)('qbank import (%s)', (mode) => {
  const t = databaseForEachTest(() => createTestDatabase(mode));
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env: { ...t.env, ...env }, cwd: t.dir });
  const file = (name: string, text: string) => {
    const path = join(t.dir, name);
    writeFileSync(path, text);
    return path;
  };

  describe('PingToPass', () => {
    beforeEach(async () => {
      expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
      expect((await cli(['db', 'seed'])).code).toBe(0);
    });

    it('imports exams, then questions with their options, and a second import changes nothing', async () => {
      const exams = await cli(['import', 'exams', EXAMS_CSV, '--json']);
      expect(exams.code, exams.stderr).toBe(0);
      expect(exams.json()).toMatchObject({ kind: 'exams', created: 2, unchanged: 3, updated: 0 });

      const first = await cli(['import', QUESTIONS_CSV, '--json']);
      expect(first.code, first.stderr).toBe(0);
      const summary = first.json();
      expect(summary).toMatchObject({ system: 'pingtopass', kind: 'questions', rows: 24, created: 24, updated: 0, unchanged: 0, rejected: 0, groupBy: 'exam' });
      expect(summary.groups.find((g: { group: string }) => g.group === 'SY0-701')).toMatchObject({ created: 5 });
      expect(await count(t, 'questions')).toBe(8 + 24);
      expect(await count(t, 'answer_options')).toBe(32 + 24 * 4 + 2);

      const [multi] = await sqlite(t, "SELECT id, type, difficulty, tags, explanation, review_status, is_active, exam_id FROM questions WHERE text LIKE 'Which two are private IPv4%'");
      expect(multi).toMatchObject({ type: 'multiple', difficulty: 2, tags: '["ipv4","addressing"]', review_status: 'pending', is_active: 1, exam_id: 'exam_ccna' });
      expect(multi.explanation).toContain('192.168.0.0/16.\n169.254.0.0/16');
      const options = await sqlite(t, `SELECT id, text, is_correct, "order" FROM answer_options WHERE question_id = '${multi.id}' ORDER BY "order"`);
      expect(options.map((o) => [o.text, o.is_correct, o.order])).toEqual([
        ['10.0.0.0/8', 1, 0],
        ['172.16.0.0/12', 1, 1],
        ['169.254.0.0/16', 0, 2],
        ['100.64.0.0/10', 0, 3],
      ]);
      expect(options[0].id).toBe(`${multi.id}_opt_a`);

      const before = await snapshot(t);
      const second = await cli(['import', QUESTIONS_CSV, '--json']);
      expect(second.code, second.stderr).toBe(0);
      expect(second.json()).toMatchObject({ created: 0, updated: 0, unchanged: 24 });
      expect(await snapshot(t)).toBe(before);
    });

    it('updates changed questions in place, keeping the ids of their options', async () => {
      await cli(['import', 'exams', EXAMS_CSV]);
      await cli(['import', QUESTIONS_CSV]);
      const [question] = await sqlite(t, "SELECT id FROM questions WHERE text = 'What is the default administrative distance of OSPF?'");
      const optionIds = (await sqlite(t, `SELECT id FROM answer_options WHERE question_id = '${question.id}' ORDER BY "order"`)).map((o) => o.id);
      const edited = readFileSync(QUESTIONS_CSV, 'utf8')
        .replace('OSPF routes have an administrative distance of 110', 'OSPF: administrative distance 110')
        .replace(',120,1,,,B,', ',120,1,255,,B,');
      const result = await cli(['import', file('edited.csv', edited), '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ created: 0, updated: 1, unchanged: 23 });
      const [after] = await sqlite(t, `SELECT explanation FROM questions WHERE id = '${question.id}'`);
      expect(after.explanation).toMatch(/^OSPF: administrative distance 110/);
      const options = await sqlite(t, `SELECT id, text FROM answer_options WHERE question_id = '${question.id}' ORDER BY "order"`);
      expect(options.map((o) => o.text)).toEqual(['90', '110', '120', '1', '255']);
      expect(options.slice(0, 4).map((o) => o.id)).toEqual(optionIds);
    });

    it('matches a seeded question by id and by exam and text', async () => {
      const text = 'id,exam_code,text,option_a,option_b,correct,difficulty\r\n' +
        'q_ccna_001,CCNA-200-301,Which OSI layer does logical addressing and path selection?,Network,Transport,A,2\r\n' +
        ',SAA-C03,"' + (await sqlite(t, "SELECT text FROM questions WHERE id = 'q_saa_001'"))[0].text + '",SQS,SNS,A,2\r\n';
      const result = await cli(['import', file('seeded.csv', text), '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ created: 0, updated: 2 });
      expect(await count(t, 'questions')).toBe(8);
      const [byId] = await sqlite(t, "SELECT text, review_status FROM questions WHERE id = 'q_ccna_001'");
      // its text changed: the approval was of another text, so the question is back in the review queue
      expect(byId).toEqual({ text: 'Which OSI layer does logical addressing and path selection?', review_status: 'pending' });
      expect(result.json().reviewReset).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'q_ccna_001', previous: 'approved' })]));
      expect((await sqlite(t, "SELECT text FROM answer_options WHERE question_id = 'q_saa_001' ORDER BY \"order\"")).map((o) => o.text)).toEqual(['SQS', 'SNS']);
    });

    it('--dry-run reports what would change and writes nothing', async () => {
      await cli(['import', 'exams', EXAMS_CSV]);
      const before = await snapshot(t);
      const result = await cli(['import', QUESTIONS_CSV, '--dry-run']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/SY0-701\s+5\s+0\s+0\s+0/);
      expect(result.stderr).toMatch(/dry run: .* 24 created, 0 updated, 0 unchanged; nothing was written/);
      expect(await snapshot(t)).toBe(before);
    });

    it('--mode insert refuses existing questions, --mode skip-existing leaves them', async () => {
      await cli(['import', 'exams', EXAMS_CSV]);
      await cli(['import', QUESTIONS_CSV]);
      const before = await snapshot(t);
      const insert = await cli(['import', QUESTIONS_CSV, '--mode', 'insert']);
      expect(insert.code).toBe(3);
      expect(insert.stderr).toMatch(/^error: .*questions\.csv: 24 problems in 24 rows; nothing was imported$/m);
      expect(insert.stderr).toMatch(/^ {2}.*questions\.csv:2: question already exists \(id "[0-9a-f]{24}", matched by text\)$/m);
      expect(insert.stderr).toContain('--mode insert only adds new records; --mode upsert updates them');
      expect(await snapshot(t)).toBe(before);
      const edited = readFileSync(QUESTIONS_CSV, 'utf8').replace('ARP broadcasts', 'ARP sends');
      const skip = await cli(['import', file('edited.csv', edited), '--mode', 'skip-existing', '--json']);
      expect(skip.code, skip.stderr).toBe(0);
      expect(skip.json()).toMatchObject({ created: 0, updated: 0, skipped: 24 });
      expect(await snapshot(t)).toBe(before);
    });

    it('--skip-invalid imports the valid rows and writes the others, with an error column, to --rejects', async () => {
      const text =
        'exam_code,text,option_a,option_b,option_c,correct,difficulty\n' +
        'CCNA-200-301,"First, valid",a,b,,A,1\n' +
        'NOPE-1,Unknown exam,a,b,,A,1\n' +
        'CCNA-200-301,Bad letter,a,b,,D,1\n' +
        'SC-900,"Second, ""valid""",x,y,z,B;C,3\n';
      const result = await cli(['import', file('mixed.csv', text), '--skip-invalid', '--rejects', 'rejected.csv', '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ created: 2, rejected: 2, rejectsFile: 'rejected.csv' });
      expect(result.json().problems).toEqual([
        `${join(t.dir, 'mixed.csv')}:3:1 row 3, column exam_code (A): no exam with code "NOPE-1"; import exams first with \`qbank import exams FILE\``,
        `${join(t.dir, 'mixed.csv')}:4:6 row 4, column correct (F): letter D names no option (this question has 2: A-B)`,
      ]);
      expect(readFileSync(join(t.dir, 'rejected.csv'), 'utf8')).toBe(
        'exam_code,text,option_a,option_b,option_c,correct,difficulty,error\n' +
          'NOPE-1,Unknown exam,a,b,,A,1,"exam_code: no exam with code ""NOPE-1""; import exams first with `qbank import exams FILE`"\n' +
          'CCNA-200-301,Bad letter,a,b,,D,1,correct: letter D names no option (this question has 2: A-B)\n',
      );
      const [second] = await sqlite(t, `SELECT type, id FROM questions WHERE text = 'Second, "valid"'`);
      expect(second.type).toBe('multiple');
    });

    it('imports the same records from JSON and JSON Lines, with camelCase and snake_case keys', async () => {
      const records = [
        { examCode: 'CCNA-200-301', text: 'JSON question one?', options: ['yes', 'no', 'maybe'], correct: ['A'], difficulty: 2, tags: ['json'] },
        { exam_code: 'SC-900', TEXT: 'JSON question two?', option_a: 'a', option_b: 'b', correct: 'B', difficulty: '4', reviewStatus: 'approved', reviewedBy: 'editor@example.com' },
      ];
      const json = await cli(['import', file('bank.json', JSON.stringify(records, null, 2)), '--json']);
      expect(json.code, json.stderr).toBe(0);
      expect(json.json()).toMatchObject({ format: 'json', created: 2 });
      const jsonl = await cli(['import', file('bank.jsonl', records.map((r) => JSON.stringify(r)).join('\n') + '\n'), '--json']);
      expect(jsonl.code, jsonl.stderr).toBe(0);
      expect(jsonl.json()).toMatchObject({ format: 'jsonl', created: 0, unchanged: 2 });
      expect(await sqlite(t, "SELECT type, tags, review_status FROM questions WHERE text LIKE 'JSON question%' ORDER BY text")).toEqual([
        { type: 'single', tags: '["json"]', review_status: 'pending' },
        { type: 'single', tags: null, review_status: 'approved' },
      ]);
    });

    it('reads UTF-16 with a byte-order mark and windows-1252 with --encoding', async () => {
      const text = 'exam_code,text,option_a,option_b,correct,difficulty\r\nCCNA-200-301,Qu’est-ce qu’un réseau « privé » ?,Oui,Non,A,1\r\n';
      const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
      writeFileSync(join(t.dir, 'utf16.csv'), utf16);
      const first = await cli(['import', 'utf16.csv', '--json']);
      expect(first.code, first.stderr).toBe(0);
      expect(first.json()).toMatchObject({ encoding: 'utf-16le', created: 1 });
      const cp1252 = Buffer.from(text.replace(/’/g, '\x92').replace(/«/g, '\xab').replace(/»/g, '\xbb'), 'latin1');
      writeFileSync(join(t.dir, 'cp1252.csv'), cp1252);
      const second = await cli(['import', 'cp1252.csv', '--encoding', 'windows-1252', '--json']);
      expect(second.code, second.stderr).toBe(0);
      expect(second.json()).toMatchObject({ encoding: 'windows-1252', created: 0, unchanged: 1 });
      const bom = await cli(['import', file('bom.csv', '\uFEFF' + text), '--json']);
      expect(bom.json()).toMatchObject({ encoding: 'utf-8', unchanged: 1 });
    });

    it('prints a summary table per exam and a line for humans', async () => {
      await cli(['import', 'exams', EXAMS_CSV]);
      const result = await cli(['import', QUESTIONS_CSV]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^EXAM\s+CREATED\s+UPDATED\s+UNCHANGED\s+REJECTED$/m);
      expect(result.stdout).toMatch(/^CCNA-200-301\s+6\s+0\s+0\s+0$/m);
      expect(result.stdout).toMatch(/^total\s+24\s+0\s+0\s+0$/m);
      expect(result.stderr).toMatch(/✔ imported .*questions\.csv into .*: 24 created, 0 updated, 0 unchanged/);
    });

    it('skips unknown columns only when told to, and takes the format from --format', async () => {
      const text = 'Exam Code,QUESTION,optionA,Option_B,Correct_Answer,difficulty,Notes\nSC-900,Which portal manages Entra ID?,Entra admin center,Azure DevOps,A,1,internal note\n';
      const refused = await cli(['import', file('extra.txt', text), '--format', 'csv']);
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain('extra.txt:1:7 row 1, column Notes (G): unknown column');
      expect(refused.stderr).toContain('pass --ignore-unknown-columns to skip unknown columns');
      const accepted = await cli(['import', 'extra.txt', '--format', 'csv', '--ignore-unknown-columns', '--json']);
      expect(accepted.code, accepted.stderr).toBe(0);
      expect(accepted.json()).toMatchObject({ created: 1, ignoredColumns: ['Notes'] });
      // a .txt file that is no Aiken file is delimited text, as spreadsheets save it
      const noFormat = await cli(['import', 'extra.txt']);
      expect(noFormat.code).toBe(3);
      expect(noFormat.stderr).toContain('extra.txt:1:7 row 1, column Notes (G): unknown column');
    });

    it('parses in a worker thread with the same result', async () => {
      await cli(['import', 'exams', EXAMS_CSV]);
      const result = await cli(['import', QUESTIONS_CSV, '--json'], { QBANK_IMPORT_PARALLEL: 'always' });
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ parallel: true, created: 24 });
      const again = await cli(['import', QUESTIONS_CSV, '--json'], { QBANK_IMPORT_PARALLEL: 'always' });
      expect(again.json()).toMatchObject({ parallel: true, unchanged: 24 });
    });
  });

  describe('PingToPass, empty questions table', () => {
    beforeEach(async () => {
      expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    });

    it('writes straight into the empty tables and keeps their indexes', async () => {
      const schema = await sqlite(t, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name NOT LIKE '__qbank_%' ORDER BY name");
      expect((await cli(['import', 'exams', EXAMS_CSV])).code).toBe(0);
      const first = await cli(['import', QUESTIONS_CSV, '--json']);
      expect(first.code, first.stderr).toBe(0);
      expect(first.json()).toMatchObject({ created: 24 });
      expect(await sqlite(t, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name NOT LIKE '__qbank_%' ORDER BY name")).toEqual(schema);
      expect(await count(t, 'answer_options')).toBe(24 * 4 + 2);
      const ids = (await sqlite(t, 'SELECT id FROM questions ORDER BY rowid')).map((row) => String(row.id));
      expect(ids.every((id) => /^[0-9a-f]{24}$/.test(id))).toBe(true);
      expect([...ids].sort()).toEqual(ids);
      const status = await cli(['db', 'status', '--json']);
      expect(status.json().drift.upToDate).toBe(true);
      // written without per-row foreign key lookups on file: databases: every reference must hold
      expect(await sqlite(t, 'SELECT * FROM pragma_foreign_key_check')).toEqual([]);
      expect(await sqlite(t, 'SELECT count(*) AS n FROM answer_options AS o JOIN questions AS q ON q.id = o.question_id JOIN exams AS e ON e.id = q.exam_id')).toEqual([{ n: 24 * 4 + 2 }]);
      const second = await cli(['import', QUESTIONS_CSV, '--json']);
      expect(second.json()).toMatchObject({ created: 0, unchanged: 24 });
    });
  });

  describe('open-interview', () => {
    beforeEach(async () => {
      expect((await cli(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
    });

    it("imports the system's own JSON question files with mappings and history, and a second import changes nothing", async () => {
      const first = await cli(['import', OI_QUESTIONS_JSON, '--json']);
      expect(first.code, first.stderr).toBe(0);
      expect(first.json()).toMatchObject({ system: 'open-interview', format: 'json', created: 12, groupBy: 'channel' });
      expect(await count(t, 'questions')).toBe(12);
      expect(await sqlite(t, "SELECT channel_id, sub_channel FROM channel_mappings WHERE question_id = 'q-fx-0001'")).toEqual([
        { channel_id: 'javascript', sub_channel: 'fundamentals' },
      ]);
      const history = await sqlite(t, "SELECT event_type, event_source, question_type, after_snapshot, before_snapshot FROM question_history WHERE question_id = 'q-fx-0001'");
      expect(history).toHaveLength(1);
      expect(history[0]).toMatchObject({ event_type: 'created', event_source: 'import', question_type: 'question', before_snapshot: null });
      expect(JSON.parse(String(history[0].after_snapshot))).toMatchObject({ id: 'q-fx-0001', subChannel: 'fundamentals', tags: ['javascript', 'closures', 'scope', 'event-loop'] });
      const original = JSON.parse(readFileSync(OI_QUESTIONS_JSON, 'utf8'))[0];
      const [stored] = await sqlite(t, "SELECT * FROM questions WHERE id = 'q-fx-0001'");
      expect(stored).toMatchObject({
        question: original.question,
        explanation: original.explanation,
        videos: JSON.stringify(original.videos),
        relevance_score: original.relevanceScore,
        created_at: original.createdAt,
        last_updated: original.lastUpdated,
      });

      const before = await snapshot(t);
      const second = await cli(['import', OI_QUESTIONS_JSON, '--json']);
      expect(second.json()).toMatchObject({ created: 0, updated: 0, unchanged: 12 });
      expect(await snapshot(t)).toBe(before);
    });

    it('records an update with before and after snapshots and the changed fields', async () => {
      await cli(['import', OI_QUESTIONS_JSON]);
      const records = JSON.parse(readFileSync(OI_QUESTIONS_JSON, 'utf8'));
      records[0].answer = 'A function plus the scope it closes over.';
      records[0].subChannel = 'closures';
      delete records[0].eli5;
      const result = await cli(['import', file('edited.json', JSON.stringify(records)), '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ updated: 1, unchanged: 11 });
      const [event] = await sqlite(t, "SELECT changed_fields, before_snapshot, after_snapshot FROM question_history WHERE question_id = 'q-fx-0001' AND event_type = 'updated'");
      expect(JSON.parse(String(event.changed_fields))).toEqual(['answer', 'sub_channel', 'channel_mappings']);
      expect(JSON.parse(String(event.before_snapshot)).subChannel).toBe('fundamentals');
      expect(JSON.parse(String(event.after_snapshot))).toMatchObject({ subChannel: 'closures', answer: 'A function plus the scope it closes over.' });
      // A field the record leaves out is kept.
      expect((await sqlite(t, "SELECT eli5 FROM questions WHERE id = 'q-fx-0001'"))[0].eli5).toMatch(/backpack/);
      expect(await sqlite(t, "SELECT channel_id, sub_channel FROM channel_mappings WHERE question_id = 'q-fx-0001'")).toEqual([
        { channel_id: 'javascript', sub_channel: 'closures' },
      ]);
    });

    it('imports a CSV bank and certifications', async () => {
      const questions = await cli(['import', OI_QUESTIONS_CSV, '--json']);
      expect(questions.code, questions.stderr).toBe(0);
      expect(questions.json()).toMatchObject({ format: 'csv', created: 6, rejected: 0 });
      const [row] = await sqlite(t, "SELECT tags, companies, difficulty, status, is_new FROM questions WHERE question LIKE 'What does a database index trade%'");
      expect(row).toEqual({ tags: '["indexes","performance"]', companies: '["Google","Stripe"]', difficulty: 'intermediate', status: 'active', is_new: 1 });
      expect(await count(t, 'channel_mappings')).toBe(6);
      const certifications = await cli(['import', 'certifications', OI_CERTIFICATIONS, '--json']);
      expect(certifications.code, certifications.stderr).toBe(0);
      expect(certifications.json()).toMatchObject({ kind: 'certifications', created: 2 });
      const [cert] = await sqlite(t, "SELECT prerequisites, domains, icon, passing_score, estimated_hours FROM certifications WHERE id = 'ckad'");
      expect(cert).toMatchObject({ prerequisites: '["cka"]', icon: 'box', passing_score: 66 });
      expect(JSON.parse(String(cert.domains))[0]).toEqual({ name: 'Application Design and Build', weight: 20 });
      const again = await cli(['import', 'certifications', OI_CERTIFICATIONS, '--json']);
      expect(again.json()).toMatchObject({ created: 0, unchanged: 2 });
    });

    it('refuses a PingToPass kind', async () => {
      const result = await cli(['import', 'exams', EXAMS_CSV]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/open-interview has no exams: exams belong to pingtopass/);
    });
  });

  it('qbank demo imports a sample bank for each system, and again changes nothing', async () => {
    const first = await cli(['demo', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const [pingtopass, openInterview] = first.json().systems;
    expect(pingtopass.imported.map((s: { kind: string; created: number }) => [s.kind, s.created])).toEqual([
      ['exams', 2],
      ['questions', 24],
    ]);
    expect(openInterview.imported.map((s: { kind: string; created: number }) => [s.kind, s.created])).toEqual([
      ['questions', 6],
      ['certifications', 2],
    ]);
    const again = await cli(['demo', '--json']);
    expect(again.json().systems.flatMap((system: { imported: Array<{ created: number; updated: number }> }) => system.imported.map((s) => s.created + s.updated))).toEqual([0, 0, 0, 0]);
  });

  it('prints each template, and each imports as it is', async () => {
    const all = await cli(['import', 'template']);
    expect(all.code).toBe(0);
    for (const name of ['pingtopass-questions', 'pingtopass-exams', 'open-interview-questions', 'open-interview-certifications']) expect(all.stdout).toContain(`# ${name}`);
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    const exams = await cli(['import', 'template', 'pingtopass-exams']);
    expect(exams.stdout.split('\r\n')[0]).toBe('code,name,vendor,category,passing_score,total_questions,time_limit,price,description');
    expect((await cli(['import', 'exams', file('exams.csv', exams.stdout)])).code).toBe(0);
    const questions = await cli(['import', 'template', 'pingtopass-questions']);
    const imported = await cli(['import', file('questions.csv', questions.stdout), '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.json()).toMatchObject({ created: 2 });
  });
});

describe('qbank import over the network', () => {
  it('packs a 10,000-question import into a few dozen round trips, and an unchanged one into a few whatever its size', async () => {
    const t = await createTestDatabase('remote');
    try {
      const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });
      expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
      expect((await cli(['import', 'exams', EXAMS_CSV])).code).toBe(0);
      const lines = ['exam_code,text,option_a,option_b,option_c,option_d,correct,explanation,difficulty'];
      for (let i = 0; i < 10_000; i++) {
        lines.push(`${['CCNA-200-301', 'SAA-C03', 'SC-900'][i % 3]},"Question ${i}: ${'which option fits best, and why? '.repeat(10)}",a${i},b${i},c${i},d${i},${'ABCD'[i % 4]},"Because ${i}.",${1 + (i % 5)}`);
      }
      writeFileSync(join(t.dir, 'bank.csv'), lines.join('\n'));
      const requestsBefore = t.server!.stats.requests;
      const first = await cli(['import', 'bank.csv', '--json']);
      expect(first.code, first.stderr).toBe(0);
      expect(first.json()).toMatchObject({ created: 10_000 });
      // Counted by the server: every HTTP request of the command, the system's detection included.
      expect(t.server!.stats.requests - requestsBefore).toBeLessThanOrEqual(40);
      expect(first.json().roundTrips).toBeGreaterThan(2);
      const beforeAgain = t.server!.stats.requests;
      const again = await cli(['import', 'bank.csv', '--json']);
      expect(again.json()).toMatchObject({ unchanged: 10_000 });
      expect(t.server!.stats.requests - beforeAgain).toBeLessThanOrEqual(40);
      // the file's own requests (without the run's audit entry): the first queries with where the stored
      // questions' pages start, the pages, then the unchanged rows' keys with the comparison and its outcomes
      // (3; one more when the parse outlasts what the runner holds statements for)
      expect(again.json().roundTrips).toBeLessThanOrEqual(4);
    } finally {
      await t.close();
    }
  });
});

describe('the import runner of file: databases', () => {
  const t = databaseForEachTest(() => preparedDatabase('file', [['db', 'push', '--schema', 'pingtopass'], ['db', 'seed']]));

  const dangling = { sql: 'INSERT INTO answer_options (id, question_id, text, is_correct, "order", created_at) VALUES (?, ?, ?, 0, 0, 0)', args: ['o-dangling', 'no-such-question', 'x'] };

  it('enforces foreign keys unless the bulk tables are empty, without triggers and without foreign keys of their own', async () => {
    const { openDatabase } = await import('../src/db/client.js');
    const { openRunner } = await import('../src/db/import/runner.js');
    const { PingToPassQuestionsTarget } = await import('../src/db/import/pingtopass.js');
    const bulk = new PingToPassQuestionsTarget().bulkLoad;
    const url = `file:${t.dbPath}`;
    const database = openDatabase({ url, displayUrl: url, kind: 'file', source: 'test', readOnlyCredentials: false, notices: [] });
    const opened = async (dryRun = false) => {
      const runner = await openRunner(database, dryRun, undefined, bulk);
      const checked = runner.foreignKeysChecked;
      // whether SQLite itself checks: a dangling option is refused only when it does
      const refused = await runner.send([dangling], 0).then(
        () => false,
        (error: Error) => /FOREIGN KEY/.test(error.message),
      );
      await runner.rollback();
      runner.close();
      return { checked, refused };
    };
    try {
      // seeded: questions has rows, so the load is not a bulk one
      expect(await opened()).toEqual({ checked: true, refused: true });
      for (const table of ['user_answers', 'bookmarks', 'feedback', 'answer_options', 'questions']) await sqlite(t, `DELETE FROM ${table}`);
      expect(await opened()).toEqual({ checked: false, refused: false });
      expect((await opened(true)).checked).toBe(true);
      // nothing of the bulk load outlived its transaction
      expect(await count(t, 'answer_options')).toBe(0);

      await sqlite(t, 'CREATE TRIGGER questions_touch AFTER INSERT ON questions BEGIN SELECT 1; END');
      expect(await opened()).toEqual({ checked: true, refused: true });
      await sqlite(t, 'DROP TRIGGER questions_touch');
      // a foreign key an operator added: qbank does not build its values, so SQLite must check them
      await sqlite(t, 'ALTER TABLE answer_options ADD COLUMN reviewer_id TEXT REFERENCES users(id)');
      expect(await opened()).toEqual({ checked: true, refused: true });
    } finally {
      database.close();
    }
  });
});
