import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { removedCharacters, removesTooMuch, shortDiff } from '../src/output/review/edit.js';
import { parseCorrectAnswer } from '../src/db/review/pingtopass-options.js';

/** How much an edit removes decides whether it is confirmed first; a typo fix must not count as a rewrite. */
describe('what an edit removes', () => {
  const long = Array.from({ length: 30 }, (_, i) => `Line ${i}: OSPF sends hello packets every 10 seconds on broadcast links.`).join('\n');

  it('counts a fixed typo in a long line as one character, not the line', () => {
    expect(removedCharacters('The quick brown fox jumsp over the lazy dog', 'The quick brown fox jumps over the lazy dog')).toBe(2);
    expect(removesTooMuch(long, long.replace('Line 7: OSPF', 'Line 7: OSPFv2'))).toBe(false);
  });

  it('counts appended and inserted text as nothing removed', () => {
    expect(removedCharacters(long, `${long}\nA new closing line.`)).toBe(0);
    expect(removedCharacters('a\nc', 'a\nb\nc')).toBe(0);
  });

  it('catches a text cut down to its last line, or emptied, and scattered deletions that add up', () => {
    expect(removesTooMuch(long, '``` ok')).toBe(true);
    expect(removesTooMuch(long, '')).toBe(true);
    const lines = long.split('\n');
    const everyOther = lines.filter((_, i) => i % 2 === 0).join('\n');
    expect(removedCharacters(long, everyOther)).toBeGreaterThan(long.length / 3);
    expect(removesTooMuch(long, lines.slice(0, 25).join('\n'))).toBe(false);
  });

  it('shows removed lines, then added ones, each side cut short', () => {
    const diff = shortDiff(long, 'ok', pc.createColors(false), 3);
    expect(diff).toEqual([
      '- Line 0: OSPF sends hello packets every 10 seconds on broadcast links.',
      '- Line 1: OSPF sends hello packets every 10 seconds on broadcast links.',
      '- Line 2: OSPF sends hello packets every 10 seconds on broadcast links.',
      '  … 27 more removed line(s)',
      '+ ok',
    ]);
  });
});

describe('the correct answer, as the import reads it', () => {
  it('takes letters separated by , ; | or spaces, naming options the question has', () => {
    expect(parseCorrectAnswer('b', 4, 'single')).toEqual([false, true, false, false]);
    expect(parseCorrectAnswer('A; C|D', 4, 'multiple')).toEqual([true, false, true, true]);
    expect(() => parseCorrectAnswer('E', 4, 'multiple')).toThrow(/letter E names no option \(this question has 4: A-D\)/);
    expect(() => parseCorrectAnswer('A1', 4, 'multiple')).toThrow(/"A1" is not an option letter/);
    expect(() => parseCorrectAnswer(' ', 4, 'multiple')).toThrow(/at least one option letter/);
  });

  it('keeps exactly one correct option on a single-answer question', () => {
    expect(() => parseCorrectAnswer('A, B', 4, 'single')).toThrow(/exactly one correct option, not 2/);
    expect(parseCorrectAnswer('A, B', 4, 'multiple')).toEqual([true, true, false, false]);
  });
});
