import { parse } from 'csv-parse/sync';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PINGTOPASS_QUESTION_COLUMNS } from '../src/db/import/pingtopass-rows.js';
import { ColumnMap, readRecords, type SourceRecord } from '../src/db/import/records.js';
import { CHUNK_BYTES, openTextSource } from '../src/db/import/text-source.js';
import { tempDir } from './support/cli.js';
import { random } from './support/random.js';

/**
 * The file is read in chunks of CHUNK_BYTES into one reused buffer: a character, a CRLF or a quoted
 * field cut by the end of a read must come out whole, in every encoding, wherever the cut falls.
 */

const dir = tempDir();
afterAll(() => dir.remove());

function file(name: string, bytes: Buffer): string {
  const path = join(dir.path, name);
  writeFileSync(path, bytes);
  return path;
}

async function chunksOf(path: string): Promise<string[]> {
  const source = await openTextSource(path);
  const chunks: string[] = [];
  try {
    for await (const chunk of source.chunks()) chunks.push(chunk);
  } finally {
    await source.close();
  }
  return chunks;
}

/** Text of one- to four-byte UTF-8 characters (surrogate pairs in UTF-16), line breaks and quotes. */
function mixedText(rnd: () => number, length: number): string {
  const pieces = ['a', 'Z', ' ', ',', '"', '\n', '\r\n', 'é', 'ß', '中', '文', '😀', '𝐀', '\t', ';'];
  let out = '';
  while (out.length < length) out += pieces[Math.floor(rnd() * pieces.length)];
  return out;
}

function encode(text: string, encoding: 'utf-8' | 'utf-16le' | 'utf-16be'): Buffer {
  if (encoding === 'utf-8') return Buffer.from(text, 'utf8');
  const le = Buffer.from(text, 'utf16le');
  return encoding === 'utf-16le' ? Buffer.concat([Buffer.from([0xff, 0xfe]), le]) : Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(le).swap16()]);
}

describe('reading a file in chunks', () => {
  it.each(['utf-8', 'utf-16le', 'utf-16be'] as const)('gives back %s text byte for byte, whatever the reads cut, in chunks small enough for the ordinary heap', async (encoding) => {
    for (const seed of [1, 2, 3]) {
      const rnd = random(seed);
      // a few hundred bytes of shift, so characters of every width land on the boundaries
      const text = 'x'.repeat(Math.floor(rnd() * 400)) + mixedText(rnd, CHUNK_BYTES * 3);
      const chunks = await chunksOf(file(`mixed-${encoding}-${seed}.txt`, encode(text, encoding)));
      expect(chunks.join('')).toBe(text);
      expect(chunks.length).toBeGreaterThan(2);
      // a chunk's text stays below V8's 128 KiB limit for ordinary heap objects, two bytes a character at worst
      for (const chunk of chunks) expect(chunk.length * 2).toBeLessThan(128 * 1024);
    }
  });
});

describe('CSV records across chunk boundaries', () => {
  const columns = new ColumnMap(PINGTOPASS_QUESTION_COLUMNS);
  const header = ['id', 'exam_code', 'text', 'option_a', 'option_b', 'correct', 'difficulty'];

  async function records(path: string): Promise<SourceRecord[]> {
    const source = await openTextSource(path);
    const out: SourceRecord[] = [];
    try {
      const stream = readRecords(source, { format: 'csv', columns, ignoreUnknownColumns: false, maxFieldChars: 1 << 20 });
      for await (const batch of stream.batches) out.push(...batch);
    } finally {
      await source.close();
    }
    return out;
  }

  const quote = (value: string) => `"${value.replace(/"/g, '""')}"`;

  it('reads every row as csv-parse does when a CRLF, a doubled quote or a quoted line break falls on a read boundary', async () => {
    const rnd = random(7);
    for (let shift = -4; shift <= 4; shift++) {
      // the first row is padded so that its end (and the next row's start) moves across the boundary
      const rows: string[][] = [];
      let text = header.join(',') + '\r\n';
      const padding = CHUNK_BYTES - Buffer.byteLength(text) - 60 + shift;
      for (let i = 0; rows.length < 400; i++) {
        const body = i === 0 ? 'p'.repeat(padding) : mixedText(rnd, 1 + Math.floor(rnd() * 300));
        const row = [`q-${i}`, 'SC-900', body.trim() || 'x', i % 3 === 0 ? '' : 'yes "really"', 'no\r\nway', 'A', String(1 + (i % 5))];
        rows.push(row);
        text += row.map((cell, column) => (column === 2 || column === 3 || column === 4 ? quote(cell) : cell)).join(',') + '\r\n';
      }
      const path = file(`rows-${shift}.csv`, Buffer.from(text, 'utf8'));
      const read = await records(path);
      const expected = parse(text, { relax_column_count: true, skip_empty_lines: true }) as string[][];
      expect(read.map((record) => (record.raw as { fields: string[] }).fields)).toEqual(expected.slice(1));
      expect(read.map((record) => record.values.text)).toEqual(rows.map((row) => row[2]));
      // lines count the line breaks inside quoted fields
      let line = 2;
      for (const [index, record] of read.entries()) {
        expect(record.line).toBe(line);
        line += rows[index].join('').split('\n').length;
      }
    }
  });
});
