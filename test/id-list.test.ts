import { describe, expect, it } from 'vitest';
import { writeJsonDocument } from '../src/output/json-document.js';
import { IdList } from '../src/db/import/id-list.js';
import { random } from './support/random.js';

/** Ids of many shapes: empty, long, non-ASCII, astral, with separators a join might confuse. */
function someIds(count: number, seed: number): Array<[string, boolean]> {
  const rnd = random(seed);
  const shapes = ['', 'q', 'é中', '😀x', 'a\nb', ',', '"', 'x'.repeat(300)];
  return Array.from({ length: count }, (_, i) => [`${shapes[Math.floor(rnd() * shapes.length)]}${i}`, rnd() < 0.3]);
}

describe('IdList', () => {
  it('gives back the ids pushed, in order, across its chunks; the marked ones apart', () => {
    for (const count of [0, 1, 1023, 1024, 1025, 5000]) {
      const pushed = someIds(count, count);
      const list = new IdList();
      for (const [id, marked] of pushed) list.push(id, marked);
      const ids = pushed.map(([id]) => id);
      const marked = pushed.filter(([, mark]) => mark).map(([id]) => id);
      expect(list.length).toBe(count);
      expect([...list]).toEqual(ids);
      expect(list.toJSON()).toEqual(ids);
      expect(list.slice(0, 20)).toEqual(ids.slice(0, 20));
      expect(list.slice(1020, 1030)).toEqual(ids.slice(1020, 1030));
      expect(list.slice(-3)).toEqual(ids.slice(-3));
      expect(list.marked().length).toBe(marked.length);
      expect([...list.marked()]).toEqual(marked);
      expect(list.marked().slice(0, 20)).toEqual(marked.slice(0, 20));
    }
  });

  it('is written into a JSON document as the array JSON.stringify writes for it', () => {
    const list = new IdList();
    for (const [id, marked] of someIds(3000, 9)) list.push(id, marked);
    const document = { ids: { created: list, assigned: list.marked(), updated: new IdList() }, after: 1 };
    const expected = `${JSON.stringify(document, null, 2)}\n`;
    expect(expected).toContain('"updated": []');
    // written item by item: the writer never makes the whole array
    list.toJSON = () => {
      throw new Error('toJSON called');
    };
    for (const chunkChars of [1, 7, 1 << 16]) {
      const chunks: string[] = [];
      writeJsonDocument((chunk) => chunks.push(chunk), document, (_key, value) => value, chunkChars);
      expect(chunks.join('')).toBe(expected);
    }
  });
});
