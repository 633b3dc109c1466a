import { describe, expect, it } from 'vitest';
import { writeJsonDocument } from '../src/output/json-document.js';
import { random } from './support/random.js';

/** The replacer of the CLI's JSON documents: bigints as numbers when safe, else digits; bytes as base64. */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}

function written(value: unknown, chunkChars: number): { text: string; chunks: string[] } {
  const chunks: string[] = [];
  writeJsonDocument((chunk) => chunks.push(chunk), value, replacer, chunkChars);
  return { text: chunks.join(''), chunks };
}

function randomValue(rnd: () => number, depth: number): unknown {
  const pick = Math.floor(rnd() * (depth > 3 ? 9 : 12));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rnd() < 0.5;
    case 2:
      return [0, -0, 1.5, -7, 1e21, 2 ** 53 + 2, Number.NaN, Number.POSITIVE_INFINITY][Math.floor(rnd() * 8)];
    case 3:
      return ['', 'plain', 'quote " and \\ backslash', 'line\nbreak\ttab\u0001\u001f', 'é 中文 😀', '\u2028\u2029', '\ud800 lone'][Math.floor(rnd() * 7)];
    case 4:
      return [10n, 2n ** 64n, -3n][Math.floor(rnd() * 3)];
    case 5:
      return undefined;
    case 6:
      return new Date(Date.UTC(2026, 11, 7, Math.floor(rnd() * 24)));
    case 7:
      return new Uint8Array([1, 2, 255].slice(0, Math.floor(rnd() * 4)));
    case 8:
      return () => 1;
    case 9:
    case 10:
      return Array.from({ length: Math.floor(rnd() * 5) }, () => randomValue(rnd, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 5) }, (_, i) => [['id', 'a b', 'é', '"q"', ''][i % 5] + i, randomValue(rnd, depth + 1)]));
  }
}

describe('the JSON document writer', () => {
  it('writes exactly what JSON.stringify(value, replacer, 2) writes, whatever the chunk size', () => {
    const rnd = random(7);
    for (let round = 0; round < 2_000; round++) {
      const value = { document: randomValue(rnd, 0), list: [randomValue(rnd, 1)], nothing: undefined };
      const expected = JSON.stringify(value, replacer, 2) + '\n';
      for (const chunkChars of [1, 7, 1 << 16]) expect(written(value, chunkChars).text).toBe(expected);
    }
  });

  it('writes a large document in pieces of about the chunk size', () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => `q_${i.toString(36).padStart(12, '0')}`);
    const { text, chunks } = written({ created: ids.length, ids: { created: ids } }, 1 << 16);
    expect(text).toBe(JSON.stringify({ created: ids.length, ids: { created: ids } }, null, 2) + '\n');
    expect(chunks.length).toBeGreaterThan(text.length / (1 << 16) - 1);
    expect(Math.max(...chunks.map((chunk) => chunk.length))).toBeLessThan((1 << 16) + 100);
  });
});
