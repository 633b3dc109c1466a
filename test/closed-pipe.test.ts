import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './support/cli.js';
import { createTestDatabase, MODES, type TestDatabase } from './support/modes.js';

/**
 * `qbank … | head` as a shell runs it: real processes, a real pipe whose reader leaves early. The
 * built CLI (`npm run build`) is what runs. A closed pipe is not an error: no stack trace, no
 * message, status 0 for help and version, 141 (128 + SIGPIPE, as `yes | head` gives) elsewhere.
 */

const BIN = resolve(__dirname, '..', 'bin', 'qbank.js');

interface PipeRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** How long a pipeline may run before the watchdog asks qbank what keeps it alive and stops it. */
const WATCHDOG_MS = 20_000;

/**
 * Runs `node bin/qbank.js ARGS | READER` in bash and reports qbank's own exit status. A qbank that
 * outlives the watchdog is asked for a Node diagnostic report (its JavaScript stack and the libuv
 * handles that keep it alive), then killed: the test fails saying what it was waiting for.
 */
function pipeInto(args: string[], reader: string, env: Record<string, string> = {}, cwd = process.cwd()): Promise<PipeRun> {
  const quoted = args.map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
  const scratch = tempDir('qbank-pipe-');
  const pidFile = join(scratch.path, 'pid');
  const writer = `exec node --report-on-signal --report-signal=SIGUSR2 --report-directory="$QBANK_PIPE_DIR" '${BIN}' ${quoted}`;
  const script = `sh -c 'echo $$ >"$QBANK_PIPE_DIR/pid"; ${writer.replace(/'/g, `'\\''`)}' 2>"$QBANK_PIPE_DIR/stderr.txt" | ${reader}; echo "qbank-status:\${PIPESTATUS[0]}" >&2; cat "$QBANK_PIPE_DIR/stderr.txt" >&2`;
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-c', script], { cwd, env: { PATH: process.env.PATH, ...env, QBANK_PIPE_DIR: scratch.path } });
    let stdout = '';
    let stderr = '';
    let hung: string | undefined;
    const watchdog = setTimeout(() => void (hung = describeHungWriter(scratch.path, pidFile)), WATCHDOG_MS);
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', fail);
    child.on('close', () => {
      clearTimeout(watchdog);
      scratch.remove();
      if (hung !== undefined) return fail(new Error(`qbank ${args.join(' ')} | ${reader} still ran after ${WATCHDOG_MS} ms; reader got ${stdout.length} characters.\n${hung}\nstderr so far: ${stderr}`));
      const match = /qbank-status:(\d+)\n/.exec(stderr);
      if (!match) return fail(new Error(`no status in: ${stderr}`));
      done({ status: Number(match[1]), stdout, stderr: stderr.slice(match.index + match[0].length) });
    });
  });
}

interface HungReport {
  javascriptStack?: { message?: string; stack?: string[] };
  libuv?: Array<{ type: string; is_active: boolean; is_referenced?: boolean; localEndpoint?: unknown; remoteEndpoint?: unknown; fd?: number }>;
}

/** The diagnostic report in `dir`, once Node has written it whole. */
function readReport(dir: string): HungReport | undefined {
  const name = readdirSync(dir).find((file) => file.startsWith('report.') && file.endsWith('.json'));
  if (name === undefined) return undefined;
  try {
    return JSON.parse(readFileSync(join(dir, name), 'utf8')) as HungReport;
  } catch {
    return undefined;
  }
}

/** Asks the hung qbank for its diagnostic report, sums up what keeps it alive, and kills it. */
function describeHungWriter(dir: string, pidFile: string): string {
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  let summary = `qbank (pid ${pid}) gave no report`;
  try {
    process.kill(pid, 'SIGUSR2');
    const deadline = Date.now() + 5000;
    let report: HungReport | undefined;
    while (Date.now() < deadline && report === undefined) {
      report = readReport(dir);
      if (report === undefined) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
    if (report !== undefined) {
      const handles = (report.libuv ?? [])
        .filter((handle) => handle.type !== 'loop')
        .map(({ type, is_active, is_referenced, localEndpoint, remoteEndpoint, fd }) => ({ type, is_active, is_referenced, localEndpoint, remoteEndpoint, fd }));
      summary = [`JavaScript stack: ${report.javascriptStack?.message ?? ''} ${(report.javascriptStack?.stack ?? []).slice(0, 8).join(' | ')}`, `libuv handles: ${JSON.stringify(handles)}`].join('\n');
    }
  } catch (error) {
    summary += `: ${(error as Error).message}`;
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // it ended on its own meanwhile
  }
  return summary;
}

describe('a closed pipe ends quietly', () => {
  it('help: status 0, no stack trace', async () => {
    const run = await pipeInto(['review', '--help'], 'head -3');
    expect(run.stdout.split('\n').slice(0, 1)).toEqual(['Usage: qbank review [options] [command]']);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
  });

  it('help of the program, reader gone before anything is written: status 0', async () => {
    const run = await pipeInto(['--help'], 'true');
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
  });

  it('--version, plain and --json: status 0', async () => {
    for (const args of [['--version'], ['--version', '--json']]) {
      const run = await pipeInto(args, 'head -c 1');
      expect(run.status).toBe(0);
      expect(run.stderr).toBe('');
    }
  });
});

describe.each(MODES)('a long listing cut short (%s)', (mode) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(mode);
    expect((await runCli(['db', 'push', '--schema', 'pingtopass'], { env: t.env, cwd: t.dir })).code).toBe(0);
    writeFileSync(join(t.dir, 'exams.csv'), 'code,name,vendor,category,passing_score,total_questions,time_limit,price,description\nPIPE-101,Pipes,Unix,Systems,700,10,60,0,Readers and writers\n');
    const rows = Array.from({ length: 3000 }, (_, i) => `PIPE-101,Question ${i} about what a reader that leaves early does to a writer,Nothing,SIGPIPE,B,Because ${i},2`);
    writeFileSync(join(t.dir, 'questions.csv'), ['exam_code,text,option_a,option_b,correct,explanation,difficulty', ...rows].join('\n') + '\n');
    expect((await runCli(['import', 'exams', 'exams.csv'], { env: t.env, cwd: t.dir })).code).toBe(0);
    expect((await runCli(['import', 'questions.csv'], { env: t.env, cwd: t.dir })).code).toBe(0);
  });
  afterAll(async () => {
    await t.close();
  });

  it('review list | head -1: status 141, nothing on stderr, no blame on the server', async () => {
    const run = await pipeInto(['review', 'list', '--limit', '3000'], 'head -1', t.env, t.dir);
    expect(run.stdout).toMatch(/^ID\s+EXAM/);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(141);
  });

  it('backup dump - | head -3: status 141, nothing on stderr', async () => {
    const run = await pipeInto(['backup', 'dump', '-'], 'head -3', t.env, t.dir);
    expect(run.stdout).toMatch(/^-- qbank backup dump/);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(141);
  });

  it('review list --json | head -c 100: the document cut short, status 141, nothing on stderr', async () => {
    const run = await pipeInto(['review', 'list', '--limit', '3000', '--json'], 'head -c 100', t.env, t.dir);
    expect(run.stdout).toHaveLength(100);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(141);
  });

  it('review list --json into a reader slower than qbank (a shell loop): the whole document, status 0', async () => {
    // 600 questions: some 200 KB of JSON, more than a pipe holds
    const run = await pipeInto(['review', 'list', '--limit', '600', '--json'], 'while IFS= read -r line; do printf "%s\\n" "$line"; done', t.env, t.dir);
    expect(run.stderr).toBe('600 of 3,000 (use --limit)\n');
    expect(run.status).toBe(0);
    expect(run.stdout.length).toBeGreaterThan(128 * 1024);
    expect((JSON.parse(run.stdout) as { items: unknown[] }).items).toHaveLength(600);
  });

  it('the whole listing read: status 0', async () => {
    const run = await pipeInto(['review', 'list', '--limit', '3000'], 'wc -l', t.env, t.dir);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(Number(run.stdout.trim())).toBeGreaterThan(3000);
  });
});
