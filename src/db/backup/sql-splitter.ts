/**
 * Splits a stream of SQL text into statements the way SQLite itself decides where one ends
 * (`sqlite3_complete`): a semicolon ends a statement unless it is inside a string, a quoted
 * identifier or a comment, and a CREATE TRIGGER ends only at `; END ;`, because its body holds
 * semicolons of its own. Dumps are hundreds of megabytes, so the hot loop skips string bodies with
 * `indexOf` and never builds tokens for ordinary statements.
 */

export interface SplitStatement {
  /** From the statement's first token through its terminating semicolon; leading comments dropped. */
  text: string;
  /** 1-based position of the statement in the input. */
  index: number;
}

const enum State {
  Normal,
  SingleQuote,
  DoubleQuote,
  Backtick,
  Bracket,
  LineComment,
  BlockComment,
}

const SEMICOLON = 59;
const QUOTE = 39;
const DOUBLE_QUOTE = 34;
const BACKTICK = 96;
const OPEN_BRACKET = 91;
const DASH = 45;
const SLASH = 47;
const STAR = 42;

/** Characters that can change the scanner's state outside a string or comment. */
const SPECIAL = new Uint8Array(128);
for (const c of [SEMICOLON, QUOTE, DOUBLE_QUOTE, BACKTICK, OPEN_BRACKET, DASH, SLASH]) SPECIAL[c] = 1;

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

export class IncompleteSqlError extends Error {}

export class SqlSplitter {
  private buffer = '';
  /** Where scanning resumes in `buffer`. */
  private pos = 0;
  /** Start of the current statement's first token in `buffer`, or -1 while only blanks and comments were seen. */
  private start = -1;
  private state: State = State.Normal;
  /** Undefined until the current statement's first semicolon shows whether it is a CREATE TRIGGER. */
  private isTrigger: boolean | undefined;
  private count = 0;

  constructor(private readonly onStatement: (statement: SplitStatement) => void) {}

  push(chunk: string): void {
    this.buffer = this.buffer.length === 0 ? chunk : this.buffer + chunk;
    this.scan(false);
    this.compact();
  }

  /** Ends the input: anything but blanks and comments left over is an unfinished statement. */
  end(): void {
    this.scan(true);
    if (this.start >= 0) {
      const tail = this.buffer.slice(this.start, this.start + 80).replace(/\s+/g, ' ');
      throw new IncompleteSqlError(`the text ends inside statement #${this.count + 1} ("${tail}…"), which has no terminating semicolon`);
    }
    if (this.state === State.SingleQuote || this.state === State.DoubleQuote || this.state === State.Backtick || this.state === State.Bracket) {
      throw new IncompleteSqlError('the text ends inside a quoted string or identifier');
    }
    this.buffer = '';
    this.pos = 0;
  }

  get statementCount(): number {
    return this.count;
  }

  private compact(): void {
    const keep = this.start >= 0 ? this.start : this.pos;
    if (keep === 0) return;
    this.buffer = this.buffer.slice(keep);
    this.pos -= keep;
    if (this.start >= 0) this.start -= keep;
  }

  private emit(endExclusive: number): void {
    this.count++;
    this.onStatement({ text: this.buffer.slice(this.start, endExclusive), index: this.count });
    this.start = -1;
    this.isTrigger = undefined;
  }

  private scan(atEnd: boolean): void {
    const s = this.buffer;
    const n = s.length;
    let i = this.pos;
    while (i < n) {
      switch (this.state) {
        case State.Normal: {
          for (; i < n; i++) {
            const c = s.charCodeAt(i);
            if (c >= 128 || SPECIAL[c] === 0) {
              if (this.start < 0 && !isSpace(c)) this.start = i;
              continue;
            }
            if (c === SEMICOLON) {
              if (this.start < 0) continue;
              if (this.isTrigger === undefined) this.isTrigger = startsTrigger(s, this.start);
              if (!this.isTrigger) {
                this.emit(i + 1);
                continue;
              }
              const end = findTriggerEnd(s, this.start);
              if (end < 0) {
                // the trigger's `; END ;` is not in the buffer yet: rescan it when more text comes
                this.pos = atEnd ? n : this.start;
                this.state = State.Normal;
                if (!atEnd) return;
                i = n;
                break;
              }
              this.emit(end);
              i = end - 1;
              continue;
            }
            if (c === DASH || c === SLASH) {
              if (i + 1 >= n) {
                if (!atEnd) {
                  this.pos = i;
                  return;
                }
                if (this.start < 0) this.start = i;
                continue;
              }
              const next = s.charCodeAt(i + 1);
              if (c === DASH && next === DASH) {
                this.state = State.LineComment;
                i += 2;
                break;
              }
              if (c === SLASH && next === STAR) {
                this.state = State.BlockComment;
                i += 2;
                break;
              }
              if (this.start < 0) this.start = i;
              continue;
            }
            if (this.start < 0) this.start = i;
            this.state = c === QUOTE ? State.SingleQuote : c === DOUBLE_QUOTE ? State.DoubleQuote : c === BACKTICK ? State.Backtick : State.Bracket;
            i++;
            break;
          }
          break;
        }
        case State.SingleQuote:
        case State.DoubleQuote:
        case State.Backtick:
        case State.Bracket: {
          // a doubled quote reads as a string closing and another opening: the boundaries are the same
          const close = this.state === State.SingleQuote ? "'" : this.state === State.DoubleQuote ? '"' : this.state === State.Backtick ? '`' : ']';
          const j = s.indexOf(close, i);
          if (j < 0) {
            i = n;
            break;
          }
          this.state = State.Normal;
          i = j + 1;
          break;
        }
        case State.LineComment: {
          const j = s.indexOf('\n', i);
          if (j < 0) {
            i = n;
            break;
          }
          this.state = State.Normal;
          i = j + 1;
          break;
        }
        case State.BlockComment: {
          const j = s.indexOf('*/', i);
          if (j < 0) {
            // keep the last character: it may be the `*` of a `*/` split across chunks
            i = Math.max(i, n - 1);
            if (atEnd) i = n;
            else {
              this.pos = i;
              return;
            }
            break;
          }
          this.state = State.Normal;
          i = j + 2;
          break;
        }
      }
    }
    this.pos = i;
  }
}

