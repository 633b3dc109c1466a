import type { EncoderCounts, KeptRows, RowEncoder, Statement, Validated } from './encoder.js';
import { FingerprintSet, type FingerprintProbe } from './fingerprints.js';
import { createIdGenerator } from './ids.js';
import type { EncoderSettings, PingToPassQuestionsPlan } from './pingtopass-rows.js';
import type { Problem } from './problems.js';
import { inRow, type FileFormat, type RawRecord, type RecordStream, type SourceRecord } from './records.js';
import { openRecordSource } from './sources.js';
import type { InterchangeDefaults } from '../interchange/index.js';

/**
 * The part of an import that needs no database: read the file, parse it, validate every record,
 * find duplicates, and turn valid rows into statements. It runs in a worker thread for big files
 * (see worker.ts), so parsing happens beside writing, or inline for small ones.
 */

export type EncoderPlan =
  | PingToPassQuestionsPlan
  | { target: 'pingtopass-exams' }
  | { target: 'open-interview-questions' }
  | { target: 'open-interview-certifications' };

/** Everything the pipeline needs, as plain data (it crosses to a worker thread). */
export interface PipelineOptions {
  path: string;
  format: FileFormat;
  encoding?: string;
  /** CSV: the delimiter, when not the one the header shows; xlsx: the worksheet. */
  delimiter?: string;
  sheet?: string;
  maxFieldChars: number;
  ignoreUnknownColumns: boolean;
  /** CSV from `export --excel`: see RecordReaderOptions.excel. */
  excel?: boolean;
  skipInvalid: boolean;
  /** Send rejected records along, for the rejects file. */
  keepRejected: boolean;
  dryRun: boolean;
  nowMs: number;
  idPrefix: string;
  plan: EncoderPlan;
  /** Who decides rows marked approved or rejected without a reviewed_by of their own. */
  reviewer?: string;
  /** Moodle XML, GIFT, Aiken: the exam and difficulty for what the file cannot say. */
  interchange?: InterchangeDefaults;
}

export interface RejectedRecord {
  group: string;
  raw?: RawRecord;
  error?: string;
}

export interface PipelineBatch {
  /** CSV: the header row as written, in the first batch (the rejects file repeats it), and how the file was written. */
  header?: string[];
  dialect?: RecordStream['dialect'];
  statements: Statement[];
  /** Valid rows for targets that compare them in JavaScript. */
  rows: unknown[];
  /** Problems that make the import fail (without --skip-invalid); only the first few are sent. */
  problems: Problem[];
  problemsNotSent: number;
  /** Rows left out by --skip-invalid. */
  rejected: RejectedRecord[];
  /** The first problems of rejected rows, for the summary. */
  rejectedProblems: Problem[];
  /** Things worth saying about rows that are imported anyway (a repeated text of rows with ids); the first few. */
  warnings: Problem[];
  warningsNotSent: number;
  records: number;
  bytes: number;
  totalBytes: number;
}

export interface PipelineEnd {
  header?: string[];
  dialect?: RecordStream['dialect'];
  ignored: string[];
  encoding: string;
  counts: EncoderCounts;
  records: number;
  /** Rows that change nothing, listed instead of staged. */
  kept?: KeptRows;
  /** See `RowEncoder.assigned`. */
  assigned?: number[];
}

const PROBLEMS_SENT = 20;

/** The key under which a .json file that is one object holds its records. */
const WRAPPER_KEYS: Record<EncoderPlan['target'], string[]> = {
  'pingtopass-questions': ['questions'],
  'pingtopass-exams': ['exams'],
  'open-interview-questions': ['questions'],
  'open-interview-certifications': ['certifications'],
};

/** The encoder of the plan's target; only its system's rows module is loaded (the other's schemas take about 85 ms). */
async function createEncoder(plan: EncoderPlan, settings: EncoderSettings): Promise<RowEncoder> {
  switch (plan.target) {
    case 'pingtopass-questions':
      return new (await import('./pingtopass-rows.js')).PingToPassQuestionEncoder(plan, settings) as RowEncoder;
    case 'pingtopass-exams':
      return new (await import('./pingtopass-rows.js')).PingToPassExamEncoder() as RowEncoder;
    case 'open-interview-questions':
      return new (await import('./open-interview-rows.js')).OpenInterviewQuestionEncoder(settings) as RowEncoder;
    case 'open-interview-certifications':
      return new (await import('./open-interview-rows.js')).OpenInterviewCertificationEncoder() as RowEncoder;
  }
}

/** A JSON record's problem names the record (its number in the file, and its id when it has one): records can share a line. */
function inRecord(record: SourceRecord, problem: Problem): Problem {
  if (record.raw.kind !== 'json') return inRow(record, problem);
  if (problem.record !== undefined) return problem;
  const id = record.values.id;
  return { ...problem, record: record.index, recordId: typeof id === 'string' || typeof id === 'number' ? String(id) : undefined };
}

