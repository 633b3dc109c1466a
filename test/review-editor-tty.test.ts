import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/modes.js';

/**
 * `qbank review` in a real pseudo-terminal (tmux), with no $VISUAL or $EDITOR: `e` opens vi, as git
 * would, and what vi saves is what the database stores, byte for byte. Every wait is for content on
 * the screen, never for a fixed time.
 */

const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V']);
    execFileSync('sh', ['-c', 'command -v vi']);
    return true;
  } catch {
    return false;
  }
})();

// trailing spaces, a tab, a code fence, wide characters, blank lines, no newline at the end
const EXPLANATION = [
  'OSPFv2 elects a DR on broadcast segments.   ',
  '',
  '```',
  'router ospf 1',
  '\tnetwork 10.0.0.0 0.255.255.255 area 0',
  '```',
  '',
  'Les routeurs élisent — ✓ 路由器',
  ...Array.from({ length: 20 }, (_, i) => `Line ${i + 1}: hello packets every 10 s on broadcast links, dead interval 40 s.`),
].join('\n');

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

class TmuxScreen {
  private readonly socket = `qbank-review-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly session = 'review';

  start(command: string): void {
    this.tmux('-f', '/dev/null', 'new-session', '-d', '-x', '100', '-y', '30', '-s', this.session, command);
    this.tmux('set-option', '-t', this.session, 'remain-on-exit', 'on');
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  text(): string {
    return this.tmux('capture-pane', '-p', '-t', this.session);
  }

  /** Polls the screen until it shows every pattern. */
  async waitFor(...patterns: Array<string | RegExp | ((screen: string) => boolean)>): Promise<string> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const screen = this.text();
      if (patterns.every((p) => (typeof p === 'string' ? screen.includes(p) : typeof p === 'function' ? p(screen) : p.test(screen)))) return screen;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${patterns.join(', ')}; the screen:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.session, ...keys);
  }

  type(text: string): void {
    this.tmux('send-keys', '-t', this.session, '-l', text);
  }

  close(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
  }
}

/** The first item of each system's queue, and how far down the field list its explanation is. */
const SYSTEMS = [
  { system: 'pingtopass', id: 'q_ccna_003', explanationRow: 1, fields: ['Question', 'Explanation', 'Option A', 'Correct answer', 'Tags'] },
  { system: 'open-interview', id: 'q-fx-0009', explanationRow: 2, fields: ['Question', 'Answer', 'Explanation', 'TL;DR', 'Tags'] },
] as const;

describe.runIf(hasTmux).each(SYSTEMS)('editing in a real terminal with no editor configured ($system)', ({ system, id, explanationRow, fields }) => {
  let t: TestDatabase;
  let screen: TmuxScreen;

  const explanation = async () => {
    const client = createClient({ url: `file:${t.dbPath}` });
    try {
      return (await client.execute({ sql: 'SELECT explanation FROM questions WHERE id = ?', args: [id] })).rows[0].explanation;
    } finally {
      client.close();
    }
  };

  beforeEach(async () => {
    t = await createTestDatabase('file');
    expect((await runCli(['db', 'push', '--schema', system], { env: t.env, cwd: t.dir })).code).toBe(0);
    expect((await runCli(['db', 'seed'], { env: t.env, cwd: t.dir })).code).toBe(0);
    const client = createClient({ url: `file:${t.dbPath}` });
    await client.execute({ sql: 'UPDATE questions SET explanation = ? WHERE id = ?', args: [EXPLANATION, id] });
    client.close();
    const entry = join(t.dir, 'qbank.mjs');
    writeFileSync(entry, `const { main } = await import(${JSON.stringify(join(process.cwd(), 'src/main.ts'))});\nprocess.exitCode = await main(process.argv.slice(2));\n`);
    const env = { PATH: process.env.PATH!, HOME: t.dir, TERM: 'xterm-256color', LANG: 'C.UTF-8', NO_COLOR: '1', TURSO_DATABASE_URL: t.url, QBANK_STATE_DIR: join(t.dir, 'state') };
    const assignments = Object.entries(env).map(([name, value]) => `${name}=${quote(value)}`);
    screen = new TmuxScreen();
    // env -i: neither VISUAL nor EDITOR reaches qbank, whatever the test runner has
    screen.start(`cd ${quote(process.cwd())} && env -i ${assignments.join(' ')} ${quote(process.execPath)} --import tsx ${quote(entry)} review --reviewer ada@example.com --schema ${system}; echo "qbank exited $?"`);
  });

  afterEach(async () => {
    screen.close();
    await t.close();
  });

  it('opens vi on the whole text and stores what vi saved, byte for byte; a cut is shown and not saved until confirmed', async () => {
    await screen.waitFor('e edit', 'q quit');
    screen.keys('e');
    await screen.waitFor(`Edit which field of ${id}?`, ...fields);
    const toExplanation = [...Array.from({ length: explanationRow }, () => 'Down'), 'Enter'];
    screen.keys(...toExplanation);
    // vi, on a file of the explanation's own lines, not a one-line prompt
    await screen.waitFor(/explanation\.md" (\[noeol\] )?\d+L/, 'router ospf 1', 'Line 3: hello packets');
    screen.keys('g', 'g', 'A');
    await screen.waitFor('-- INSERT --');
    screen.type(' (edited in vi)');
    screen.keys('Escape');
    await screen.waitFor((text) => !text.includes('-- INSERT --'));
    screen.type(':wq');
    screen.keys('Enter');
    await screen.waitFor(`✔ edited Explanation of ${id}`);
    const edited = EXPLANATION.replace('broadcast segments.   ', 'broadcast segments.    (edited in vi)');
    expect(await explanation()).toBe(edited);

    // now cut the text down to two characters: qbank shows the loss and asks; "no" keeps the text
    screen.keys('e');
    await screen.waitFor(`Edit which field of ${id}?`);
    screen.keys(...toExplanation);
    await screen.waitFor(/explanation\.md" (\[noeol\] )?\d+L/, 'router ospf 1');
    screen.keys('g', 'g', 'd', 'G', 'i');
    await screen.waitFor('-- INSERT --');
    screen.type('ok');
    screen.keys('Escape');
    await screen.waitFor((text) => !text.includes('-- INSERT --'));
    screen.type(':wq');
    screen.keys('Enter');
    await screen.waitFor('This edit removes', 'characters of Explanation', '- OSPFv2 elects a DR', '+ ok', `Save Explanation of ${id} with 2 character(s)?`);
    screen.keys('n');
    await screen.waitFor(`nothing edited: Explanation of ${id} is as it was`);
    expect(await explanation()).toBe(edited);

    screen.keys('q');
    await screen.waitFor('qbank exited 0');
  }, 120_000);
});
