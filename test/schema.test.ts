import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getTableConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import * as openInterview from '../schema/open-interview.js';
import * as pingtopass from '../schema/pingtopass.js';
import { modelFromDrizzle } from '../src/db/schema-model.js';

const seedsDir = join(import.meta.dirname, '..', 'docs', 'seeds');

interface DocColumn {
  sqlName: string;
  type: string;
  notNull: boolean;
  primaryKey: boolean;
  unique: boolean;
  defaultSql: string | null;
  references?: { table: string; onDelete: string };
  mode?: string;
  enumValues?: string[];
}

/** Reads the PingToPass document's Drizzle code as text: every `name: kind('sql_name', ...)...` line of every table. */
function parsePingToPassDocument(): Map<string, { sqlName: string; columns: Map<string, DocColumn>; indexes: Map<string, { columns: string[]; unique: boolean }> }> {
  const text = readFileSync(join(seedsDir, '000_1231874319d2677c.txt'), 'utf8');
  const code = text.slice(text.indexOf('// Users table'), text.indexOf('// Type definitions'));
  const tables = new Map();
  const tableRe = /export const (\w+) = sqliteTable\('(\w+)', \{([\s\S]*?)\n\}, \(table\) => \(\{([\s\S]*?)\}\)\);/g;
  const propToSql = new Map<string, Map<string, string>>();
  const jsNameOfTable = new Map<string, string>();
  for (const match of code.matchAll(tableRe)) {
    const [, jsName, sqlName, body, indexBody] = match;
    jsNameOfTable.set(jsName, sqlName);
    const columns = new Map<string, DocColumn>();
    const props = new Map<string, string>();
    // A column definition runs from `prop: kind(` to the next `prop:` at the same indentation.
    const columnRe = /^\s{2}(\w+): (text|integer|real)\('(\w+)'(?:, \{([^}]*)\})?\)([\s\S]*?)(?=^\s{2}\w+: |\s*$(?![\s\S]))/gm;
    for (const col of body.matchAll(columnRe)) {
      const [, prop, kind, colSql, optionsText = '', chain] = col;
      props.set(prop, colSql);
      const defaultMatch = /\.default\((sql`([^`]*)`|'([^']*)'|(true|false)|(-?\d+(?:\.\d+)?))\)/.exec(chain);
      let defaultSql: string | null = null;
      if (defaultMatch) {
        if (defaultMatch[2] !== undefined) defaultSql = defaultMatch[2];
        else if (defaultMatch[3] !== undefined) defaultSql = `'${defaultMatch[3]}'`;
        else defaultSql = defaultMatch[4] ?? defaultMatch[5];
      }
      const ref = /\.references\(\(\) => (\w+)\.id(?:, \{ onDelete: '(\w+)' \})?\)/.exec(chain);
      const enumMatch = /enum: \[([^\]]*)\]/.exec(optionsText);
      columns.set(colSql, {
        sqlName: colSql,
        type: kind.toUpperCase(),
        notNull: /\.notNull\(\)/.test(chain) || /\.primaryKey\(\)/.test(chain),
        primaryKey: /\.primaryKey\(\)/.test(chain),
        unique: /\.unique\(\)/.test(chain),
        defaultSql,
        references: ref ? { table: ref[1], onDelete: ref[2] ?? 'no action' } : undefined,
        mode: /mode: '(\w+)'/.exec(optionsText)?.[1],
        enumValues: enumMatch ? [...enumMatch[1].matchAll(/'([^']+)'/g)].map((m) => m[1]) : undefined,
      });
    }
    propToSql.set(sqlName, props);
    const indexes = new Map();
    for (const idx of indexBody.matchAll(/(index|uniqueIndex)\('(\w+)'\)\s*\.on\(([^)]*)\)/g)) {
      const cols = [...idx[3].matchAll(/table\.(\w+)/g)].map((m) => props.get(m[1])!);
      indexes.set(idx[2], { columns: cols, unique: idx[1] === 'uniqueIndex' });
    }
    tables.set(sqlName, { sqlName, columns, indexes });
  }
  for (const table of tables.values()) {
    for (const column of table.columns.values()) {
      if (column.references) column.references.table = jsNameOfTable.get(column.references.table) ?? column.references.table;
    }
  }
  return tables;
}

function tablesByName(tables: Record<string, SQLiteTable>) {
  return new Map(Object.values(tables).map((t) => [getTableConfig(t).name, getTableConfig(t)]));
}

describe('PingToPass schema matches its document', () => {
  const doc = parsePingToPassDocument();
  const ours = tablesByName(pingtopass.tables as unknown as Record<string, SQLiteTable>);
  const model = modelFromDrizzle(pingtopass.tables as unknown as Record<string, SQLiteTable>);

  it('has the same tables', () => {
    expect(doc.size).toBe(9);
    expect([...ours.keys()].sort()).toEqual([...doc.keys()].sort());
  });

  for (const [tableName, docTable] of parsePingToPassDocument()) {
    it(`${tableName}: every column, type, default, constraint, enum and foreign key`, () => {
      const config = ours.get(tableName)!;
      const tableModel = model.get(tableName)!;
      expect(config.columns.map((c) => c.name)).toEqual([...docTable.columns.keys()]);
      for (const docColumn of docTable.columns.values()) {
        const column = config.columns.find((c) => c.name === docColumn.sqlName)!;
        const modelColumn = tableModel.columns.find((c) => c.name === docColumn.sqlName)!;
        expect({ column: docColumn.sqlName, type: modelColumn.type }).toEqual({ column: docColumn.sqlName, type: docColumn.type });
        expect({ column: docColumn.sqlName, notNull: modelColumn.notNull }).toEqual({ column: docColumn.sqlName, notNull: docColumn.notNull });
        expect({ column: docColumn.sqlName, pk: column.primary }).toEqual({ column: docColumn.sqlName, pk: docColumn.primaryKey });
        expect({ column: docColumn.sqlName, unique: column.isUnique }).toEqual({ column: docColumn.sqlName, unique: docColumn.unique });
        expect({ column: docColumn.sqlName, default: modelColumn.defaultSql }).toEqual({ column: docColumn.sqlName, default: docColumn.defaultSql });
        if (docColumn.enumValues) expect(column.enumValues).toEqual(docColumn.enumValues);
        if (docColumn.mode) expect(column.columnType).toMatch(docColumn.mode === 'timestamp' ? /Timestamp/ : docColumn.mode === 'boolean' ? /Boolean/ : /Json/);
        const fk = tableModel.foreignKeys.find((f) => f.columns[0] === docColumn.sqlName);
        if (docColumn.references) {
          expect(fk).toMatchObject({ refTable: docColumn.references.table, refColumns: ['id'], onDelete: docColumn.references.onDelete });
        } else {
          expect(fk).toBeUndefined();
        }
      }
    });

    it(`${tableName}: every index and unique index`, () => {
      const indexes = model.get(tableName)!.indexes;
      for (const [name, docIndex] of docTable.indexes) {
        expect(indexes.find((i) => i.name === name)).toMatchObject({ columns: docIndex.columns, unique: docIndex.unique });
      }
      const declared = indexes.filter((i) => !i.name.endsWith('_unique')).map((i) => i.name).sort();
      expect(declared).toEqual([...docTable.indexes.keys()].sort());
    });
  }
});

interface OiDocColumn {
  name: string;
  type: string;
  constraints: string;
  description: string;
}

/** Reads the open-interview document's markdown tables: `### N. **name**` then `| Column | Type | Constraints | Description |`. */
function parseOpenInterviewDocument(): Map<string, OiDocColumn[]> {
  const text = readFileSync(join(seedsDir, '002_e9d87324c1991635.txt'), 'utf8');
  const tables = new Map<string, OiDocColumn[]>();
  const sections = text.split(/^### \d+\. \*\*/m).slice(1);
  for (const section of sections) {
    const name = section.slice(0, section.indexOf('**'));
    const rows = section
      .split('\n')
      .filter((line) => line.startsWith('| ') && !line.startsWith('| Column') && !line.startsWith('|--'))
      .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
    tables.set(name, rows.map(([columnName, type, constraints, description]) => ({ name: columnName, type, constraints, description })));
  }
  return tables;
}

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());

describe('open-interview schema matches its document', () => {
  const doc = parseOpenInterviewDocument();
  const byProperty = new Map(
    Object.entries(openInterview.tables as unknown as Record<string, SQLiteTable>).map(([prop, table]) => [prop, getTableConfig(table)]),
  );
  const model = modelFromDrizzle(openInterview.tables as unknown as Record<string, SQLiteTable>);

  it('has the document’s twelve tables under their camelCase names, mapped to snake_case SQL names', () => {
    expect(doc.size).toBe(12);
    expect([...byProperty.keys()].sort()).toEqual([...doc.keys()].sort());
    for (const [prop, config] of byProperty) expect(config.name).toBe(snake(prop));
  });

  for (const [tableName, columns] of parseOpenInterviewDocument()) {
    it(`${tableName}: every column with its type, NOT NULL, default, key and foreign key`, () => {
      const table = (openInterview.tables as unknown as Record<string, SQLiteTable>)[tableName];
      const config = getTableConfig(table);
      const tableModel = model.get(config.name)!;
      const props = table as unknown as Record<string, { name: string }>;
      expect(config.columns.length).toBe(columns.length);
      for (const docColumn of columns) {
        const column = props[docColumn.name] as unknown as (typeof config.columns)[number];
        expect(column, `${tableName}.${docColumn.name} is declared`).toBeDefined();
        expect(column.name).toBe(snake(docColumn.name));
        const modelColumn = tableModel.columns.find((c) => c.name === column.name)!;
        expect({ column: docColumn.name, type: modelColumn.type }).toEqual({ column: docColumn.name, type: docColumn.type });
        const c = docColumn.constraints;
        expect({ column: docColumn.name, pk: column.primary }).toEqual({ column: docColumn.name, pk: c.includes('PRIMARY KEY') });
        expect({ column: docColumn.name, notNull: modelColumn.notNull }).toEqual({ column: docColumn.name, notNull: c.includes('NOT NULL') || c.includes('PRIMARY KEY') });
        expect({ column: docColumn.name, unique: column.isUnique }).toEqual({ column: docColumn.name, unique: c.includes('UNIQUE') });
        expect({ column: docColumn.name, autoIncrement: modelColumn.autoIncrement }).toEqual({ column: docColumn.name, autoIncrement: c.includes('AUTO INCREMENT') });
        const documentedDefault = /DEFAULT ('[^']*'|\d+)/.exec(c)?.[1] ?? null;
        expect({ column: docColumn.name, default: modelColumn.defaultSql }).toEqual({ column: docColumn.name, default: documentedDefault });
        if (c === 'AUTO' || /UUID generated automatically/.test(docColumn.description)) {
          expect(column.defaultFn ?? column.hasDefault, `${tableName}.${docColumn.name} is filled automatically`).toBeTruthy();
        }
        const fk = tableModel.foreignKeys.find((f) => f.columns[0] === column.name);
        if (c.includes('FOREIGN KEY')) expect(fk).toMatchObject({ refTable: 'questions', refColumns: ['id'] });
        else expect(fk).toBeUndefined();
      }
    });
  }

  it('lists the enum values the document gives', () => {
    const q = getTableConfig(openInterview.questions);
    expect(q.columns.find((c) => c.name === 'difficulty')!.enumValues).toEqual(['beginner', 'intermediate', 'advanced']);
    expect(q.columns.find((c) => c.name === 'status')!.enumValues).toEqual(['active', 'flagged', 'deleted']);
    const wq = getTableConfig(openInterview.workQueue);
    expect(wq.columns.find((c) => c.name === 'status')!.enumValues).toEqual(['pending', 'processing', 'completed', 'failed']);
  });
});

describe('committed migrations', () => {
  it.each([
    ['pingtopass', pingtopass],
    ['open-interview', openInterview],
  ] as const)('%s: are in step with the schema (drizzle-kit would generate nothing new)', async (system, module) => {
    const { generateSQLiteDrizzleJson, generateSQLiteMigration } = await import('drizzle-kit/api');
    const folder = join(import.meta.dirname, '..', 'migrations', system, 'meta');
    const journal = JSON.parse(readFileSync(join(folder, '_journal.json'), 'utf8'));
    const last = journal.entries[journal.entries.length - 1];
    const snapshot = JSON.parse(readFileSync(join(folder, `${String(last.idx).padStart(4, '0')}_snapshot.json`), 'utf8'));
    const current = await generateSQLiteDrizzleJson(module.tables as never);
    const statements = await generateSQLiteMigration(snapshot, current);
    expect(statements).toEqual([]);
  });
});
