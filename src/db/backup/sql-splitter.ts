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
  /** 1-based line of the input on which the statement starts. */
  line: number;
}

function countNewlines(text: string, from = 0, to = text.length): number {
  let lines = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) lines++;
  return lines;
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

/** What ends a quoted name or string, or a `--` comment: one character each. */
const CLOSING_CHARACTER: Partial<Record<State, string>> = {
  [State.SingleQuote]: "'",
  [State.DoubleQuote]: '"',
  [State.Backtick]: '`',
  [State.Bracket]: ']',
  [State.LineComment]: '\n',
};

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

/**
 * Text reaches the splitter in chunks; a statement may span thousands of them (a row with a big
 * blob). Each chunk is scanned once, with the scanner's state carried over, and the pieces of an
 * unfinished statement are kept apart and joined once when it ends: the work is linear in the
 * input, however long a statement is.
 */
export class SqlSplitter {
  /** The text being scanned: a character or two held back from the previous chunk, then the latest chunk. */
  private buffer = '';
  /** Where scanning resumes in `buffer`. */
  private pos = 0;
  /** Start in `buffer` of the current statement (0 when it began in an earlier chunk), or -1 while only blanks and comments were seen. */
  private start = -1;
  /** The current statement's text from earlier chunks. */
  private pieces: string[] = [];
  private piecesChars = 0;
  private state: State = State.Normal;
  /** Undefined until the current statement's first semicolon shows whether it is a CREATE TRIGGER. */
  private isTrigger: boolean | undefined;
  /** A trigger whose `; END ;` was not found yet: its length at the last search, which runs again once it has doubled. */
  private triggerSearchedAt = -1;
  private count = 0;
  private copied = 0;
  /** Newlines before `buffer[counted]`. */
  private newlines = 0;
  private counted = 0;
  /** Line on which the current statement starts, once its start has been passed over. */
  private startLine = 0;

  constructor(private readonly onStatement: (statement: SplitStatement) => void) {}

  push(chunk: string): void {
    if (this.triggerSearchedAt >= 0) {
      this.keepPiece(chunk);
      this.newlines += countNewlines(chunk);
      if (this.piecesChars >= 2 * this.triggerSearchedAt) this.searchTriggerEnd(false);
      return;
    }
    const held = this.buffer.slice(this.pos);
    this.copied += held.length > 0 ? held.length + chunk.length : 0;
    this.buffer = held.length > 0 ? held + chunk : chunk;
    this.pos = 0;
    this.scan(false);
    this.holdRest();
  }

