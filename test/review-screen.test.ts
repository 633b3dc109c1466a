import { stripVTControlCharacters } from 'node:util';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { fitColumns, renderMarkdown, wrapHanging } from '../src/output/markdown.js';
import { contentOffset, fitKeys, frame, lineAtOffset } from '../src/output/review/viewport.js';

/** The review screen's text layer: wrapping in display columns, markdown, the frame and its scroll anchor. */

const squash = (text: string) => text.split(/\s+/).filter(Boolean).join(' ');

describe('wrapHanging', () => {
  it('breaks at spaces only, measured in display columns, and hangs continuation lines under the option text', () => {
    const option = '  ✔ B. SERIALIZABLE: 结果 与事务 的某种 串行顺序 相同 因此 不会出现 写偏斜 和幻读 代价是 更多的 冲突 与重试 🎯 and some more words at the end';
    const lines = wrapHanging(option, 40);
    for (const line of lines) expect(stringWidth(line)).toBeLessThanOrEqual(40);
    expect(lines[0].startsWith('  ✔ B. SERIALIZABLE:')).toBe(true);
    for (const line of lines.slice(1)) expect(line.startsWith('       ') && line[7] !== ' ').toBe(true);
    expect(squash(lines.join(' '))).toBe(squash(option));
  });

  it('ignores ANSI codes when measuring, and breaks only a word wider than the line', () => {
    const url = 'https://example.com/' + 'a'.repeat(70);
    const coloured = `  \x1b[32mA. see\x1b[39m ${url} for more`;
    const lines = wrapHanging(coloured, 40);
    for (const line of lines) expect(stringWidth(line)).toBeLessThanOrEqual(40);
    expect(stripVTControlCharacters(lines[0]).startsWith('  A. see https://example.com/')).toBe(true);
    expect(stripVTControlCharacters(lines.at(-1)!).trim().endsWith('for more')).toBe(true);
    expect(lines.map((l) => stripVTControlCharacters(l).trim()).join('')).toContain(url);
  });

  it('counts combining marks as no width', () => {
    const text = 'Cafe\u0301 '.repeat(20).trim();
    for (const line of wrapHanging(text, 24)) expect(stringWidth(line)).toBeLessThanOrEqual(24);
    expect(wrapHanging(text, 24)[0].normalize('NFC')).toBe(Array(5).fill('Caf\u00e9').join(' '));
  });
});

describe('renderMarkdown', () => {
  const source = [
    '## Why This Is Asked',
    '',
    'Some **bold** and _emphasis_, a [link](https://example.com/docs) and `code`.',
    '',
    '- first item with **strong** words',
    '- second',
    '',
    '> quoted words',
    '',
    '| Level | What it prevents |',
    '|---|---|',
    '| SERIALIZABLE | phantoms and write skew: the result is the same as some serial order of the transactions |',
    '',
    '```js',
    'const x = 1;',
    '```',
    '',
    '```mermaid',
    'graph TD',
    '  A-->B',
    '```',
  ].join('\n');

  it('renders headings, emphasis, lists, links, tables within the width, code and mermaid source; no markdown syntax left', () => {
    const lines = renderMarkdown(source, { width: 50, color: false });
    const text = lines.join('\n');
    expect(text).not.toMatch(/##|\*\*|```|\[link\]/);
    expect(text).toContain('Why This Is Asked');
    expect(squash(text)).toContain('a link (https://example.com/docs) and code.');
    expect(text).toMatch(/^\s+\* first item with strong words$/m);
    expect(text).toContain('    const x = 1;');
    expect(text).toContain('mermaid diagram (source):');
    expect(text).toContain('    graph TD');
    for (const line of lines) expect(stringWidth(line), line).toBeLessThanOrEqual(50);
    expect(lines.filter((l) => l.startsWith('│')).length).toBeGreaterThan(3);
  });

  it('gives the same layout with colour and without: only the escapes differ', () => {
    const plain = renderMarkdown(source, { width: 60, color: false });
    const coloured = renderMarkdown(source, { width: 60, color: true });
    expect(coloured.join('\n')).toMatch(/\x1b\[/);
    expect(coloured.map((l) => stripVTControlCharacters(l))).toEqual(plain);
  });
});

describe('the frame', () => {
  it('fits columns to the width: narrow ones keep theirs, wide ones share the rest', () => {
    expect(fitColumns([5, 100, 6], 60)).toEqual([5, 49, 6]);
    expect(fitColumns([5, 10], 60)).toEqual([5, 10]);
  });

  it('keeps the key line on the last row and says how much is below', () => {
    const body = Array.from({ length: 100 }, (_, i) => `line ${i}`);
    const screen = frame({ size: { columns: 80, rows: 24 }, header: 'header', body, notice: 'notice', keys: ['a approve', 'q quit'], top: 0, dim: (t) => t });
    const rows = screen.text.split('\n');
    expect(rows).toHaveLength(24);
    expect(rows.at(-1)).toMatch(/^a approve\s+q quit\s+── more below \(\d+ lines\)/);
    expect(rows.at(-2)).toBe('notice');
    const end = frame({ size: { columns: 80, rows: 24 }, header: 'header', body, keys: ['a approve', 'q quit'], top: 1000, dim: (t) => t });
    expect(end.text.split('\n').at(-2)).toBe('line 99');
  });

  it('wraps keys entry by entry when the width is short', () => {
    expect(fitKeys(['a approve (back to active)', 'r reject (delete)', 's skip', 'q quit'], 30)).toEqual(['a approve (back to active)', 'r reject (delete)  s skip', 'q quit']);
  });

  it('finds the same content at another width (the scroll anchor of a resize)', () => {
    const text = Array.from({ length: 40 }, (_, i) => `Step ${i} of the explanation: the leader waits for a quorum before it answers.`).join('\n');
    const narrow = renderMarkdown(text.replace(/\n/g, '\n\n'), { width: 40, color: false });
    const wide = renderMarkdown(text.replace(/\n/g, '\n\n'), { width: 120, color: false });
    const top = narrow.findIndex((l) => l.startsWith('Step 17 '));
    expect(wide[lineAtOffset(wide, contentOffset(narrow, top))]).toMatch(/^Step 17 /);
  });
});
