/*
 * SQL analysis: statement boundaries, parameters and the kind of each statement (sqld parses
 * every statement itself before running it; the `libsql` package does not expose
 * sqlite3_stmt_readonly or the parameter names, so a tokenizer stands in for both).
 */

export type StmtKind = 'read' | 'write' | 'txn-begin' | 'txn-end' | 'savepoint' | 'release';

export interface SqlStatement {
  readonly sql: string;
  readonly kind: StmtKind;
  /** INSERT, UPDATE or DELETE: the only statements whose changes() sqld reports. */
  readonly isIud: boolean;
  readonly isInsert: boolean;
  readonly isExplain: boolean;
  /** A ROLLBACK that ends the transaction (not ROLLBACK TO). */
  readonly isRollback: boolean;
  /** Leaves state on the connection (PRAGMA, ATTACH, TEMP objects), so it is not reused. */
  readonly taintsConnection: boolean;
  /**
   * A PRAGMA: SQLite applies `PRAGMA foreign_keys=off` and its kind while compiling, so such a
   * statement is prepared only right before it runs, and never kept for reuse.
   */
  readonly actsWhenPrepared: boolean;
  /** For parameter i+1: its name as SQLite reports it (`:a`, `?2`), or null for a bare `?`. */
  readonly params: readonly (string | null)[];
}

interface Token {
  type: 'word' | 'quoted' | 'param' | 'semi' | 'open' | 'close' | 'other';
  start: number;
  end: number;
  /** Upper-cased text of a word, the text of a parameter. */
  text: string;
}

const isIdStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
const isIdChar = (c: number) => isIdStart(c) || (c >= 48 && c <= 57) || c === 36;
const isDigit = (c: number) => c >= 48 && c <= 57;

function skipQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  for (;;) {
    const end = sql.indexOf(quote, i);
    if (end < 0) return sql.length;
    if (sql[end + 1] === quote) i = end + 2;
    else return end + 1;
  }
}

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const n = sql.length;
  let i = 0;
  const push = (type: Token['type'], start: number, end: number, text = '') => {
    tokens.push({ type, start, end, text });
    i = end;
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    const start = i;
    if (c === 32 || (c >= 9 && c <= 13)) i++;
    else if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === 59) push('semi', start, i + 1);
    else if (c === 40) push('open', start, i + 1);
    else if (c === 41) push('close', start, i + 1);
    else if (c === 39) push('other', start, skipQuoted(sql, i, "'"));
    else if (c === 34 || c === 96) push('quoted', start, skipQuoted(sql, i, sql[i]!));
    else if (c === 91) {
      const end = sql.indexOf(']', i);
      push('quoted', start, end < 0 ? n : end + 1);
    } else if (c === 63) {
      let j = i + 1;
      while (j < n && isDigit(sql.charCodeAt(j))) j++;
      push('param', start, j, sql.slice(start, j));
    } else if (c === 58 || c === 64 || c === 36 || c === 35) {
      // :name @name $name #name, with SQLite's TCL extras `::` and a `(...)` suffix
      let j = i + 1;
      let idChars = 0;
      while (j < n) {
        const d = sql.charCodeAt(j);
        if (isIdChar(d)) {
          j++;
          idChars++;
        } else if (d === 40 && idChars > 0) {
          const end = sql.indexOf(')', j);
          j = end < 0 ? n : end + 1;
          break;
        } else if (d === 58 && sql.charCodeAt(j + 1) === 58) j += 2;
        else break;
      }
      if (idChars > 0) push('param', start, j, sql.slice(start, j));
      else push('other', start, i + 1);
    } else if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      let j = i + 1;
      while (j < n) {
        const d = sql.charCodeAt(j);
        const prev = sql.charCodeAt(j - 1);
        if (isIdChar(d) || d === 46) j++;
        else if ((d === 43 || d === 45) && (prev === 101 || prev === 69)) j++;
        else break;
      }
      push('other', start, j);
    } else if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdChar(sql.charCodeAt(j))) j++;
      push('word', start, j, sql.slice(start, j).toUpperCase());
    } else push('other', start, i + 1);
  }
  return tokens;
}

const isWord = (token: Token | undefined, ...words: string[]) =>
  token !== undefined && token.type === 'word' && words.includes(token.text);

/** PRAGMAs that only read; sqld lets read-only tokens run these and counts every other one as a write. */
const READ_PRAGMAS = new Set([
  'TABLE_LIST', 'INDEX_LIST', 'TABLE_INFO', 'TABLE_XINFO', 'INDEX_INFO', 'INDEX_XINFO', 'PRAGMA_LIST',
  'COMPILE_OPTIONS', 'DATABASE_LIST', 'FUNCTION_LIST', 'MODULE_LIST', 'ENCODING',
]);