  /** Ends the input: anything but blanks and comments left over is an unfinished statement. */
  end(): void {
    if (this.triggerSearchedAt >= 0) this.searchTriggerEnd(true);
    else this.scan(true);
    if (this.start >= 0 || this.pieces.length > 0) {
      const tail = (this.pieces[0] ?? this.buffer.slice(this.start)).slice(0, 80).replace(/\s+/g, ' ');
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

  /** Characters copied between strings or scanned again so far: the work that must stay linear in the input. */
  get charsCopied(): number {
    return this.copied;
  }

  private keepPiece(text: string): void {
    if (text.length === 0) return;
    this.pieces.push(text);
    this.piecesChars += text.length;
  }

  /** After a chunk: the unfinished statement's part of it becomes a piece; what was not scanned yet waits for the next chunk. */
  private holdRest(): void {
    if (this.start >= 0) {
      this.markStartLine();
      this.keepPiece(this.buffer.slice(this.start, this.pos));
      this.start = 0;
    }
    this.countLinesTo(this.pos);
    this.buffer = this.buffer.slice(this.pos);
    this.pos = 0;
    this.counted = 0;
  }

  private countLinesTo(position: number): void {
    if (position <= this.counted) return;
    this.newlines += countNewlines(this.buffer, this.counted, position);
    this.counted = position;
  }

  /** Notes the line of the current statement's start while it is still in `buffer` (or already noted). */
  private markStartLine(): void {
    if (this.startLine > 0) return;
    this.countLinesTo(this.start);
    this.startLine = this.newlines + 1;
  }

  /** Text already counted comes back to be scanned again (after a trigger): its newlines are taken off. */
  private rescan(text: string): void {
    this.newlines -= countNewlines(text);
    this.buffer = text;
    this.pos = 0;
    this.counted = 0;
  }

  /** The current statement's text from its start through `endExclusive` in `buffer`. */
  private statementText(endExclusive: number): string {
    const last = this.buffer.slice(this.start, endExclusive);
    if (this.pieces.length === 0) return last;
    this.pieces.push(last);
    const text = this.pieces.join('');
    this.copied += text.length;
    this.pieces = [];
    this.piecesChars = 0;
    return text;
  }

  private emit(text: string): void {
    this.count++;
    this.onStatement({ text, index: this.count, line: this.startLine });
    this.start = -1;
    this.startLine = 0;
    this.isTrigger = undefined;
  }

  /**
   * The trigger in `pieces` (its whole text so far) is searched for its end; found, it is emitted
   * and the text after it scanned as usual. Searching again only when the text has doubled keeps
   * a long trigger linear.
   */
  private searchTriggerEnd(atEnd: boolean): void {
    const text = this.pieces.join('');
    this.copied += text.length * 2;
    this.pieces = [];
    this.piecesChars = 0;
    const end = findTriggerEnd(text, 0);
    if (end < 0) {
      this.keepPiece(text);
      this.triggerSearchedAt = text.length;
      if (atEnd) this.start = 0;
      return;
    }
    this.triggerSearchedAt = -1;
    this.emit(text.slice(0, end));
    this.rescan(text.slice(end));
    this.state = State.Normal;
    this.scan(atEnd);
    if (!atEnd) this.holdRest();
  }

  /** A CREATE TRIGGER's first semicolon was reached: finds its end in the text so far, or waits for more. Returns where scanning goes on in the new buffer, or -1 to stop. */
  private triggerFrom(): number {
    this.countLinesTo(this.buffer.length);
    const head = this.statementText(this.buffer.length);
    const end = findTriggerEnd(head, 0);
    this.copied += head.length;
    if (end >= 0) {
      this.emit(head.slice(0, end));
      this.rescan(head.slice(end));
      return 0;
    }
    this.keepPiece(head);
    this.triggerSearchedAt = head.length;
    this.buffer = '';
    this.pos = 0;
    this.counted = 0;
    this.start = -1;
    return -1;
  }

  private scan(atEnd: boolean): void {
    let s = this.buffer;
    let n = s.length;
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
              if (this.isTrigger === undefined) this.isTrigger = startsTrigger(this.statementHead(i), 0);
              this.markStartLine();
              if (!this.isTrigger) {
                this.emit(this.statementText(i + 1));
                continue;
              }
              const next = this.triggerFrom();
              if (next < 0) return;
              s = this.buffer;
              n = s.length;
              i = next - 1;
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
        case State.Bracket:
        case State.LineComment: {
          // a doubled quote reads as a string closing and another opening: the boundaries are the same
          const j = s.indexOf(CLOSING_CHARACTER[this.state]!, i);
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
            if (atEnd) i = n;
            else {
              this.pos = Math.max(i, n - 1);
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

  /**
   * Enough of the current statement to see whether it is a CREATE [TEMP] TRIGGER. Comments may sit
   * between those words, so a statement that starts with CREATE is looked at whole; any other
   * statement (a long INSERT) by its first characters.
   */
  private statementHead(upTo: number): string {
    if (this.pieces.length === 0) return this.buffer.slice(this.start, upTo);
    let prefix = '';
    for (const piece of this.pieces) {
      prefix += piece.slice(0, 6 - prefix.length);
      if (prefix.length >= 6) break;
    }
    if (prefix.length < 6) prefix += this.buffer.slice(this.start, this.start + 6 - prefix.length);
    if (!/^create/i.test(prefix)) return prefix;
    const head = this.pieces.join('') + this.buffer.slice(this.start, upTo);
    this.copied += head.length;
    return head;
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
