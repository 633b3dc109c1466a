import type { InStatement } from '@libsql/client';
import type { Database } from '../client.js';
import { runEntry, runRecordStatements, type RunContext } from '../run-record.js';
import type { CheckOption } from './model.js';
import { describeOrderProblem } from './question-rules.js';

/**
 * `--fix`: only changes that lose nothing and have one answer. Option orders with gaps or repeats
 * are numbered 0, 1, 2… in their current order (order, then the order the rows were written); a
 * JSON column whose text differs from its canonical form by whitespace alone is rewritten compact.
 */

export interface Fix {
  table: string;
  id: string;
  column: string;
  from: string | number | null;
  to: string | number;
  why: string;
}

export function orderFixes(questionId: string, options: CheckOption[]): Fix[] {
  if (!describeOrderProblem(options.map((option) => option.order))) return [];
  return options.flatMap((option, index) =>
    option.order === index ? [] : [{ table: 'answer_options', id: option.id, column: 'order', from: option.order, to: index, why: `options of ${questionId} numbered 0-${options.length - 1}` }],
  );
}

/** The compact form of JSON text, when it differs from the text by insignificant whitespace only. */
export function compactJson(text: string): string | undefined {
  let canonical: string;
  try {
    canonical = JSON.stringify(JSON.parse(text));
  } catch {
    return undefined;
  }
  if (canonical === text) return undefined;
  return withoutInsignificantWhitespace(text) === canonical ? canonical : undefined;
}

function withoutInsignificantWhitespace(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (inString) {
      out += char;
      if (char === '\\') out += text[++i] ?? '';
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
      out += char;
    } else if (char !== ' ' && char !== '\n' && char !== '\r' && char !== '\t') out += char;
  }
  return out;
}

export async function applyFixes(database: Database, fixes: Fix[], run: RunContext, system: string, now: Date): Promise<{ applied: number; runId: string }> {
  const statements: InStatement[] = fixes.map((fix) => ({
    sql: `UPDATE "${fix.table.replace(/"/g, '""')}" SET "${fix.column.replace(/"/g, '""')}" = ? WHERE id = ? AND "${fix.column.replace(/"/g, '""')}" IS ?`,
    args: [fix.to, fix.id, fix.from],
  }));
  const entry = runEntry(run, { system, counts: { fixes: fixes.length }, now });
  const results = await database.client.batch([...statements, ...runRecordStatements(entry)], 'write');
  return { applied: results.slice(0, statements.length).reduce((sum, result) => sum + result.rowsAffected, 0), runId: entry.id };
}
