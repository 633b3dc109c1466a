import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { SystemName } from '../../config.js';
import { InvalidInputError, QbankError, UsageError } from '../../errors.js';
import { prepareOutputFile, type OutputFile } from '../../output-file.js';
import { beginImportAudit, importCounts, type ImportRunContext } from '../audit/import-run.js';
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
import { importedIds, Tally, type GroupCounts, type ImportContext, type ImportMode, type ImportTarget, type ImportedIds, type MissingQuestions, type QuestionDiff, type ReviewPolicy, type ReviewReset } from './session.js';
import { normalizeEncoding, UnknownEncodingError } from './text-source.js';
import { textFormatOf } from '../interchange/aiken.js';
import { checkInterchangeKind, type InterchangeDefaults } from '../interchange/index.js';

export type { ImportMode, GroupCounts, ReviewPolicy, ReviewReset, QuestionDiff, FieldChange } from './session.js';
export { ReviewedChangesError } from './pingtopass.js';
export type { FileFormat } from './records.js';

export type ImportKind = 'questions' | 'exams' | 'certifications';

export interface ImportOptions {
  /** The file as the user named it (messages use it); resolved against `cwd`. */
  file: string;
  /** Who runs the import and how, for the run entry (and before-images) that commit with it. */
  run?: ImportRunContext;
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
  /** CSV: the delimiter, when not the one the header shows; xlsx: the worksheet to read. */
  delimiter?: string;
  sheet?: string;
  ignoreUnknownColumns?: boolean;
  /** CSV written by `export --excel`: the apostrophe before formula-like cells is removed. */
  excel?: boolean;
  maxFieldChars?: number;
  /** Parse in a worker thread: `auto` does for files of a few megabytes and more. */
  parallel?: 'auto' | 'always' | 'never';
  now?: () => Date;
  onProgress?: (progress: ImportProgress) => void;
  /** An update of a decided question's content: back to pending (default), keep the decision, or refuse the import. */
  reviewPolicy?: ReviewPolicy;
  /** Who decides rows marked approved or rejected without a reviewed_by of their own. */
  reviewer?: string;
  /** Moodle XML, GIFT, Aiken: the exam (overriding the file's categories) and the difficulty (for questions the file gives none). */
  interchange?: InterchangeDefaults;
  /** Deactivate the questions of the file's exams (channels) the file does not have. */
  prune?: boolean;
  /** Asked before pruning, with what would be deactivated; false refuses the import. */
  confirmPrune?: (missing: MissingQuestions[]) => Promise<boolean>;
  /** Told when the import waits for another writer's lock. */
  onWait?: (message: string) => void;
  /** Read, per updated question, each changed field's old and new value (`ImportSummary.diff`). */
  diff?: boolean;
}

export interface ImportProgress {
  /** The file being read, as the user named it. */
  file: string;
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
  /** Approved or rejected questions whose content changed and that are pending again (or would be, in a dry run). */
  reviewReset: ReviewReset[];
  /** Questions created and updated, by id (exams and certifications: empty); `assigned`: ids qbank gave to rows without one. */
  ids: ImportedIds;
  /**
   * Rows without an id that were created with an id qbank drew (or would be). A dry run into an
   * empty bank draws none: there `ids.assigned` is empty and only this count says how many.
   */
  assigned: number;
  /** Active questions of the file's exams (open-interview: channels) that the file does not have. */
  missing: MissingQuestions[];
  /** How many of them `prune` deactivated (PingToPass `is_active = 0`, open-interview status `deleted`); in a dry run, would. */
  pruned: number;
  ignoredColumns: string[];
  /** Whether parsing ran in a worker thread beside the writes. */
  parallel: boolean;
  /** When asked: per updated question (or one a dry run would update), each changed field's old and new value. */
  diff?: QuestionDiff[];
  seconds: number;
  /** HTTP requests to a remote database (0 for file:). */
  roundTrips: number;
}

const KINDS_OF_SYSTEM: Record<SystemName, ImportKind[]> = {
  pingtopass: ['questions', 'exams'],
  'open-interview': ['questions', 'certifications'],
};

const WORKER_THRESHOLD_BYTES = 4 << 20;

/** The system has no such records (PingToPass has no certifications, open-interview no exams). */
export class KindNotInSystemError extends UsageError {
  constructor(
    readonly system: SystemName,
    readonly kind: ImportKind,
    readonly owner: SystemName,
  ) {
    super(`${system} has no ${kind}: ${kind} belong to ${owner}`, { hint: `${system} imports ${KINDS_OF_SYSTEM[system].join(' and ')}` });
  }
}

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
    throw new KindNotInSystemError(system, kind, owner);
  }
  if (system === 'pingtopass') return kind === 'questions' ? new PingToPassQuestionsTarget() : new PingToPassExamsTarget();
  return kind === 'questions' ? new OpenInterviewQuestionsTarget() : new OpenInterviewCertificationsTarget();
}

