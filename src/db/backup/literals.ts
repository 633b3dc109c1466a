/**
 * The rows of a dump are data, never expressions: `VALUES(…)` may hold only literals, and the few
 * fixed spellings qbank and sqlite3 write for values a plain literal cannot carry on one line:
 *
 *   NULL, 42, -1.5e-7, 'text', X'00ff'
 *   1e999 / -1e999 (sqlite3: ±Infinity), 9.0e+999 / -9.0e+999 (qbank: ±Infinity)
 *   (8.98846567431158e+307*2)               qbank: a float too close to the top of the range
 *   replace('a\nb','\n',char(10))           qbank and sqlite3: text holding CR or LF (nested for both)
 *   unistr('a\u000ab')                      sqlite3 3.50 and later: text with control characters
 *   CAST(X'610062' AS TEXT)                 qbank: text holding NUL
 *
 * One pass over the text, strings and blobs skipped with `indexOf` and sticky expressions, so a
 * row of any size is checked in linear time.
 */

const NUMBER = /[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/y;
const HEX_BODY = /(?:[0-9A-Fa-f]{2})*'/y;
const WORD = /[A-Za-z_]+/y;
const DOUBLED_NUMBER = /\(\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*\*\s*2\s*\)/y;
const CHAR_CALL = /char\s*\(\s*[0-9]{1,7}\s*\)/iy;

const OPEN = 40;
const CLOSE = 41;
const COMMA = 44;
const SEMICOLON = 59;
const QUOTE = 39;

function isBlank(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

class LiteralReader {
  pos: number;

  constructor(
    private readonly text: string,
    start: number,
  ) {
    this.pos = start;
  }

  blanks(): void {
    const text = this.text;
    while (this.pos < text.length && isBlank(text.charCodeAt(this.pos))) this.pos++;
  }

  /** Reads `c` (after blanks) or returns false. */
  take(c: number): boolean {
    this.blanks();
    if (this.text.charCodeAt(this.pos) !== c) return false;
    this.pos++;
    return true;
  }

  sticky(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.pos;
    const match = pattern.exec(this.text);
    if (!match) return undefined;
    this.pos = pattern.lastIndex;
    return match[0];
  }

  /** A '…' string with doubled quotes inside. */
  string(): boolean {
    this.blanks();
    if (this.text.charCodeAt(this.pos) !== QUOTE) return false;
    let i = this.pos + 1;
    for (;;) {
      const close = this.text.indexOf("'", i);
      if (close < 0) return false;
      if (this.text.charCodeAt(close + 1) === QUOTE) {
        i = close + 2;
        continue;
      }
      this.pos = close + 1;
      return true;
    }
  }

  blob(): boolean {
    const c = this.text.charCodeAt(this.pos);
    if ((c !== 88 && c !== 120) || this.text.charCodeAt(this.pos + 1) !== QUOTE) return false;
    this.pos += 2;
    return this.sticky(HEX_BODY) !== undefined;
  }

  /** A function call's name and its `(`, case-insensitive. */
  call(name: string): boolean {
    const at = this.pos;
    const word = this.sticky(WORD);
    if (word?.toLowerCase() === name && this.take(OPEN)) return true;
    this.pos = at;
    return false;
  }

  /** Text: a string, or one of the spellings that put line breaks and control characters back (nested once per kind of break). */
  textValue(depth = 0): boolean {
    this.blanks();
    if (this.string()) return true;
    if (depth > 3) return false;
    if (this.call('unistr')) return this.string() && this.take(CLOSE);
    if (this.call('replace')) {
      if (!this.textValue(depth + 1) || !this.take(COMMA) || !this.string() || !this.take(COMMA)) return false;
      this.blanks();
      return this.sticky(CHAR_CALL) !== undefined && this.take(CLOSE);
    }
    return false;
  }

  value(): string | undefined {
    this.blanks();
    const c = this.text.charCodeAt(this.pos);
    if (c === QUOTE) return this.string() ? undefined : 'an unterminated string';
    if (this.blob()) return undefined;
    if (c === OPEN) return this.sticky(DOUBLED_NUMBER) ? undefined : 'an expression in parentheses';
    if ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46) return this.sticky(NUMBER) ? undefined : 'a malformed number';
    const at = this.pos;
    const word = this.sticky(WORD)?.toLowerCase();
    this.pos = at;
    if (word === 'null') {
      this.pos += 4;
      return undefined;
    }
    if (word === 'replace' || word === 'unistr') return this.textValue() ? undefined : `a ${word}(…) that is not the form dumps write for line breaks`;
    if (word === 'cast') {
      this.call('cast');
      this.blanks();
      if (this.blob() && this.sticky(/\s+AS\s+TEXT\s*\)/iy)) return undefined;
      return 'a CAST(…) that is not CAST(X\'…\' AS TEXT)';
    }
    const shown = this.text.slice(this.pos, this.pos + 24).replace(/\s+/g, ' ');
    return word ? `an expression (${shown}…) where only literal values are accepted` : `"${shown}" where a value should be`;
  }
}

/**
 * Checks the tuples of an INSERT, `(v, …)[, (v, …)]… ;`, from `start` (the first `(`) to the end
 * of the statement. Returns the number of rows, or why the text is not plain data.
 */
export function checkValueTuples(text: string, start: number): { rows: number } | { problem: string } {
  const reader = new LiteralReader(text, start);
  let rows = 0;
  for (;;) {
    if (!reader.take(OPEN)) return { problem: 'VALUES must be followed by ( … )' };
    for (;;) {
      const problem = reader.value();
      if (problem) return { problem };
      if (reader.take(COMMA)) continue;
      if (reader.take(CLOSE)) break;
      return { problem: 'a value is followed by something other than , or )' };
    }
    rows++;
    if (reader.take(COMMA)) continue;
    if (!reader.take(SEMICOLON)) {
      const after = text.slice(reader.pos, reader.pos + 24).replace(/\s+/g, ' ').trim();
      return { problem: `"${after}…" after the values (only ; may end an INSERT)` };
    }
    reader.blanks();
    return reader.pos === text.length ? { rows } : { problem: 'text after the INSERT\'s semicolon' };
  }
}
