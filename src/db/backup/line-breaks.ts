/**
 * Keeps every INSERT of a dump on one line. `turso db shell` reads a dump line by line, trims
 * each line, drops empty ones and runs a statement when a line ends with `;`, so a raw line break
 * inside a text value would change the value or split the statement. Like `sqlite3 .dump`, a text
 * literal holding CR or LF is written as `replace('a\nb','\n',char(10))` with a marker the text
 * does not contain.
 */

/**
 * Self-contained (no imports, no outside names) because the dump also runs it in a worker thread
 * built from this function's source text; see page-pipeline.ts.
 */
export function createLineBreakEscaper(): { escapeLiteral: (literal: string) => string; pageToLines: (page: Buffer, prefixBytes: number) => Buffer } {
  const LF = 0x0a;
  const CR = 0x0d;
  const QUOTE = 0x27;
  const SEPARATOR = 0x00;
  const LF_MARKER = Buffer.from('\\n');
  const LF_TAIL = Buffer.from(`,'\\n',char(10))`);
  const REPLACE_OPEN = Buffer.from('replace(');

  function unusedMarker(text: string, first: string, second: string, fallback: string): string {
    if (!text.includes(first)) return first;
    if (!text.includes(second)) return second;
    for (let i = 0; ; i++) {
      const marker = `\\(${fallback}${i})`;
      if (!text.includes(marker)) return marker;
    }
  }

  /** `'a<LF>b'` → `replace('a\nb','\n',char(10))`, on the literal's bytes (latin1 keeps them as they are). */
  function escapeLiteral(literal: string): string {
    let text = literal;
    if (text.includes('\r')) {
      const marker = unusedMarker(text, '\\r', '\\015', 'r');
      text = `replace(${text.replaceAll('\r', marker)},'${marker}',char(13))`;
    }
    if (text.includes('\n')) {
      const marker = unusedMarker(text, '\\n', '\\012', 'n');
      text = `replace(${text.replaceAll('\n', marker)},'${marker}',char(10))`;
    }
    return text;
  }

  /** The escaped literal as buffers to append; the common case (LF only, no `\n` in the text) without copying. */
  function escapedLiteral(literal: Buffer, out: Buffer[]): void {
    if (literal.includes(CR) || literal.includes(LF_MARKER)) {
      out.push(Buffer.from(escapeLiteral(literal.toString('latin1')), 'latin1'));
      return;
    }
    out.push(REPLACE_OPEN);
    let from = 0;
    for (let lf = literal.indexOf(LF); lf >= 0; lf = literal.indexOf(LF, from)) {
      out.push(literal.subarray(from, lf), LF_MARKER);
      from = lf + 1;
    }
    out.push(literal.subarray(from), LF_TAIL);
  }

  /**
   * Turns a page of rows rendered by SQLite (joined by NUL, which no rendered row contains) into
   * dump lines: separators become LF, and text literals holding line breaks are escaped. Every CR
   * or LF in a page is inside a text literal, so only the literals around them are looked at.
   */
  function pageToLines(page: Buffer, prefixBytes: number): Buffer {
    // each search runs once per break found; a kind of break that is absent is looked for once
    let nextLf = page.indexOf(LF);
    let nextCr = page.indexOf(CR);
    const nextBreak = () => (nextLf < 0 ? nextCr : nextCr < 0 ? nextLf : Math.min(nextLf, nextCr));
    const passed = (position: number) => {
      if (nextLf >= 0 && nextLf < position) nextLf = page.indexOf(LF, position);
      if (nextCr >= 0 && nextCr < position) nextCr = page.indexOf(CR, position);
    };
    if (nextBreak() < 0) {
      for (let i = page.indexOf(SEPARATOR); i >= 0; i = page.indexOf(SEPARATOR, i + 1)) page[i] = LF;
      return page;
    }
    const out: Buffer[] = [];
    let copied = 0;
    let rowStart = 0;
    for (;;) {
      let rowEnd = page.indexOf(SEPARATOR, rowStart);
      const last = rowEnd < 0;
      if (last) rowEnd = page.length;
      let brk = nextBreak();
      if (brk >= 0 && brk < rowEnd) {
        // walk the row's literals up to the last line break inside it
        let search = rowStart + prefixBytes;
        while (brk >= 0 && brk < rowEnd) {
          const open = page.indexOf(QUOTE, search);
          let close = open + 1;
          for (;;) {
            close = page.indexOf(QUOTE, close);
            if (close < 0 || close >= rowEnd) throw new Error('a rendered row has an unterminated string literal');
            if (page[close + 1] === QUOTE) close += 2;
            else break;
          }
          if (brk < close) {
            out.push(page.subarray(copied, open));
            escapedLiteral(page.subarray(open, close + 1), out);
            copied = close + 1;
            passed(close + 1);
            brk = nextBreak();
          }
          search = close + 1;
        }
      }
      if (last) break;
      page[rowEnd] = LF;
      rowStart = rowEnd + 1;
    }
    out.push(page.subarray(copied));
    return Buffer.concat(out);
  }

  return { escapeLiteral, pageToLines };
}

export const { escapeLiteral, pageToLines } = createLineBreakEscaper();