/** One file of an import, checked before anything is opened. */
interface PreparedFile {
  file: string;
  path: string;
  kind: ImportKind;
  format: FileFormat;
  target: ImportTarget;
  parallel: boolean;
}

export interface ImportFileSpec {
  /** The file as the user named it; resolved against `cwd`. */
  file: string;
  kind: ImportKind;
  format?: FileFormat;
}

/** Several files in one run can share no rejects file: it holds one file's rows, in that file's columns. */
export class RejectsForManyFilesError extends UsageError {
  constructor() {
    super('a rejects file holds the rows of one imported file: import the files one at a time to set rows aside');
  }
}

async function prepareFile(spec: ImportFileSpec, options: ImportOptions): Promise<PreparedFile> {
  const path = resolve(options.cwd, spec.file);
  const file = spec.file;
  const format = spec.format ?? (await textFormatOf(path, formatFromPath(path)));
  if (!format) throw new UnknownFormatError(file);
  const rejectsFormat = options.rejects ? (formatFromPath(options.rejects) ?? format) : undefined;
  if (options.rejects && (rejectsFormat === 'csv' || rejectsFormat === 'xlsx') && format !== 'csv' && format !== 'xlsx') throw new RejectsFormatError(options.rejects, file);
  checkInterchangeKind(options.system, spec.kind, format);
  const target = createTarget(options.system, spec.kind);
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UsageError(`${file} is not a file`);
    size = info.size;
  } catch (error) {
    if (error instanceof QbankError) throw error;
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  // A worker pays for itself from a few megabytes on, and only with a second core to run on.
  const parallel = options.parallel === 'always' || (options.parallel !== 'never' && size >= WORKER_THRESHOLD_BYTES && availableParallelism() > 1);
  return { file, path, kind: spec.kind, format, target, parallel };
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
  const [summary] = await importFiles(database, [{ file: options.file, kind: options.kind, format: options.format }], options);
  return summary;
}

/**
 * Imports several files in one transaction, in the order given (exams before the questions that
 * name them): every file is validated and applied, and the transaction commits only when all of
 * them were good. A dry run of a change that adds an exam and its questions sees the exam.
 */
export async function importFiles(database: Database, files: ImportFileSpec[], options: ImportOptions): Promise<ImportSummary[]> {
  if (options.rejects && !options.skipInvalid) throw new RejectsWithoutSkipError();
  if (options.rejects && files.length > 1) throw new RejectsForManyFilesError();
  if (options.encoding) {
    try {
      normalizeEncoding(options.encoding);
    } catch (error) {
      throw new UnknownEncodingNameError((error as UnknownEncodingError).message);
    }
  }
  const prepared: PreparedFile[] = [];
  for (const spec of files) prepared.push(await prepareFile(spec, options));
  const dryRun = Boolean(options.dryRun);
  if (!dryRun) requireWriteAccess(database, 'import');
  const now = options.now?.() ?? new Date();
  let rejectsFile: OutputFile | undefined;
  let runner: ImportRunner | undefined;
  let committed = false;
  try {
    if (options.rejects) rejectsFile = await prepareOutputFile(options.rejects, { cwd: options.cwd, force: options.force, inputs: [prepared[0].file], what: 'rejects file' });
    // only a lone questions file loads in bulk: the checks it skips hold for its own rows only
    const bulk = prepared.length === 1 ? prepared[0].target.bulkLoad : undefined;
    runner = await openRunner(database, dryRun, options.onWait, bulk);
    const audit = dryRun ? undefined : await beginImportAudit(database, runner, options.run, prepared);
    const summaries: ImportSummary[] = [];
    const plannedExams = new Map<string, string>();
    for (const one of prepared) summaries.push(await importOneFile(database, runner, one, { ...options, now: () => now }, rejectsFile, plannedExams));
    // the decisions reset are in the before-images; the entry says how many there were
    const reviewReset = summaries.reduce((sum, summary) => sum + summary.reviewReset.length, 0);
    await audit?.finish({ system: options.system, counts: { ...importCounts(summaries), ...(reviewReset > 0 ? { reviewReset } : {}) } });
    if (rejectsFile) await rejectsFile.commit();
    if (dryRun) await runner.rollback();
    else await runner.commit();
    committed = !dryRun;
    return summaries;
  } catch (error) {
    if (runner && !committed) {
      try {
        await runner.rollback();
      } catch {
        // The transaction went with its connection; SQLite or the server rolls it back.
      }
    }
    await rejectsFile?.abort();
    throw describeDatabaseError(error, database, 'import');
  } finally {
    runner?.close();
  }
}

