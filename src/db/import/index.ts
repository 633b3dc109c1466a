import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { SystemName } from '../../config.js';
import { InvalidInputError, QbankError, UsageError } from '../../errors.js';
import { prepareOutputFile, type OutputFile } from '../../output-file.js';
import { describeDatabaseError, requireWriteAccess, type Database } from '../client.js';
import { DEFAULT_MAX_FIELD_CHARS } from './csv.js';
import { statementBytes } from './encoder.js';
import { createIdGenerator } from './ids.js';
import { OpenInterviewCertificationsTarget, OpenInterviewQuestionsTarget } from './open-interview.js';
import { runPipelineInWorker } from './parallel.js';
import { PingToPassExamsTarget, PingToPassQuestionsTarget } from './pingtopass.js';
import { runPipeline, type PipelineBatch, type PipelineEnd, type PipelineOptions } from './pipeline.js';
import { formatProblem, ProblemLog } from './problems.js';
import { FileProblem, formatFromPath, type FileFormat } from './records.js';
import { RejectsFormatError, RejectsWriter } from './rejects.js';
import { openRunner, type ImportRunner } from './runner.js';
import { Tally, type GroupCounts, type ImportContext, type ImportMode, type ImportTarget } from './session.js';
import { normalizeEncoding, UnknownEncodingError } from './text-source.js';

export type { ImportMode, GroupCounts } from './session.js';
export type { FileFormat } from './records.js';

export type ImportKind = 'questions' | 'exams' | 'certifications';

export interface ImportOptions {
  /** The file as the user named it (messages use it); resolved against `cwd`. */
  file: string;
  cwd: string;
  system: SystemName;
  kind: ImportKind;
  format?: FileFormat;
  mode?: ImportMode;
  dryRun?: boolean;
  skipInvalid?: boolean;
  /** Where `skipInvalid` writes the rows it leaves out (see `RejectsWriter`), resolved against `cwd`. */
  rejects?: string;
  /** Replace an existing rejects file. */
  force?: boolean;
  encoding?: string;
  ignoreUnknownColumns?: boolean;
  maxFieldChars?: number;
  /** Parse in a worker thread: `auto` does for files of a few megabytes and more. */
  parallel?: 'auto' | 'always' | 'never';
  now?: () => Date;
  onProgress?: (progress: ImportProgress) => void;
  /** Told when the import waits for another writer's lock. */
  onWait?: (message: string) => void;
}

export interface ImportProgress {
  bytes: number;
  totalBytes: number;
  rows: number;
}

export interface ImportSummary {
  file: string;
  system: SystemName;
  kind: ImportKind;
  format: FileFormat;
  encoding: string;
  mode: ImportMode;
  dryRun: boolean;
  /** Records read from the file (a CSV header excluded). */
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  rejected: number;
  /** What `groups` are keyed by: exam, channel, vendor, provider. */
  groupBy: string;
  groups: GroupCounts[];
  rejectsFile?: string;
  /** With --skip-invalid: the first problems of rows left out, as `file:line:column field: reason`. */
  problems: string[];
  /** Rows imported with something worth a look (a question text repeated by rows with distinct ids): the first 20, then `warningCount` says how many. */
  warnings: string[];
  warningCount: number;
  ignoredColumns: string[];
  /** Whether parsing ran in a worker thread beside the writes. */
  parallel: boolean;
  seconds: number;
  /** HTTP requests to a remote database (0 for file:). */
  roundTrips: number;
}

const KINDS_OF_SYSTEM: Record<SystemName, ImportKind[]> = {
  pingtopass: ['questions', 'exams'],
  'open-interview': ['questions', 'certifications'],
};

const WORKER_THRESHOLD_BYTES = 4 << 20;

/** The file's name does not say its format, and none was given. */
export class UnknownFormatError extends UsageError {
  constructor(readonly file: string) {
    super(`cannot tell the format of ${file} from its name`, { hint: 'name it .csv, .json or .jsonl, or give its format' });
  }
}

/** Rows set aside need somewhere to go only when invalid rows are skipped; otherwise one invalid row stops the import. */
export class RejectsWithoutSkipError extends UsageError {
  constructor() {
    super('a rejects file is only written when invalid rows are skipped: without that, one invalid row stops the import');
  }
}

