import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { examples } from '../src/commands/context.js';
import { fitWidths, renderTable } from '../src/output/output.js';
import { runCli } from './support/cli.js';

const c = pc.createColors(false);
const QUESTION = 'Which two statements describe the behaviour of OSPF when two routers on a broadcast segment elect a designated router?';

describe('tables fit the terminal', () => {
  const rows = [['01a24e4d1d825af200000001', 'CCNA-200-301', QUESTION, 'pending', 'ana@example.com']];
  const headers = ['id', 'exam', 'question', 'status', 'reviewer'];

  it('at a terminal, no line is wider than it: the widest column is shortened with …', () => {
    const table = renderTable(headers, rows, true, c, 100);
    for (const line of table.split('\n')) expect([...line].length).toBeLessThanOrEqual(100);
    expect(table).toContain('…');
    expect(table).toContain('01a24e4d1d825af200000001');
    expect(table).toContain('ana@example.com');
    expect(table).toContain('Which two statements');
  });

  it('piped, every cell is in full', () => {
    const plain = renderTable(headers, rows, false, c);
    expect(plain).toContain(QUESTION);
    expect(renderTable(headers, rows, true, c, 400)).toContain(QUESTION);
  });

  it('gives way from the widest column down to a minimum', () => {
    expect(fitWidths([10, 100], 60)).toEqual([10, 43]);
    expect(fitWidths([10, 10], 200)).toEqual([10, 10]);
    expect(fitWidths([50, 50, 50], 20)).toEqual([6, 6, 6]);
  });
});

describe('help examples', () => {
  it('never cut a word: a long example puts its comment, and the rest of its command, on lines of their own', () => {
    const text = examples([
      ['qbank import bank.csv', 'import'],
      ['qbank import questions bank.csv --skip-invalid --rejects rejected.csv --encoding windows-1252', 'import the good rows of a file an older Excel saved, and set the others aside in a file of their own'],
    ]);
    const lines = text.split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    expect(lines).toContain('  $ qbank import bank.csv  # import');
    const words = text.replace(/[\s#$\\]+/g, ' ').trim().split(' ');
    for (const word of ['questions', '--skip-invalid', 'windows-1252', 'aside', 'their', 'own']) expect(words).toContain(word);
  });

  it('every command’s help fits 80 columns in its Examples section', async () => {
    for (const command of [['import'], ['export', 'questions'], ['import', 'questions']]) {
      const help = (await runCli([...command, '--help'])).stdout;
      const section = help.slice(help.indexOf('Examples:'));
      for (const line of section.split('\n').filter((text) => text.startsWith('  '))) expect(line.length, line).toBeLessThanOrEqual(80);
    }
  });
});