/** Streams one file through its pipeline into the open transaction; commits nothing. */
async function importOneFile(
  database: Database,
  runner: ImportRunner,
  prepared: PreparedFile,
  options: ImportOptions,
  rejectsFile: OutputFile | undefined,
  plannedExams: Map<string, string>,
): Promise<ImportSummary> {
  const started = process.hrtime.bigint();
  const roundTripsBefore = database.roundTrips();
  const { file, target, parallel } = prepared;
  const now = options.now?.() ?? new Date();
  const context = importContext(database, runner, file, options, now, plannedExams);
  const stream: FileStream = { records: 0, rejectedLog: new ProblemLog(20), warnings: context.warnings };
  let batches: AsyncGenerator<PipelineBatch, PipelineEnd> | undefined;
  try {
    const plan = await target.begin(context);
    const settings = pipelineOptions(prepared, options, plan, now, Boolean(rejectsFile));
    batches = parallel ? runPipelineInWorker(settings) : runPipeline(settings);
    const end = await applyBatches(batches, context, prepared, options, rejectsFile, stream);
    return {
      ...summaryOf(prepared, options, context, stream, end),
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      roundTrips: database.roundTrips() - roundTripsBefore,
    };
  } catch (error) {
    if (error instanceof FileProblem) {
      for (const problem of error.problems) context.problems.add(problem);
      throw problemsError(file, context.problems, stream.records, { where: error.where, line: error.problems[0]?.line ?? 1 });
    }
    throw error;
  } finally {
    // A failure while writing leaves the pipeline suspended: ending it stops the parsing worker
    // (and closes the file), which would otherwise keep the process alive.
    await batches?.return(undefined as never).catch(() => undefined);
  }
}

/** What one file's stream gathers beside the statements it sends. */
interface FileStream {
  records: number;
  rejectedLog: ProblemLog;
  warnings: ProblemLog;
}

function importContext(database: Database, runner: ImportRunner, file: string, options: ImportOptions, now: Date, plannedExams: Map<string, string>): ImportContext {
  return {
    database,
    runner,
    file,
    mode: options.mode ?? 'upsert',
    dryRun: Boolean(options.dryRun),
    now,
    newId: createIdGenerator(() => now),
    problems: new ProblemLog(20),
    tally: new Tally(),
    plannedExams,
    reviewPolicy: options.reviewPolicy ?? 'reset',
    reviewReset: [],
    ids: importedIds(),
    assignedUnlisted: 0,
    prune: Boolean(options.prune),
    confirmPrune: options.confirmPrune,
    missing: [],
    warnings: new ProblemLog(20),
    diff: Boolean(options.diff),
    diffs: [],
  };
}

function pipelineOptions(prepared: PreparedFile, options: ImportOptions, plan: PipelineOptions['plan'], now: Date, keepRejected: boolean): PipelineOptions {
  return {
    path: prepared.path,
    format: prepared.format,
    encoding: options.encoding,
    delimiter: options.delimiter,
    sheet: options.sheet,
    maxFieldChars: options.maxFieldChars ?? DEFAULT_MAX_FIELD_CHARS,
    ignoreUnknownColumns: Boolean(options.ignoreUnknownColumns),
    excel: Boolean(options.excel),
    skipInvalid: Boolean(options.skipInvalid),
    keepRejected,
    dryRun: Boolean(options.dryRun),
    nowMs: now.getTime(),
    idPrefix: options.system === 'open-interview' ? 'q-' : '',
    plan,
    reviewer: options.reviewer,
    interchange: options.interchange,
  };
}

