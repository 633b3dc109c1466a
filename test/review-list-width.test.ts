import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pc from 'picocolors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columnsThatFit, fitWidths, renderTable } from '../src/output/output.js';
import { runCli } from './support/cli.js';
import { haveCommands, startQbank, TmuxScreen } from './support/tmux.js';

/**
 * `qbank review list` at a terminal: whatever its width, the ids (what a reviewer types next) stay
 * whole and the question keeps a readable width; columns a narrow terminal cannot hold are left
 * out with a notice naming them, and come back on a wider one. Piped, nothing is left out.
 */

const c = pc.createColors(false);
const hasTmux = haveCommands('tmux');

describe('column widths', () => {
  it('the widest columns give way first; narrower ones keep their width', () => {
    expect(fitWidths([24, 12, 10, 80], 80)).toEqual([22, 12, 10, 22]);
    expect(fitWidths([40, 40, 5], 60)).toEqual([22, 22, 5]);
  });

  it('a flexible column gives way first, down to a readable width, so the others stay whole', () => {
    expect(fitWidths([24, 12, 10, 80], 80, 6, 3)).toEqual([24, 12, 10, 21]);
    expect(fitWidths([24, 12, 10, 80], 70, 6, 3)).toEqual([17, 12, 10, 17]);
  });

  it('optional columns go, least needed first, only while the widest would be cut below a readable width', () => {
    const headers = ['id', 'exam', 'difficulty', 'objective', 'ai', 'feedback', 'question'];
    const rows = [['q_ccna_003', 'CCNA-200-301', '4', '3.0', 'gpt-4o', '1', 'Which two statements about OSPFv2 are true? (Choose two.)']];
    const optional = ['ai', 'feedback', 'objective', 'difficulty'];
    expect(columnsThatFit(headers, rows, 80, { optional, flexible: 'question' }).map((i) => headers[i])).toEqual(['id', 'exam', 'difficulty', 'objective', 'question']);
    expect(columnsThatFit(headers, rows, 140, { optional, flexible: 'question' })).toHaveLength(7);
    expect(columnsThatFit(headers, rows, 40, { optional, flexible: 'question' }).map((i) => headers[i])).toEqual(['id', 'exam', 'question']);
    const table = renderTable(['id', 'exam', 'question'], [[rows[0][0], rows[0][1], rows[0][6]]], true, c, 40, 2);
    for (const line of table.split('\n')) expect([...line].length).toBeLessThanOrEqual(40);
  });
});

describe.skipIf(!hasTmux)('review list in a real terminal', () => {
  let dir: string;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qbank-list-width-'));
    url = `file:${join(dir, 'bank.db')}`;
    for (const args of [['db', 'push', '--schema', 'pingtopass'], ['db', 'seed']]) {
      const result = await runCli(args, { env: { TURSO_DATABASE_URL: url } });
      expect(result.code, result.stderr).toBe(0);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function listAt(columns: number, rows: number): Promise<string[]> {
    const screen = new TmuxScreen(columns, rows);
    try {
      startQbank(screen, { dir, url }, ['review', 'list', '--limit', '5']);
      return await screen.waitFor('qbank exited');
    } finally {
      screen.close();
    }
  }

  const tableLines = (lines: string[]) => lines.filter((line) => line.startsWith('│'));

  it('at 80×24: ids whole, the question readable, the columns left out named', async () => {
    const lines = await listAt(80, 24);
    const screen = lines.join('\n');
    expect(screen).toContain('qbank exited 0');
    const body = tableLines(lines);
    expect(body.length).toBeGreaterThan(1);
    for (const line of lines) expect([...line.trimEnd()].length).toBeLessThanOrEqual(80);
    const header = body[0].split('│').map((cell) => cell.trim()).filter(Boolean);
    expect(header).toEqual(['id', 'exam', 'difficulty', 'objective', 'question']);
    for (const row of body.slice(1)) {
      const cells = row.split('│').map((cell) => cell.trim());
      expect(cells[1]).toMatch(/^\S+$/);
      expect(cells[1]).not.toContain('…');
      expect(cells.at(-2)!.length).toBeGreaterThanOrEqual(18);
    }
    expect(screen).toContain('not shown at this width: ai, feedback');
  });

  it('at 160×30: every column, no notice', async () => {
    const lines = await listAt(160, 30);
    const header = tableLines(lines)[0].split('│').map((cell) => cell.trim()).filter(Boolean);
    expect(header).toEqual(['id', 'exam', 'difficulty', 'objective', 'ai', 'feedback', 'question']);
    expect(lines.join('\n')).not.toContain('not shown at this width');
  });

  it('piped: every column and every cell in full', async () => {
    const result = await runCli(['review', 'list', '--limit', '5'], { env: { TURSO_DATABASE_URL: url } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split('\n')[0].split(/\s{2,}/)).toEqual(['ID', 'EXAM', 'DIFFICULTY', 'OBJECTIVE', 'AI', 'FEEDBACK', 'QUESTION']);
    expect(result.stderr).not.toContain('not shown');
  });
});
