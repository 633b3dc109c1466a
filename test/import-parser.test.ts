import { parse } from 'csv-parse/sync';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvParser, CsvSyntaxError, type CsvRecord } from '../src/db/import/csv.js';
import { FingerprintSet, fingerprintInto, fingerprintText } from '../src/db/import/fingerprints.js';
import { JsonArraySplitter, JsonLinesSplitter, JsonSyntaxError, type JsonElement } from '../src/db/import/json.js';
import { CHUNK_BYTES, InvalidBytesError, openTextSource } from '../src/db/import/text-source.js';
import { tempDir } from './support/cli.js';
import { random } from './support/random.js';


/** Parses `text` fed in random pieces, as chunks of a file arrive. */
function parseInPieces(text: string, rnd: () => number, maxField?: number): CsvRecord[] {
  const parser = new CsvParser(maxField);
  const out: CsvRecord[] = [];
  for (let at = 0; at < text.length; ) {
    const length = 1 + Math.floor(rnd() * 9);
    parser.push(text.slice(at, at + length), out);
    at += length;
  }
  parser.end(out);
  return out;
}

describe('CsvParser', () => {
  it('reads what csv-parse reads, however the text is cut into chunks', () => {
    const rnd = random(42);
    const pieces = ['a', 'b', ',', '"', '\n', '\r\n', ' ', 'é', '😀', 'x', '\r'];
    for (let run = 0; run < 2000; run++) {
      const columns = 1 + Math.floor(rnd() * 5);
      const rows = Array.from({ length: 1 + Math.floor(rnd() * 6) }, () =>
        Array.from({ length: columns }, () => Array.from({ length: Math.floor(rnd() * 6) }, () => pieces[Math.floor(rnd() * pieces.length)]).join('')),
      );
      for (const row of rows) if (columns === 1 && row[0] === '') row[0] = 'z';
      const eol = rnd() < 0.5 ? '\n' : '\r\n';
      const text =
        rows.map((row) => row.map((v) => (/[",\r\n]/.test(v) || rnd() < 0.2 ? `"${v.replace(/"/g, '""')}"` : v)).join(',')).join(eol) + (rnd() < 0.5 ? eol : '');
      const expected = parse(text, { relax_column_count: true }) as string[][];
      expect(parseInPieces(text, rnd).map((record) => record.fields), JSON.stringify(text)).toEqual(expected);
    }
  });

  it('numbers records and fields by the line they start on', () => {
    const text = 'h1,h2,h3\r\n"multi\r\nline",b,c\r\n\r\nd,"e\nf\ng",h\ni,j,"k"\n';
    const records = parseInPieces(text, random(1));
    expect(records.map((r) => [r.line, r.fields])).toEqual([
      [1, ['h1', 'h2', 'h3']],
      [2, ['multi\r\nline', 'b', 'c']],
      [5, ['d', 'e\nf\ng', 'h']],
      [8, ['i', 'j', 'k']],
    ]);
    expect(records[1].fieldLines).toEqual([2, 3, 3]);
    expect(records[2].fieldLines).toEqual([5, 5, 7]);
    expect(records[3].fieldLines).toBeUndefined();
  });

  it('keeps doubled quotes, commas and line breaks inside quoted fields; a quote inside an unquoted field is text', () => {
    const [record] = parseInPieces('"say ""hi"", then\nleave",5" screen,\n', random(2));
    expect(record.fields).toEqual(['say "hi", then\nleave', '5" screen', '']);
  });

  it('reports an unterminated quote at the line where the field began', () => {
    const parser = new CsvParser();
    const out: CsvRecord[] = [];
    parser.push('a,b\n1,2\n3,"never\nclosed\n4,5\n', out);
    expect(() => parser.end(out)).toThrow(CsvSyntaxError);
    try {
      parser.end(out);
    } catch {
      // reported once
    }
    const again = new CsvParser();
    again.push('a,b\n1,2\n3,"never\nclosed\n4,5\n', []);
    try {
      again.end([]);
      expect.unreachable();
    } catch (error) {
      expect((error as CsvSyntaxError).line).toBe(3);
      expect((error as CsvSyntaxError).message).toMatch(/unterminated quoted field/);
    }
  });

  it('names the limit when a field is too long, also before the field ends', () => {
    expect(() => parseInPieces(`a,b\n1,${'x'.repeat(101)}\n`, random(3), 100)).toThrow(/longer than the limit of 100 characters/);
    const parser = new CsvParser(100);
    expect(() => parser.push(`a,b\n1,"${'x'.repeat(200)}`, [])).toThrow(/line 2|longer than the limit of 100/);
  });

  it('stops at a NUL byte with its line', () => {
    const parser = new CsvParser();
    try {
      parser.push('a,b\n1,2\n3,\u0000\n', []);
      expect.unreachable();
    } catch (error) {
      expect((error as CsvSyntaxError).line).toBe(3);
      expect((error as Error).message).toMatch(/NUL byte/);
    }
  });
});

describe('text source', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());
  const file = (name: string, bytes: Buffer) => {
    const path = join(dir.path, name);
    writeFileSync(path, bytes);
    return path;
  };
  const read = async (path: string, encoding?: string) => {
    const source = await openTextSource(path, { encoding });
    let text = '';
    try {
      for await (const chunk of source.chunks()) text += chunk;
    } finally {
      await source.close();
    }
    return { text, encoding: source.encoding };
  };

  it('follows byte-order marks and drops them', async () => {
    const text = 'é,😀\r\nline 2\n';
    expect(await read(file('u8.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])))).toEqual({ text, encoding: 'utf-8' });
    expect(await read(file('u16le.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])))).toEqual({ text, encoding: 'utf-16le' });
    const be = Buffer.from(text, 'utf16le').swap16();
    expect(await read(file('u16be.csv', Buffer.concat([Buffer.from([0xfe, 0xff]), be])))).toEqual({ text, encoding: 'utf-16be' });
  });

  it('decodes windows-1252 as Excel writes it (curly quotes, euro sign)', async () => {
    expect((await read(file('cp.csv', Buffer.from([0x93, 0x80, 0x32, 0x94, 0x20, 0xe9, 0x96])), 'windows-1252')).text).toBe('“€2” é–');
    expect((await read(file('l1.csv', Buffer.from([0x92])), 'latin1')).text).toBe('’');
  });

  it('keeps characters cut by a chunk boundary whole, and finds the exact offset of an invalid byte far into a file', async () => {
    const prefix = Buffer.from('x'.repeat(CHUNK_BYTES * 3 - 1));
    const whole = await read(file('boundary.csv', Buffer.concat([prefix, Buffer.from('😀é')])));
    expect(whole.text.endsWith('😀é')).toBe(true);
    const path = file('bad.csv', Buffer.concat([prefix, Buffer.from('😀ok\n'), Buffer.from([0xc3, 0x28])]));
    await expect(read(path)).rejects.toMatchObject({ byteOffset: prefix.length + 7, exact: true });
    await expect(read(path)).rejects.toBeInstanceOf(InvalidBytesError);
    await expect(read(file('odd.csv', Buffer.from([0xff, 0xfe, 0x41, 0x00, 0x42])))).rejects.toMatchObject({ encoding: 'utf-16le', byteOffset: 4 });
    await expect(read(file('lone.csv', Buffer.from([0xff, 0xfe, 0x00, 0xd8, 0x41, 0x00])))).rejects.toMatchObject({ encoding: 'utf-16le' });
  });
});

describe('JSON readers', () => {
  const split = (text: string, rnd: () => number) => {
    const splitter = new JsonArraySplitter(1 << 20);
    const out: JsonElement[] = [];
    for (let at = 0; at < text.length; ) {
      const length = 1 + Math.floor(rnd() * 7);
      splitter.push(text.slice(at, at + length), out);
      at += length;
    }
    splitter.end();
    return out;
  };

  it('splits an array into records with their line and column, whatever the strings hold', () => {
    const records = [{ a: '}]"{[', b: [1, { c: '\\"' }] }, { question: 'line\nbreak', tags: [] }, { x: null }];
    const text = JSON.stringify(records, null, 2);
    const starts = text.split('\n').flatMap((line, index) => (line === '  {' ? [[index + 1, 3]] : []));
    expect(starts).toHaveLength(3);
    for (let seed = 0; seed < 50; seed++) {
      const out = split(text, random(seed));
      expect(out.map((element) => JSON.parse(element.text))).toEqual(records);
      expect(out.map((element) => [element.line, element.column])).toEqual(starts);
    }
  });

  it('refuses what is not an array, and a file cut inside a record', () => {
    expect(() => split('{"a": 1}', random(1))).toThrow(/must hold an array of records/);
    expect(() => split('[\n  {"a": "unterminated\n', random(1))).toThrow(JsonSyntaxError);
    expect(() => split('[{"a": 1} {"b": 2}]', random(1))).toThrow(/expected "," or "]" after a record/);
  });

  it('reads JSON Lines, skipping blank lines', () => {
    const splitter = new JsonLinesSplitter(1 << 20);
    const out: JsonElement[] = [];
    splitter.push('{"a":1}\r\n\n  \n{"b"', out);
    splitter.push(':2}', out);
    splitter.end(out);
    expect(out).toEqual([
      { line: 1, column: 1, text: '{"a":1}' },
      { line: 4, column: 1, text: '{"b":2}' },
    ]);
  });
});

describe('FingerprintSet', () => {
  it('finds every repeated key and no others among many', () => {
    const set = new FingerprintSet();
    for (let i = 1; i <= 200_000; i++) {
      const probe = set.probe(['t', `exam-${i % 7}`, `question text number ${i}`]);
      expect(probe.line).toBe(0);
      set.add(probe, i);
    }
    expect(set.probe(['t', 'exam-3', 'question text number 3']).line).toBe(3);
    expect(set.probe(['t', 'exam-3', 'question text number 4']).line).toBe(0);
    expect(set.probe(['t', 'exam-', '3question text number 3']).line).toBe(0);
  });

  it('holds every key whatever size it was reserved for, and keeps them as it grows past it', () => {
    for (const reserved of [1, 1_000, 3_333, 50_000]) {
      const set = new FingerprintSet();
      set.reserve(reserved);
      const keys = reserved * 3;
      for (let i = 1; i <= keys; i++) {
        const probe = set.probe(['i', `id-${i}`]);
        if (probe.line !== 0) throw new Error(`reserved ${reserved}: key ${i} found before it was added`);
        set.add(probe, i);
      }
      for (let i = 1; i <= keys; i++) if (set.probe(['i', `id-${i}`]).line !== i) throw new Error(`reserved ${reserved}: key ${i} lost`);
      expect(set.probe(['i', `id-${keys + 1}`]).line).toBe(0);
    }
  });

  it('finds repeated keys whose last part was fingerprinted already, and fingerprints a text as fingerprintInto does', () => {
    const set = new FingerprintSet();
    const words = new Int32Array(3);
    const single = new Int32Array(2);
    for (let i = 1; i <= 200_000; i++) {
      const text = `question text number ${i} ${'é'.repeat(i % 5)}`;
      fingerprintText(words, 0, text);
      fingerprintInto(single, 0, text);
      if (words[0] !== single[0] || words[1] !== single[1]) throw new Error(`line ${i}: the comparison's words differ`);
      const probe = set.probeHashed(['t', `exam-${i % 7}`], words, 0);
      expect(probe.line).toBe(0);
      set.add(probe, i);
    }
    fingerprintText(words, 0, `question text number 3 ${'é'.repeat(3)}`);
    expect(set.probeHashed(['t', 'exam-3'], words, 0).line).toBe(3);
    expect(set.probeHashed(['t', 'exam-4'], words, 0).line).toBe(0);
    // the same parts unhashed are another key
    expect(set.probe(['t', 'exam-3', `question text number 3 ${'é'.repeat(3)}`]).line).toBe(0);
  });
});