/** Runs each batch's statements as it comes (while the file is good), sets rejected rows aside, and finishes the target. */
async function applyBatches(
  batches: AsyncGenerator<PipelineBatch, PipelineEnd>,
  context: ImportContext,
  prepared: PreparedFile,
  options: ImportOptions,
  rejectsFile: OutputFile | undefined,
  stream: FileStream,
): Promise<PipelineEnd> {
  const { file, format, target } = prepared;
  const { problems, tally, runner } = context;
  const rejectsFormat = options.rejects ? (formatFromPath(options.rejects) ?? format) : undefined;
  let rejects: RejectsWriter | undefined;
  let end: PipelineEnd | undefined;
  let header: string[] | undefined;
  let dialect: PipelineBatch['dialect'];
  for (;;) {
    const next = await batches.next();
    if (next.done) {
      end = next.value;
      break;
    }
    const batch: PipelineBatch = next.value;
    header ??= batch.header;
    dialect ??= batch.dialect;
    stream.records = batch.records;
    for (const problem of batch.problems) problems.add(problem);
    problems.count += batch.problemsNotSent;
    if (problems.empty) {
      await runner.send(batch.statements, statementBytes(batch.statements));
      if (batch.rows.length > 0) await target.accept(batch.rows);
    }
    for (const rejected of batch.rejected) {
      tally.add(rejected.group, 'rejected');
      if (rejectsFile && rejected.raw) {
        rejects ??= new RejectsWriter(rejectsFile, rejectsFormat!, header, dialect);
        await rejects.write(rejected.raw, rejected.error ?? '');
      }
    }
    for (const problem of batch.rejectedProblems) stream.rejectedLog.add(problem);
    for (const warning of batch.warnings) stream.warnings.add(warning);
    stream.warnings.count += batch.warningsNotSent;
    options.onProgress?.({ file, bytes: batch.bytes, totalBytes: batch.totalBytes, rows: stream.records });
  }
  stream.records = end.records;
  if (!problems.empty) throw problemsError(file, problems, stream.records);
  for (const count of end.counts) tally.add(count.group, count.outcome, count.count);
  if (end.kept) target.acceptKept?.(end.kept);
  if (end.assigned) target.acceptAssigned?.(end.assigned);
  await target.finish();
  await runner.drain();
  if (!problems.empty) throw problemsError(file, problems, stream.records);
  if (rejectsFile) {
    rejects ??= new RejectsWriter(rejectsFile, rejectsFormat!, end.header, end.dialect);
    await rejects.finish();
  }
  return end;
}

function summaryOf(prepared: PreparedFile, options: ImportOptions, context: ImportContext, stream: FileStream, end: PipelineEnd): Omit<ImportSummary, 'seconds' | 'roundTrips'> {
  const { file } = prepared;
  const groups = context.tally.list();
  const total = (outcome: keyof Omit<GroupCounts, 'group'>) => groups.reduce((sum, group) => sum + group[outcome], 0);
  return {
    file,
    system: options.system,
    kind: prepared.kind,
    format: prepared.format,
    encoding: end.encoding,
    mode: context.mode,
    dryRun: context.dryRun,
    rows: stream.records,
    created: total('created'),
    updated: total('updated'),
    unchanged: total('unchanged'),
    skipped: total('skipped'),
    rejected: total('rejected'),
    groupBy: prepared.target.groupLabel,
    groups,
    rejectsFile: options.rejects,
    problems: stream.rejectedLog.sorted().map((problem) => formatProblem(file, problem)),
    warnings: stream.warnings.sorted().map((warning) => formatProblem(file, warning)),
    warningCount: stream.warnings.count,
    reviewReset: context.reviewReset,
    ids: context.ids,
    assigned: context.ids.assigned.length + context.assignedUnlisted,
    missing: context.missing,
    pruned: options.prune ? context.missing.reduce((sum, group) => sum + group.count, 0) : 0,
    ignoredColumns: end.ignored,
    parallel: prepared.parallel,
    ...(options.diff ? { diff: context.diffs } : {}),
  };
}

/** Rows of a file are invalid; `skippable` when the valid ones could be imported and the others set aside. */
export class RowProblemsError extends InvalidInputError {
  constructor(
    message: string,
    options: { hint?: string; details?: string[] },
    readonly skippable: boolean,
  ) {
    super(message, options);
  }
}

function problemsError(file: string, problems: ProblemLog, rows: number, stopped?: { where: FileProblem['where']; line: number }): RowProblemsError {
  const count = problems.count;
  const what =
    stopped?.where === 'header'
      ? `${file}: the header does not fit the format`
      : stopped
        ? `${file} cannot be read past line ${stopped.line}`
        : `${file}: ${count.toLocaleString('en-US')} problem${count === 1 ? '' : 's'} in ${rows.toLocaleString('en-US')} row${rows === 1 ? '' : 's'}`;
  const shown = problems.kept.length;
  const more = count > shown ? `the first ${shown} of ${count.toLocaleString('en-US')} problems are shown; ` : '';
  return new RowProblemsError(
    `${what}; nothing was imported`,
    {
      details: problems.sorted().map((problem) => formatProblem(file, problem)),
      hint: stopped ? (stopped.where === 'header' ? 'see `qbank import template` for the columns' : undefined) : `${more}fix them`,
    },
    !stopped,
  );
}
