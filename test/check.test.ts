import { createClient } from '@libsql/client';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, databaseForEachTest, type Mode, MODES, snapshot, type TestDatabase } from './support/modes.js';
import { findingPairs, PINGTOPASS_PLANTED_IN_BOTH } from './support/check.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'check');

async function load(t: TestDatabase, ...files: string[]): Promise<void> {
  const client = createClient({ url: `file:${t.dbPath}` });
  for (const file of files) await client.executeMultiple(readFileSync(join(FIXTURES, file), 'utf8'));
  client.close();
}

const PINGTOPASS_PLANTED = [...PINGTOPASS_PLANTED_IN_BOTH, 'invalid-json d-json', 'no-correct-option d-nocorrect', 'option-order d-order', 'orphan-row opt-orphan'].sort();

const OPEN_INTERVIEW_PLANTED = [
  'bot-anomaly burst',
  'bot-anomaly cleaner',
  'duplicate-question oi-dup-1',
  'invalid-json oi-json',
  'invalid-value oi-value',
  'json-in-text oi-jsontext',
  'missing-explanation oi-noexpl',
  'near-duplicate-question oi-near-1',
  'orphan-row 900',
  'stale-claim 901',
  'truncated-answer oi-trunc',
].sort();

describe.each(MODES)('qbank check (%s)', (mode: Mode) => {
  const t = databaseForEachTest(() => createTestDatabase(mode));
  const cli = (args: string[], options: { env?: Record<string, string> } = {}) => runCli(args, { env: { ...t.env, ...options.env }, cwd: t.dir });

  describe('PingToPass', () => {
    beforeEach(async () => {
      expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
      await load(t, 'pingtopass-clean.sql');
    });

    it('reports nothing on a clean bank (exit 0), in every form', async () => {
      for (const args of [['check'], ['check', '--json'], ['--json', 'check'], ['check', '--format', 'json'], ['check', '--strict']]) {
        const result = await cli(args);
        expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
      }
      const report = (await cli(['check', '--json'])).json();
      expect(report.findings).toEqual([]);
      expect(report.summary).toEqual({ errors: 0, warnings: 0, byRule: {} });
      expect(report.rules.map((r: { rule: string }) => r.rule)).toContain('answer-position-bias');
      expect(report.rules.find((r: { rule: string }) => r.rule === 'answer-position-bias').thresholds).toEqual({ positionBiasMinQuestions: 20, positionBiasShare: 0.4 });
      expect(report.rules.map((r: { rule: string }) => r.rule)).not.toContain('truncated-answer');
    });

    it('reports exactly the planted defects, exits 6, and changes nothing', async () => {
      await load(t, 'pingtopass-defects.sql');
      const before = await snapshot(t);
      const result = await cli(['check', '--json']);
      expect(result.code, result.stderr).toBe(6);
      const report = result.json();
      expect(findingPairs(report)).toEqual(PINGTOPASS_PLANTED);
      expect(report.summary.errors).toBe(7);
      expect(report.summary.warnings).toBe(9);
      const duplicate = report.findings.find((f: { rule: string }) => f.rule === 'duplicate-question');
      expect(duplicate).toMatchObject({ severity: 'warning', table: 'questions', group: 'DEFECTS-1', related: ['d-dup-2'] });
      expect(report.findings.find((f: { rule: string }) => f.rule === 'near-duplicate-question').related).toEqual(['d-near-2']);
      expect(report.findings.find((f: { rule: string }) => f.rule === 'orphan-row')).toMatchObject({ severity: 'error', table: 'answer_options' });
      expect(await snapshot(t)).toBe(before);
    });

    it('--rules and --skip-rules choose the rules, before or after the command; warnings alone pass unless --strict', async () => {
      await load(t, 'pingtopass-defects.sql');
      const only = await cli(['check', '--rules', 'duplicate-question,duplicate-option', '--json']);
      expect(only.code).toBe(0);
      expect(findingPairs(only.json())).toEqual(['duplicate-option d-dupopt', 'duplicate-question d-dup-1']);
      expect(only.json().rules.map((r: { rule: string }) => r.rule)).toEqual(['duplicate-question', 'duplicate-option']);
      const strict = await cli(['--json', 'check', '--strict', '--rules', 'duplicate-question']);
      expect(strict.code).toBe(6);
      const skipped = await cli(['check', '--json', '--skip-rules', 'orphan-row,invalid-json', '--skip-rules', 'invalid-value']);
      expect(findingPairs(skipped.json())).toEqual(PINGTOPASS_PLANTED.filter((p) => !/^(orphan-row|invalid-json|invalid-value) /.test(p)));
      const unknown = await cli(['check', '--rules', 'duplicate-questions']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('--rules names unknown rule: duplicate-questions');
    });

    it('junit, github and table formats', async () => {
      await load(t, 'pingtopass-defects.sql');
      const junit = await cli(['check', '--format', 'junit']);
      expect(junit.code).toBe(6);
      expect(junit.stdout).toMatch(/^<\?xml/);
      expect(junit.stdout).toContain('<testcase classname="qbank.check" name="option-order">');
      expect(junit.stdout).toContain('<testcase classname="qbank.check" name="invalid-json">');
      expect(junit.stdout.match(/<failure /g)).toHaveLength(PINGTOPASS_PLANTED.length);
      const github = await cli(['check', '--format', 'github']);
      expect(github.code).toBe(6);
      const lines = github.stdout.trim().split('\n');
      expect(lines).toHaveLength(PINGTOPASS_PLANTED.length);
      expect(lines.filter((line) => line.startsWith('::error '))).toHaveLength(7);
      expect(lines).toContain('::warning title=qbank check duplicate-option::questions d-dupopt (DEFECTS-1): 2 options read "paris"');
      const table = await cli(['check']);
      expect(table.code).toBe(6);
      expect(table.stdout).toContain('option-order');
      expect(table.stderr).toContain('7 errors, 9 warnings');
    });

    it('takes severities and thresholds from qbank.config.json', async () => {
      await load(t, 'pingtopass-defects.sql');
      writeFileSync(
        join(t.dir, 'qbank.config.json'),
        JSON.stringify({ targets: {}, check: { severities: { 'orphan-row': 'warning', 'option-order': 'off', 'duplicate-option': 'error' }, thresholds: { lengthBiasMinExtra: 1000 } } }),
      );
      const report = (await cli(['check', '--json'])).json();
      expect(findingPairs(report)).toEqual(PINGTOPASS_PLANTED.filter((p) => !p.startsWith('option-order') && !p.startsWith('option-length-bias')));
      expect(report.findings.find((f: { rule: string }) => f.rule === 'orphan-row').severity).toBe('warning');
      expect(report.findings.find((f: { rule: string }) => f.rule === 'duplicate-option').severity).toBe('error');
      writeFileSync(join(t.dir, 'qbank.config.json'), JSON.stringify({ targets: {}, check: { thresholds: { nearDuplicate: 0.5 } } }));
      const bad = await cli(['check']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('check.thresholds.nearDuplicate: unknown threshold');
    });
  });

  describe('PingToPass --fix', () => {
    beforeEach(async () => {
      expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
      await load(t, 'pingtopass-clean.sql', 'pingtopass-defects.sql');
    });
    const state = async () => {
      const client = createClient({ url: `file:${t.dbPath}` });
      const orders = (await client.execute(`SELECT id, "order" FROM answer_options WHERE question_id = 'd-order' ORDER BY id`)).rows.map((row) => `${row.id}=${row.order}`);
      const tags = (await client.execute(`SELECT tags FROM questions WHERE id IN ('d-spaced', 'd-json') ORDER BY id`)).rows.map((row) => row.tags);
      const runs = (await client.execute(`SELECT count(*) AS n FROM sqlite_master WHERE name = '__qbank_audit'`)).rows[0]!.n
        ? (await client.execute(`SELECT counts FROM __qbank_audit WHERE command = 'check'`)).rows.map((row) => row.counts)
        : [];
      client.close();
      return { orders, tags, runs };
    };

    it('without a terminal and without --yes, refuses (exit 5) and changes nothing', async () => {
      const before = await state();
      const refused = await cli(['check', '--fix']);
      expect(refused.code).toBe(5);
      expect(refused.stderr).toContain('--yes');
      expect(await state()).toEqual(before);
      expect((await cli(['check', '--yes'])).code).toBe(2);
    });

    it('--fix --yes lists the fixes first, renumbers the orders and compacts the JSON in one transaction with a run entry', async () => {
      const fixed = await cli(['check', '--fix', '--yes']);
      expect(fixed.code).toBe(6);
      expect(fixed.stderr.indexOf('fix: answer_options d-order-c order: 1 → 2')).toBeGreaterThanOrEqual(0);
      expect(fixed.stderr.indexOf('fix: questions d-spaced tags')).toBeLessThan(fixed.stderr.indexOf('applied 2 of 2 fixes'));
      expect(await state()).toEqual({ orders: ['d-order-a=0', 'd-order-b=1', 'd-order-c=2', 'd-order-d=3'], tags: ['["cables", ', '["net","routing"]'], runs: ['{"fixes":2}'] });
      const again = await cli(['--json', 'check', '--yes', '--fix']);
      expect(again.json().fixed).toEqual({ applied: 0, runId: null });
      expect(findingPairs(again.json())).toEqual(PINGTOPASS_PLANTED.filter((p) => !p.startsWith('option-order')));
    });

    it('at a terminal, asks first; no means nothing changes', async () => {
      const before = await state();
      const { PassThrough } = await import('node:stream');
      const stdin = new PassThrough();
      const answered = runCli(['check', '--fix'], { env: t.env, cwd: t.dir, tty: true, stdin });
      // the prompt waits for a key: answer no
      setImmediate(() => stdin.write('n'));
      const result = await answered;
      expect(result.stderr).toContain('apply these 2 fixes');
      expect(await state()).toEqual(before);
    });
  });

  describe('open-interview', () => {
    beforeEach(async () => {
      expect((await cli(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
      await load(t, 'open-interview-clean.sql');
    });

    it('reports nothing on a clean bank', async () => {
      const result = await cli(['check', '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json().findings).toEqual([]);
    });

    it('reports exactly the planted defects', async () => {
      await load(t, 'open-interview-defects.sql');
      const before = await snapshot(t);
      const result = await cli(['check', '--json']);
      expect(result.code, result.stderr).toBe(6);
      expect(findingPairs(result.json())).toEqual(OPEN_INTERVIEW_PLANTED);
      expect(result.json().findings.find((f: { rule: string }) => f.rule === 'duplicate-question')).toMatchObject({ related: ['oi-dup-2'], group: 'backend' });
      expect(await snapshot(t)).toBe(before);
    });

    it('--enqueue hands the findings about questions to the bots once, in one transaction with a run entry', async () => {
      await load(t, 'open-interview-defects.sql');
      const queueOf = async () => {
        const client = createClient({ url: `file:${t.dbPath}` });
        const rows = (await client.execute("SELECT item_type, item_id, action, status, reason, created_by FROM work_queue WHERE created_by = 'qbank' ORDER BY item_id, reason")).rows.map((row) => ({ ...row }));
        const runs = (await client.execute("SELECT command, counts FROM __qbank_audit WHERE command = 'check'")).rows.map((row) => ({ ...row }));
        client.close();
        return { rows, runs };
      };
      const first = await cli(['check', '--enqueue', '--skip-rules', 'near-duplicate-question', '--json']);
      expect(first.code, first.stderr).toBe(6);
      expect(first.json().enqueued).toMatchObject({ candidates: 6, queued: 6, alreadyPending: 0 });
      const { rows, runs } = await queueOf();
      expect(rows.map((row) => `${row.item_id} ${row.action} ${String(row.reason).split(':')[0]}`)).toEqual([
        'oi-dup-1 verify duplicate-question',
        'oi-json improve invalid-json',
        'oi-jsontext improve json-in-text',
        'oi-noexpl improve missing-explanation',
        'oi-trunc improve truncated-answer',
        'oi-value improve invalid-value',
      ]);
      expect(rows.every((row) => row.item_type === 'question' && row.status === 'pending')).toBe(true);
      expect(runs).toEqual([{ command: 'check', counts: '{"candidates":6}' }]);
      // a second run (options before the command) queues nothing new, and is recorded too
      const second = await cli(['--json', 'check', '--enqueue']);
      expect(second.json().enqueued).toMatchObject({ candidates: 7, queued: 1, alreadyPending: 6 });
      const after = await queueOf();
      expect(after.rows).toHaveLength(7);
      expect(after.runs).toHaveLength(2);
    });

    it.runIf(mode === 'remote')('a read-only token can check but not --enqueue', async () => {
      await load(t, 'open-interview-defects.sql');
      const env = { TURSO_AUTH_TOKEN: t.readOnlyToken! };
      const checked = await cli(['check'], { env });
      expect(checked.code, checked.stderr).toBe(6);
      const refused = await cli(['check', '--enqueue'], { env });
      expect([4, 5]).toContain(refused.code);
      const client = createClient({ url: `file:${t.dbPath}` });
      expect((await client.execute("SELECT count(*) AS n FROM work_queue WHERE created_by = 'qbank'")).rows[0]!.n).toBe(0);
      client.close();
    });
  });

  it('--enqueue refuses a PingToPass database, which has no work queue', async () => {
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    const result = await cli(['check', '--enqueue']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--enqueue hands findings to the open-interview system's work queue");
  });
});