function classify(tokens: Token[]): Pick<SqlStatement, 'kind' | 'isIud' | 'isInsert' | 'isExplain' | 'isRollback'> {
  const plain = { isIud: false, isInsert: false, isExplain: false, isRollback: false };
  const first = tokens[0]!;
  let verb = first.type === 'word' ? first.text : '';
  if (verb === 'WITH') {
    let depth = 0;
    verb = '';
    for (const token of tokens) {
      if (token.type === 'open') depth++;
      else if (token.type === 'close') depth--;
      else if (depth === 0 && isWord(token, 'SELECT', 'VALUES', 'INSERT', 'REPLACE', 'UPDATE', 'DELETE')) {
        verb = token.text;
        break;
      }
    }
  }
  switch (verb) {
    case 'SELECT':
    case 'VALUES':
      return { kind: 'read', ...plain };
    case 'INSERT':
    case 'REPLACE':
      return { kind: 'write', ...plain, isIud: true, isInsert: true };
    case 'UPDATE':
    case 'DELETE':
      return { kind: 'write', ...plain, isIud: true };
    case 'EXPLAIN':
      return { kind: 'read', ...plain, isExplain: true };
    case 'BEGIN':
      return { kind: 'txn-begin', ...plain };
    case 'COMMIT':
    case 'END':
      return { kind: 'txn-end', ...plain };
    case 'ROLLBACK':
      return tokens.some((t) => isWord(t, 'TO'))
        ? { kind: 'release', ...plain }
        : { kind: 'txn-end', ...plain, isRollback: true };
    case 'SAVEPOINT':
      return { kind: 'savepoint', ...plain };
    case 'RELEASE':
      return { kind: 'release', ...plain };
    case 'PRAGMA': {
      const name = tokens[2]?.type === 'other' && tokens[3] ? tokens[3] : tokens[1];
      const read = name !== undefined && name.type === 'word' && READ_PRAGMAS.has(name.text);
      return { kind: read ? 'read' : 'write', ...plain };
    }
    default:
      return { kind: 'write', ...plain };
  }
}

function parameterSlots(tokens: Token[]): (string | null)[] {
  const slots: (string | null)[] = [];
  const named = new Set<string>();
  for (const token of tokens) {
    if (token.type !== 'param') continue;
    if (token.text === '?') slots.push(null);
    else if (token.text.startsWith('?')) {
      const index = Number(token.text.slice(1));
      while (slots.length < index) slots.push(null);
      if (index > 0 && slots[index - 1] === null) slots[index - 1] = token.text;
    } else if (!named.has(token.text)) {
      named.add(token.text);
      slots.push(token.text);
    }
  }
  return slots;
}

function buildStatement(sql: string, tokens: Token[]): SqlStatement {
  const classified = classify(tokens);
  const first = tokens[0]!.text;
  const taintsConnection =
    (first === 'PRAGMA' && classified.kind === 'write') ||
    first === 'ATTACH' ||
    first === 'DETACH' ||
    (first === 'CREATE' && tokens.some((t) => isWord(t, 'TEMP', 'TEMPORARY')));
  return {
    sql: sql.slice(tokens[0]!.start, tokens[tokens.length - 1]!.end),
    ...classified,
    taintsConnection,
    actsWhenPrepared: first === 'PRAGMA',
    params: parameterSlots(tokens),
  };
}

/** Splits on `;` like sqlite3_complete: inside CREATE TRIGGER only `; END ;` ends the statement. */
function splitStatements(sql: string): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let current: Token[] = [];
  let inTrigger = false;
  for (const token of tokenize(sql)) {
    if (token.type === 'semi') {
      if (current.length === 0) continue;
      const last = current[current.length - 1];
      if (inTrigger && !(isWord(last, 'END') && current[current.length - 2]?.type === 'semi')) {
        current.push(token);
        continue;
      }
      statements.push(buildStatement(sql, current));
      current = [];
      inTrigger = false;
      continue;
    }
    current.push(token);
    if (
      !inTrigger &&
      isWord(token, 'TRIGGER') &&
      isWord(current[0], 'CREATE') &&
      (current.length === 2 || (current.length === 3 && isWord(current[1], 'TEMP', 'TEMPORARY')))
    ) {
      inTrigger = true;
    }
  }
  if (current.length > 0) statements.push(buildStatement(sql, current));
  return statements;
}

const analysisCache = new Map<string, SqlStatement[]>();

export function analyzeSql(sql: string): SqlStatement[] {
  let statements = analysisCache.get(sql);
  if (statements === undefined) {
    statements = splitStatements(sql);
    if (analysisCache.size >= 2_000) analysisCache.clear();
    analysisCache.set(sql, statements);
  }
  return statements;
}