export class UnknownEncodingNameError extends UsageError {}

function createTarget(system: SystemName, kind: ImportKind): ImportTarget {
  if (!KINDS_OF_SYSTEM[system].includes(kind)) {
    const owner = system === 'pingtopass' ? 'open-interview' : 'pingtopass';
    throw new UsageError(`${system} has no ${kind}: ${kind} belong to ${owner}`, { hint: `${system} imports ${KINDS_OF_SYSTEM[system].join(' and ')}; pass --schema to choose the system` });
  }
  if (system === 'pingtopass') return kind === 'questions' ? new PingToPassQuestionsTarget() : new PingToPassExamsTarget();
  return kind === 'questions' ? new OpenInterviewQuestionsTarget() : new OpenInterviewCertificationsTarget();
}

/**
 * Imports one file in one transaction. The file streams through a pipeline (parse, validate,
 * turn rows into statements) whose statements run as they come; the transaction commits only
 * when the whole file was good (with `skipInvalid`: when every row was good or left out). A
 * process killed half-way leaves an uncommitted transaction, which SQLite (or the server, when the
 * stream expires) rolls back; running the same import again then completes it, and running it
 * once more changes nothing.
 */
export async function importFile(database: Database, options: ImportOptions): Promise<ImportSummary> {
  const started = process.hrtime.bigint();
  const roundTripsBefore = database.roundTrips();
  const path = resolve(options.cwd, options.file);
  const file = options.file;
  const format = options.format ?? formatFromPath(path);
  if (!format) throw new UnknownFormatError(file);
  if (options.rejects && !options.skipInvalid) throw new RejectsWithoutSkipError();
  const rejectsFormat = options.rejects ? (formatFromPath(options.rejects) ?? format) : undefined;
  if (options.rejects && rejectsFormat === 'csv' && format !== 'csv') throw new RejectsFormatError(options.rejects, file);
  if (options.encoding) {
    try {
      normalizeEncoding(options.encoding);
    } catch (error) {
      throw new UnknownEncodingNameError((error as UnknownEncodingError).message);
    }
  }
  const target = createTarget(options.system, options.kind);
  const mode = options.mode ?? 'upsert';
  const dryRun = Boolean(options.dryRun);
  if (!dryRun) requireWriteAccess(database, 'import');
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UsageError(`${file} is not a file`);
    size = info.size;
  } catch (error) {
    if (error instanceof QbankError) throw error;
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }

  const problems = new ProblemLog(20);
  const rejectedLog = new ProblemLog(20);
  const warnings = new ProblemLog(20);
  const tally = new Tally();
  const now = options.now?.() ?? new Date();
  // A worker pays for itself from a few megabytes on, and only with a second core to run on.
  const parallel = options.parallel === 'always' || (options.parallel !== 'never' && size >= WORKER_THRESHOLD_BYTES && availableParallelism() > 1);
  let rejectsFile: OutputFile | undefined;
  let rejects: RejectsWriter | undefined;
  let runner: ImportRunner | undefined;
  let committed = false;
  let records = 0;
  let batches: AsyncGenerator<PipelineBatch, PipelineEnd> | undefined;
  try {
    if (options.rejects) rejectsFile = await prepareOutputFile(options.rejects, { cwd: options.cwd, force: options.force, inputs: [file], what: 'rejects file' });
    runner = await openRunner(database, dryRun, options.onWait, target.bulkLoad);
    const context: ImportContext = {
      database,
      runner,
      file,
      mode,
      dryRun,
      now,
      newId: createIdGenerator(() => now),
      problems,
      tally,
    };
    const plan = await target.begin(context);
    const pipelineOptions: PipelineOptions = {
      path,
      format,
      encoding: options.encoding,
      maxFieldChars: options.maxFieldChars ?? DEFAULT_MAX_FIELD_CHARS,
      ignoreUnknownColumns: Boolean(options.ignoreUnknownColumns),
      skipInvalid: Boolean(options.skipInvalid),
      keepRejected: Boolean(rejectsFile),
      dryRun,
      nowMs: now.getTime(),
      idPrefix: options.system === 'open-interview' ? 'q-' : '',
      plan,
    };
    batches = parallel ? runPipelineInWorker(pipelineOptions) : runPipeline(pipelineOptions);
    let end: PipelineEnd | undefined;
    let header: string[] | undefined;
    for (;;) {
      const next = await batches.next();
      if (next.done) {
        end = next.value;
        break;
      }
      const batch: PipelineBatch = next.value;
      header ??= batch.header;
      records = batch.records;
      for (const problem of batch.problems) problems.add(problem);
      problems.count += batch.problemsNotSent;
      if (problems.empty) {
        await runner.send(batch.statements, statementBytes(batch.statements));
        if (batch.rows.length > 0) await target.accept(batch.rows);
      }
      for (const rejected of batch.rejected) {
        tally.add(rejected.group, 'rejected');
        if (rejectsFile && rejected.raw) {
          rejects ??= new RejectsWriter(rejectsFile, rejectsFormat!, header);
          await rejects.write(rejected.raw, rejected.error ?? '');
        }
      }
      for (const problem of batch.rejectedProblems) rejectedLog.add(problem);
      for (const warning of batch.warnings) warnings.add(warning);
      warnings.count += batch.warningsNotSent;
      options.onProgress?.({ bytes: batch.bytes, totalBytes: batch.totalBytes, rows: records });
    }
    header = end.header;
    records = end.records;
    if (!problems.empty) throw problemsError(file, problems, records);
    for (const count of end.counts) tally.add(count.group, count.outcome, count.count);
    await target.finish();
    await runner.drain();
    if (!problems.empty) throw problemsError(file, problems, records);
    if (rejectsFile) {
      rejects ??= new RejectsWriter(rejectsFile, rejectsFormat!, header);
      await rejects.commit();
    }
    if (dryRun) await runner.rollback();
    else await runner.commit();
    committed = !dryRun;
    const groups = tally.list();
    const total = (outcome: keyof Omit<GroupCounts, 'group'>) => groups.reduce((sum, group) => sum + group[outcome], 0);
    return {
      file,
      system: options.system,
      kind: options.kind,
      format,
      encoding: end.encoding,
      mode,
      dryRun,
      rows: records,
      created: total('created'),
      updated: total('updated'),
      unchanged: total('unchanged'),
      skipped: total('skipped'),
      rejected: total('rejected'),
      groupBy: target.groupLabel,
      groups,
      rejectsFile: options.rejects,
      problems: rejectedLog.sorted().map((problem) => formatProblem(file, problem)),
      warnings: warnings.sorted().map((warning) => formatProblem(file, warning)),
      warningCount: warnings.count,
      ignoredColumns: end.ignored,
      parallel,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      roundTrips: database.roundTrips() - roundTripsBefore,
    };
  } catch (error) {
    if (runner && !committed) {
      try {
        await runner.rollback();
      } catch {
        // The transaction went with its connection; SQLite or the server rolls it back.
      }
    }
    await rejectsFile?.abort();
    if (error instanceof FileProblem) {
      for (const problem of error.problems) problems.add(problem);
      throw problemsError(file, problems, records, { where: error.where, line: error.problems[0]?.line ?? 1 });
    }
    throw describeDatabaseError(error, database, 'import');
  } finally {
    // A failure while writing leaves the pipeline suspended: ending it stops the parsing worker
    // (and closes the file), which would otherwise keep the process alive.
    await batches?.return(undefined as never).catch(() => undefined);
    runner?.close();
  }
}

function problemsError(file: string, problems: ProblemLog, rows: number, stopped?: { where: FileProblem['where']; line: number }): InvalidInputError {
  const count = problems.count;
  const what =
    stopped?.where === 'header'
      ? `${file}: the header does not fit the format`
      : stopped
        ? `${file} cannot be read past line ${stopped.line}`
        : `${file}: ${count.toLocaleString('en-US')} problem${count === 1 ? '' : 's'} in ${rows.toLocaleString('en-US')} row${rows === 1 ? '' : 's'}`;
  const shown = problems.kept.length;
  const more = count > shown ? `the first ${shown} of ${count.toLocaleString('en-US')} problems are shown; ` : '';
  return new InvalidInputError(`${what}; nothing was imported`, {
    details: problems.sorted().map((problem) => formatProblem(file, problem)),
    hint: stopped ? (stopped.where === 'header' ? 'see `qbank import template` for the columns' : undefined) : `${more}fix them, or import the valid rows with --skip-invalid --rejects rejected.csv`,
  });
}