function describe(problems: Problem[]): string {
  return problems.map((problem) => (problem.field ? `${problem.field}: ${problem.message}` : problem.message)).join('; ');
}

export async function* runPipeline(options: PipelineOptions): AsyncGenerator<PipelineBatch, PipelineEnd> {
  const now = new Date(options.nowMs);
  const encoder = await createEncoder(options.plan, { now, newId: createIdGenerator(() => now, options.idPrefix), dryRun: options.dryRun, reviewer: options.reviewer });
  const source = await openRecordSource(options.path, {
    format: options.format,
    encoding: options.encoding,
    delimiter: options.delimiter,
    sheet: options.sheet,
    columns: encoder.columns,
    ignoreUnknownColumns: options.ignoreUnknownColumns,
    excel: options.excel,
    maxFieldChars: options.maxFieldChars,
    wrapperKeys: WRAPPER_KEYS[options.plan.target],
    interchange: options.interchange,
  });
  const stream = source.stream;
  try {
    const fingerprints = new FingerprintSet();
    const probes: FingerprintProbe[] = [];
    let records = 0;
    let problemsSent = 0;
    let rejectedProblemsSent = 0;
    let warningsSent = 0;
    // After the first problem of an all-or-nothing import nothing will be written: only validate.
    let encoding = true;
    let headerSent = false;
    let reserved = false;
    let fingerprintKeys = 0;
    for await (const batch of stream.batches) {
      const out: PipelineBatch = {
        statements: [],
        rows: [],
        problems: [],
        problemsNotSent: 0,
        rejected: [],
        rejectedProblems: [],
        warnings: [],
        warningsNotSent: 0,
        records: 0,
        bytes: 0,
        totalBytes: source.totalBytes,
      };
      for (const record of batch) {
        records++;
        let found: Problem[] | undefined;
        let valid: Validated<unknown> | undefined;
        if (record.problem) found = [record.problem];
        else {
          const validated = encoder.validate(record);
          if (Array.isArray(validated)) found = validated;
          else {
            probes.length = 0;
            for (const key of validated.keys) {
              const probe = key.hashed ? fingerprints.probeHashed(key.key, key.hashed, 0) : fingerprints.probe(key.key);
              if (probe.line !== 0) {
                const where = record.locate(key.field);
                // JSON records can share a line: they are told apart by their number in the file
                const first = record.raw.kind === 'json' ? `record ${probe.line}` : `line ${probe.line}`;
                const problem = inRecord(record, { line: where.line, column: where.column, field: key.field, message: key.message(first) });
                if (key.warnOnly) {
                  if (warningsSent++ < PROBLEMS_SENT) out.warnings.push(problem);
                  else out.warningsNotSent++;
                  continue;
                }
                found = [problem];
                break;
              }
              probes.push(probe);
            }
            if (!found) valid = validated;
          }
        }
        if (!valid) {
          const problems = (found ?? []).map((problem) => inRecord(record, problem));
          if (options.skipInvalid) {
            out.rejected.push(options.keepRejected ? { group: encoder.groupOfRejected(record), raw: record.raw, error: describe(problems) } : { group: encoder.groupOfRejected(record) });
            for (const problem of problems) if (rejectedProblemsSent++ < PROBLEMS_SENT) out.rejectedProblems.push(problem);
          } else {
            encoding = false;
            for (const problem of problems) {
              if (problemsSent++ < PROBLEMS_SENT) out.problems.push(problem);
              else out.problemsNotSent++;
            }
          }
          continue;
        }
        for (const probe of probes) fingerprints.add(probe, record.raw.kind === 'json' ? record.index : record.line);
        fingerprintKeys += probes.length;
        if (!encoding) continue;
        const encoded = encoder.encode(valid.row, record);
        if (Array.isArray(encoded)) {
          for (const statement of encoded) out.statements.push(statement);
        } else out.rows.push(encoded.row);
      }
      out.records = records;
      out.bytes = source.bytesRead();
      if (!reserved && fingerprintKeys > 0 && out.bytes > 0) {
        // Keys per byte so far: room for the whole file's keys in one step.
        reserved = true;
        fingerprints.reserve(Math.ceil((fingerprintKeys * source.totalBytes) / out.bytes));
      }
      if (!headerSent && stream.header) {
        out.header = stream.header;
        out.dialect = stream.dialect;
        headerSent = true;
      }
      yield out;
    }
    const rest = encoding ? encoder.flush() : [];
    if (rest.length > 0) {
      yield { statements: rest, rows: [], problems: [], problemsNotSent: 0, rejected: [], rejectedProblems: [], warnings: [], warningsNotSent: 0, records, bytes: source.bytesRead(), totalBytes: source.totalBytes };
    }
    return { header: stream.header, dialect: stream.dialect, ignored: [...stream.ignored], encoding: source.encoding, counts: encoding ? encoder.counts() : [], records, kept: encoding ? encoder.kept?.() : undefined, assigned: encoding ? encoder.assigned?.() : undefined };
  } finally {
    await source.close();
  }
}