// ---------------------------------------------------------------------------------------------
// A small tokenizer for statement heads and trigger bodies

export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'punct' | 'end';

export interface Token {
  kind: TokenKind;
  /** Raw text of the token as it appears in the SQL. */
  raw: string;
  start: number;
  end: number;
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;

/** Skips blanks and comments from `pos`; returns the index of the next significant character. */
export function skipBlanks(s: string, pos: number): number {
  let i = pos;
  for (;;) {
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
    if (s.startsWith('--', i)) {
      const j = s.indexOf('\n', i);
      i = j < 0 ? s.length : j + 1;
      continue;
    }
    if (s.startsWith('/*', i)) {
      const j = s.indexOf('*/', i + 2);
      i = j < 0 ? s.length : j + 2;
      continue;
    }
    return i;
  }
}

export function readToken(s: string, pos: number): Token {
  const start = skipBlanks(s, pos);
  if (start >= s.length) return { kind: 'end', raw: '', start, end: start };
  const c = s[start]!;
  const closeOf: Record<string, string> = { "'": "'", '"': '"', '`': '`', '[': ']' };
  if (c in closeOf) {
    const close = closeOf[c]!;
    let j = start + 1;
    for (;;) {
      const k = s.indexOf(close, j);
      if (k < 0) return { kind: c === "'" ? 'string' : 'quoted', raw: s.slice(start), start, end: s.length };
      if (close !== ']' && s[k + 1] === close) {
        j = k + 2;
        continue;
      }
      return { kind: c === "'" ? 'string' : 'quoted', raw: s.slice(start, k + 1), start, end: k + 1 };
    }
  }
  if (WORD_START.test(c)) {
    let j = start + 1;
    while (j < s.length && WORD_CHAR.test(s[j]!)) j++;
    // X'..' is a blob literal, not the word X
    if ((c === 'x' || c === 'X') && j === start + 1 && s[j] === "'") {
      const k = s.indexOf("'", j + 1);
      const end = k < 0 ? s.length : k + 1;
      return { kind: 'string', raw: s.slice(start, end), start, end };
    }
    return { kind: 'word', raw: s.slice(start, j), start, end: j };
  }
  if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(s[start + 1] ?? ''))) {
    const match = /^(?:0x[0-9a-fA-F]+|[0-9]*\.?[0-9]*(?:[eE][+-]?[0-9]+)?)/.exec(s.slice(start, start + 64));
    const len = Math.max(1, match?.[0].length ?? 1);
    return { kind: 'number', raw: s.slice(start, start + len), start, end: start + len };
  }
  return { kind: 'punct', raw: c, start, end: start + 1 };
}

/** The name an identifier token stands for: quotes removed and doubled quotes undone. */
export function identifierValue(token: Token): string {
  const raw = token.raw;
  if (token.kind === 'quoted' || token.kind === 'string') {
    const open = raw[0]!;
    const close = open === '[' ? ']' : open;
    const body = raw.endsWith(close) && raw.length >= 2 ? raw.slice(1, -1) : raw.slice(1);
    return open === '[' ? body : body.split(close + close).join(close);
  }
  return raw;
}

function isWord(token: Token, word: string): boolean {
  return token.kind === 'word' && token.raw.length === word.length && token.raw.toUpperCase() === word;
}

function startsTrigger(s: string, start: number): boolean {
  let token = readToken(s, start);
  if (!isWord(token, 'CREATE')) return false;
  token = readToken(s, token.end);
  if (isWord(token, 'TEMP') || isWord(token, 'TEMPORARY')) token = readToken(s, token.end);
  return isWord(token, 'TRIGGER');
}

/**
 * The end (exclusive) of a CREATE TRIGGER statement starting at `start`, or -1 when the text
 * stops first. This is `sqlite3_complete`'s state machine from the TRIGGER keyword on.
 */
function findTriggerEnd(s: string, start: number): number {
  const TRIGGER = 5;
  const SEMI = 6;
  const END = 7;
  let state = TRIGGER;
  let pos = start;
  // past CREATE [TEMP] TRIGGER
  for (let skipped = 0; skipped < 3; ) {
    const token = readToken(s, pos);
    pos = token.end;
    if (isWord(token, 'TRIGGER')) break;
    skipped++;
  }
  for (;;) {
    const token = readToken(s, pos);
    if (token.kind === 'end') return -1;
    // an unterminated string or comment at the end of the buffer means more text is needed
    if ((token.kind === 'string' || token.kind === 'quoted') && token.end === s.length && !/['"`\]]$/.test(token.raw.slice(1))) return -1;
    pos = token.end;
    const isSemi = token.kind === 'punct' && token.raw === ';';
    if (state === TRIGGER) state = isSemi ? SEMI : TRIGGER;
    else if (state === SEMI) state = isSemi ? SEMI : isWord(token, 'END') ? END : TRIGGER;
    else if (state === END) {
      if (isSemi) return pos;
      state = TRIGGER;
    }
  }
}
