import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { SystemName } from '../../config.js';
import { QbankError, UsageError } from '../../errors.js';
import type { RowEncoder, Validated } from '../import/encoder.js';
import { collectGarbage } from '../backup/memory.js';
import { FingerprintSet } from '../import/fingerprints.js';
import { KindNotInSystemError, UnknownFormatError, type ImportKind } from '../import/index.js';
import { OPEN_INTERVIEW_CERTIFICATION_COLUMNS, OPEN_INTERVIEW_QUESTION_COLUMNS, OpenInterviewCertificationEncoder, OpenInterviewQuestionEncoder, type OpenInterviewCertification, type OpenInterviewQuestion } from '../import/open-interview-rows.js';
import { PINGTOPASS_EXAM_COLUMNS, PINGTOPASS_QUESTION_COLUMNS, PingToPassExamEncoder, PingToPassQuestionEncoder, type EncoderSettings, type PingToPassQuestion } from '../import/pingtopass-rows.js';
import type { Problem } from '../import/problems.js';
import { FileProblem, formatFromPath, kindsOf, type FieldKind, type FileFormat, type SourceRecord } from '../import/records.js';
import { openRecordSource, type RecordSourceOptions } from '../import/sources.js';
import { CheckEngine } from './engine.js';
import { buildReport, type CheckReport, type CheckSettings, type RawFinding, type RuleName } from './model.js';
import { tableSpecs, type TableSpec } from './row-rules.js';

/**
 * `check FILE`: an import file checked before it is imported, without a database. The file is read
 * by the import's own readers (every format the import reads) and validated by its own encoders;
 * the problems the import would stop at become findings (`invalid-row`, or the rule they are an
 * instance of), and the rows that pass go through the same content rules as a database's rows.
 */

export interface FileToCheck {
  /** The file as the user named it; resolved against `cwd`. */
  file: string;
  kind: ImportKind;
  format?: FileFormat;
}

export interface CheckFilesOptions {
  cwd: string;
  system: SystemName;
  encoding?: string;
  maxFieldChars: number;
  ignoreUnknownColumns?: boolean;
  excel?: boolean;
  /** Further reader settings, as the import passes them (a CSV delimiter, an xlsx sheet, an interchange format's defaults). */
  reader?: Readonly<Record<string, unknown>>;
  /**
   * Report what the import's validation finds (`check FILE`). Without it (`import --check`) rows
   * that do not validate are passed over: the import itself refuses or sets them aside.
   */
  validation: boolean;
  now: Date;
  onProgress?: (progress: { file: string; bytes: number; totalBytes: number; rows: number }) => void;
}

export type FileCheckReport = CheckReport & { files: string[] };

const KINDS_OF_SYSTEM: Record<SystemName, ImportKind[]> = { pingtopass: ['questions', 'exams'], 'open-interview': ['questions', 'certifications'] };

/** Exam codes a file may name before the check learns of a mistake: beyond them, codes are taken as they come no more. */
const MAX_EXAM_CODES = 10_000;

/** Measured on a 180 MB CSV of 200,000 questions: peak RSS 187 MB without collections, for the reading alone. */
const GARBAGE_EVERY_BYTES = 16 << 20;

export async function checkFiles(files: FileToCheck[], settings: CheckSettings, options: CheckFilesOptions): Promise<FileCheckReport> {
  const prepared: Array<FileToCheck & { path: string; format: FileFormat }> = [];
  for (const spec of files) prepared.push(await prepare(spec, options));
  const engine = new CheckEngine(settings);
  for (const one of prepared) {
    const before = engine.findings.length;
    await checkOneFile(engine, one, settings, options);
    for (let i = before; i < engine.findings.length; i++) engine.findings[i]!.file ??= one.file;
  }
  const raw = engine.finish();
  // the bank's findings (duplicates, an exam's key) name no file when several are checked together
  if (prepared.length === 1) for (const finding of raw) finding.file ??= prepared[0]!.file;
  return { ...buildReport(raw, settings), files: prepared.map((one) => one.file) };
}

