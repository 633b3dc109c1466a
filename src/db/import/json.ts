/**
 * Streaming readers for JSON question files: a top-level array of records (open-interview's own
 * `data/questions/*.json`) and JSON Lines. Only one record's text is held at a time; each is
 * handed to `JSON.parse` with the line and column where it starts.
 */

export interface JsonElement {
  line: number;
  column: number;
  text: string;
}

export class JsonSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    message: string,
  ) {
    super(message);
  }
}

const enum Stage {
  BeforeArray,
  BeforeElement,
  AfterElement,
  InElement,
  AfterArray,
}

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}

/** Splits `[ {...}, {...} ]` into the text of each element, tracking strings and nesting. */
export class JsonArraySplitter {
  private stage = Stage.BeforeArray;
  private line = 1;
  private lineStart = 0;
  private offset = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private parts: string[] = [];
  private partStart = 0;
  private partLength = 0;
  private elementLine = 0;
  private elementColumn = 0;

  constructor(private readonly maxRecordChars: number) {}

  push(text: string, out: JsonElement[]): void {
    const n = text.length;
    this.partStart = 0;
    for (let i = 0; i < n; i++) {
      const code = text.charCodeAt(i);
      if (code === 10) {
        this.line++;
        this.lineStart = this.offset + i + 1;
      }
      switch (this.stage) {
        case Stage.InElement: {
          if (this.inString) {
            if (this.escaped) this.escaped = false;
            else if (code === 92) this.escaped = true;
            else if (code === 34) this.inString = false;
            continue;
          }
          if (code === 34) this.inString = true;
          else if (code === 123 || code === 91) this.depth++;
          else if (code === 125 || code === 93) {
            if (this.depth === 0) {
              // `]` closing the array right after a scalar element
              this.finishElement(text, i, out);
              if (code === 93) this.stage = Stage.AfterArray;
              else throw this.error(i, 'unexpected "}"');
              continue;
            }
            this.depth--;
            if (this.depth === 0) {
              this.finishElement(text, i + 1, out);
              this.stage = Stage.AfterElement;
            }
          } else if (code === 44 && this.depth === 0) {
            this.finishElement(text, i, out);
            this.stage = Stage.BeforeElement;
          }
          continue;
        }
        case Stage.BeforeArray:
          if (isSpace(code)) continue;
          if (code === 91) {
            this.stage = Stage.BeforeElement;
            continue;
          }
          throw this.error(i, 'a .json file must hold an array of records: [ {...}, {...} ], an object holding one under "questions", or one record (for one record per line, use .jsonl)');
        case Stage.BeforeElement:
        case Stage.AfterElement:
          if (isSpace(code)) continue;
          if (this.stage === Stage.AfterElement && code === 44) {
            this.stage = Stage.BeforeElement;
            continue;
          }
          if (code === 93) {
            this.stage = Stage.AfterArray;
            continue;
          }
          if (this.stage === Stage.AfterElement) throw this.error(i, 'expected "," or "]" after a record');
          this.stage = Stage.InElement;
          this.elementLine = this.line;
          this.elementColumn = this.offset + i - this.lineStart + 1;
          this.partStart = i;
          this.partLength = 0;
          this.depth = 0;
          if (code === 34) this.inString = true;
          else if (code === 123 || code === 91) this.depth = 1;
          continue;
        case Stage.AfterArray:
          if (isSpace(code)) continue;
          throw this.error(i, 'text after the closing "]" of the array');
      }
    }
    if (this.stage === Stage.InElement) {
      const piece = text.slice(this.partStart);
      this.parts.push(piece);
      this.partLength += piece.length;
      if (this.partLength > this.maxRecordChars) {
        throw new JsonSyntaxError(this.elementLine, this.elementColumn, `a record is longer than the limit of ${this.maxRecordChars.toLocaleString('en-US')} characters`);
      }
    }
    this.offset += n;
  }

  end(): void {
    if (this.stage === Stage.InElement || this.stage === Stage.BeforeElement || this.stage === Stage.AfterElement) {
      if (this.stage === Stage.InElement) {
        throw new JsonSyntaxError(this.elementLine, this.elementColumn, 'the file ends inside this record (a missing "}" or an unterminated string)');
      }
      throw new JsonSyntaxError(this.line, this.offset - this.lineStart + 1, 'the file ends before the closing "]" of the array');
    }
    if (this.stage === Stage.BeforeArray) throw new JsonSyntaxError(1, 1, 'the file is empty: expected an array of records');
  }

  lineAtEnd(): number {
    return this.line;
  }

  private finishElement(text: string, end: number, out: JsonElement[]): void {
    const tail = text.slice(this.partStart, end);
    const whole = this.parts.length > 0 ? this.parts.join('') + tail : tail;
    this.parts = [];
    this.partLength = 0;
    out.push({ line: this.elementLine, column: this.elementColumn, text: whole });
  }

  private error(i: number, message: string): JsonSyntaxError {
    return new JsonSyntaxError(this.line, this.offset + i - this.lineStart + 1, message);
  }
}

/** Splits JSON Lines into one element per non-empty line. */
export class JsonLinesSplitter {
  private line = 1;
  private pending = '';

  constructor(private readonly maxRecordChars: number) {}

  push(text: string, out: JsonElement[]): void {
    const buf = this.pending + text;
    let start = 0;
    for (let end = buf.indexOf('\n'); end !== -1; end = buf.indexOf('\n', start)) {
      this.emit(buf.slice(start, end), out);
      start = end + 1;
    }
    this.pending = buf.slice(start);
    if (this.pending.length > this.maxRecordChars) {
      throw new JsonSyntaxError(this.line, 1, `a line is longer than the limit of ${this.maxRecordChars.toLocaleString('en-US')} characters`);
    }
  }

  end(out: JsonElement[]): void {
    if (this.pending.length > 0) this.emit(this.pending, out);
    this.pending = '';
  }

  lineAtEnd(): number {
    return this.line + (this.pending.match(/\n/g)?.length ?? 0);
  }

  private emit(lineText: string, out: JsonElement[]): void {
    const line = this.line++;
    const text = lineText.endsWith('\r') ? lineText.slice(0, -1) : lineText;
    if (text.trim().length === 0) return;
    out.push({ line, column: 1, text });
  }
}