async function prepare(spec: FileToCheck, options: CheckFilesOptions): Promise<FileToCheck & { path: string; format: FileFormat }> {
  if (!KINDS_OF_SYSTEM[options.system].includes(spec.kind)) throw new KindNotInSystemError(options.system, spec.kind, options.system === 'pingtopass' ? 'open-interview' : 'pingtopass');
  const path = resolve(options.cwd, spec.file);
  const format = spec.format ?? formatFromPath(path);
  if (!format) throw new UnknownFormatError(spec.file);
  try {
    if (!(await stat(path)).isFile()) throw new UsageError(`${spec.file} is not a file`);
  } catch (error) {
    if (error instanceof QbankError) throw error;
    throw new UsageError(`cannot read ${spec.file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  return { ...spec, path, format };
}

/** Validates a file's records one by one, as the import would, and hands the valid rows to the engine. */
async function checkOneFile(engine: CheckEngine, one: FileToCheck & { path: string; format: FileFormat }, settings: CheckSettings, options: CheckFilesOptions): Promise<void> {
  const rows = rowsOf(options.system, one.kind, options.now);
  const source = await openRecordSource(one.path, {
    ...(options.reader as Partial<RecordSourceOptions> | undefined),
    format: one.format,
    encoding: options.encoding,
    columns: rows.columns,
    ignoreUnknownColumns: Boolean(options.ignoreUnknownColumns),
    excel: options.excel,
    maxFieldChars: options.maxFieldChars,
    wrapperKeys: [one.kind],
  });
  const keys = new FingerprintSet();
  let records = 0;
  let collectedAt = 0;
  let reserved = false;
  try {
    for await (const batch of source.stream.batches) {
      // parsing leaves garbage V8 would let pile up far past what the check holds: collect every few MB read
      if (source.bytesRead() - collectedAt >= GARBAGE_EVERY_BYTES) {
        collectedAt = source.bytesRead();
        collectGarbage();
      }
      for (const record of batch) {
        records++;
        const place = one.format === 'json' ? `record ${record.index}` : `line ${record.line}`;
        const validated = record.problem ? [record.problem] : rows.validate(record);
        if (Array.isArray(validated)) {
          if (options.validation) engine.add(validated.map((problem) => problemFinding(problem, record, rows, place, options.system)));
          continue;
        }
        const repeated = options.validation ? repeatedKey(validated, record, keys, one.format) : undefined;
        if (repeated) {
          engine.add([problemFinding(repeated, record, rows, place, options.system)]);
          continue;
        }
        rows.check(engine, validated.row, place, settings.system);
      }
      if (!reserved && one.kind === 'questions' && source.bytesRead() > 0) {
        // rows per byte so far: room for the whole file's questions at once
        reserved = true;
        engine.reserve(Math.ceil(((records * source.totalBytes) / source.bytesRead()) * 1.05));
      }
      options.onProgress?.({ file: one.file, bytes: source.bytesRead(), totalBytes: source.totalBytes, rows: records });
    }
  } catch (error) {
    if (!(error instanceof FileProblem)) throw error;
    // the file cannot be read on from here: what stops the import is reported, with the rows before it checked
    engine.add(error.problems.map((problem) => ({ rule: 'invalid-row' as const, table: rows.table, id: null, group: null, message: problem.field ? `${problem.field}: ${problem.message}` : problem.message, related: [], line: problem.line, ...(problem.column === undefined ? {} : { column: problem.column }) })));
  } finally {
    await source.close();
  }
}

/** A key another row of the file has (a duplicate id, or a question text without ids): the import stops at it. Repeats it only warns about are left to the duplicate rules. */
function repeatedKey(validated: Validated<unknown>, record: SourceRecord, keys: FingerprintSet, format: FileFormat): Problem | undefined {
  const line = format === 'json' ? record.index : record.line;
  const probes = [];
  for (const key of validated.keys) {
    const probe = key.hashed ? keys.probeHashed(key.key, key.hashed, 0) : keys.probe(key.key);
    if (probe.line !== 0) {
      if (key.warnOnly) continue;
      const where = record.locate(key.field);
      return { line: where.line, column: where.column, field: key.field, message: key.message(format === 'json' ? `record ${probe.line}` : `line ${probe.line}`) };
    }
    probes.push(probe);
  }
  for (const probe of probes) keys.add(probe, line);
  return undefined;
}

function problemFinding(problem: Problem, record: SourceRecord, rows: FileRows, place: string, system: SystemName): RawFinding {
  const id = record.values.id;
  const group = rows.groupOf(record);
  const finding: RawFinding = {
    rule: ruleOfProblem(problem, rows.kinds, system),
    table: rows.table,
    id: typeof id === 'string' && id.trim() !== '' ? id : typeof id === 'number' ? String(id) : place,
    group: group.startsWith('(') ? null : group,
    message: problem.field ? `${problem.field}: ${problem.message}` : problem.message,
    related: [],
    line: problem.line,
  };
  if (problem.column !== undefined) finding.column = problem.column;
  return finding;
}

/**
 * The rule a validation problem is an instance of: a value outside its enum or range is
 * `invalid-value`, JSON that does not parse or has the wrong shape `invalid-json`, a PingToPass
 * question with fewer than two options or a single answer with several letters the option rules;
 * anything else (a required field missing, bad text, an unknown column) is `invalid-row`.
 */
export function ruleOfProblem(problem: Problem, kinds: Readonly<Record<string, FieldKind>>, system: SystemName): RuleName {
  const message = problem.message;
  if (/needs at least two options/.test(message)) return 'too-few-options';
  if (/single-answer question has exactly one correct letter/.test(message)) return 'single-multiple-correct';
  if (problem.field === undefined || message.startsWith('is required')) return 'invalid-row';
  const kind = kinds[problem.field];
  if (kind === 'enum' || kind === 'int' || kind === 'number') return 'invalid-value';
  // open-interview stores its lists as JSON columns; a PingToPass list is a spreadsheet cell
  if (kind === 'json' || (kind === 'list' && system === 'open-interview')) return 'invalid-json';
  return 'invalid-row';
}

/** What the check needs of one kind of record: its validation, and its valid rows as the rules see them. */
interface FileRows {
  table: string;
  columns: RowEncoder['columns'];
  kinds: Readonly<Record<string, FieldKind>>;
  validate(record: SourceRecord): Validated<unknown> | Problem[];
  groupOf(record: SourceRecord): string;
  check(engine: CheckEngine, row: unknown, place: string, system: SystemName): void;
}

function specOf(system: SystemName, table: string): TableSpec {
  return tableSpecs(system).find((spec) => spec.table === table)!;
}

function rowsOf(system: SystemName, kind: ImportKind, now: Date): FileRows {
  let counter = 0;
  // ids are never written: the encoders only validate here
  const settings: EncoderSettings = { now, newId: () => `check-${++counter}`, dryRun: true, reviewer: 'qbank check' };
  if (system === 'pingtopass' && kind === 'questions') return pingToPassQuestions(settings);
  if (system === 'pingtopass') return plain('exams', new PingToPassExamEncoder(), kindsOf(PINGTOPASS_EXAM_COLUMNS), () => undefined);
  if (kind === 'questions') return openInterviewQuestions(new OpenInterviewQuestionEncoder(settings));
  const certifications = specOf('open-interview', 'certifications');
  return plain('certifications', new OpenInterviewCertificationEncoder(), kindsOf(OPEN_INTERVIEW_CERTIFICATION_COLUMNS), (engine, row: OpenInterviewCertification) => {
    engine.row(certifications, { ...row.values, id: row.id }, null, row.line);
  });
}

function plain<Row>(table: string, encoder: RowEncoder<Row>, kinds: Record<string, FieldKind>, check: (engine: CheckEngine, row: Row) => void): FileRows {
  return {
    table,
    columns: encoder.columns,
    kinds,
    validate: (record) => encoder.validate(record),
    groupOf: (record) => encoder.groupOfRejected(record),
    check: (engine, row) => check(engine, row as Row),
  };
}

/**
 * PingToPass questions name their exam by code, which the import looks up in the database. A file
 * is checked without one: each code is taken as an exam the first time a row names it.
 */
function pingToPassQuestions(settings: EncoderSettings): FileRows {
  const exams: Array<[string, string]> = [];
  const known = new Set<string>();
  const build = () => new PingToPassQuestionEncoder({ target: 'pingtopass-questions', direct: true, exams }, settings);
  let encoder = build();
  const spec = specOf('pingtopass', 'questions');
  return {
    table: 'questions',
    columns: encoder.columns,
    kinds: kindsOf(PINGTOPASS_QUESTION_COLUMNS),
    validate(record) {
      const result = encoder.validate(record);
      if (!Array.isArray(result)) return result;
      const code = record.values.exam_code;
      const name = typeof code === 'number' ? String(code) : typeof code === 'string' && code.length > 0 ? code : undefined;
      if (name === undefined || known.has(name) || known.size >= MAX_EXAM_CODES) return result;
      known.add(name);
      exams.push([name, name]);
      encoder = build();
      return encoder.validate(record);
    },
    groupOf: (record) => encoder.groupOfRejected(record),
    check(engine, value, place) {
      const row = value as PingToPassQuestion;
      const id = row.givenId ?? place;
      engine.row(spec, { id, type: row.type, review_status: row.reviewStatus ?? null, difficulty: row.difficulty, tags: row.tags }, row.examCode, row.line);
      const options = row.options.map((text, k) => ({ id: `option_${String.fromCharCode(97 + k)}`, text, isCorrect: ((row.correctMask >> k) & 1) === 1, order: k }));
      engine.question({ table: 'questions', id, group: row.examCode, type: row.type, text: row.text, explanation: row.explanation, published: row.reviewStatus === 'approved', options, answer: null, tldr: null, line: row.line });
    },
  };
}

function openInterviewQuestions(encoder: OpenInterviewQuestionEncoder): FileRows {
  const spec = specOf('open-interview', 'questions');
  return {
    table: 'questions',
    columns: encoder.columns,
    kinds: kindsOf(OPEN_INTERVIEW_QUESTION_COLUMNS),
    validate: (record) => encoder.validate(record),
    groupOf: (record) => encoder.groupOfRejected(record),
    check(engine, value, place) {
      const row = value as OpenInterviewQuestion;
      const id = row.givenId ?? place;
      engine.row(spec, { ...row.optional, id, difficulty: row.difficulty, status: row.status ?? null }, row.channel, row.line);
      const tldr = row.optional.tldr;
      engine.question({
        table: 'questions',
        id,
        group: row.channel,
        type: null,
        text: row.question,
        explanation: row.explanation,
        published: (row.status ?? 'active') === 'active',
        options: [],
        answer: row.answer,
        tldr: typeof tldr === 'string' ? tldr : null,
        line: row.line,
      });
    },
  };
}
