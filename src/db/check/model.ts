import type { SystemName } from '../../config.js';

export type Severity = 'error' | 'warning';

/** Rule names are part of qbank's interface (`--rules`, config, JSON reports): keep them. */
export const RULES = [
  'invalid-row',
  'orphan-row',
  'invalid-json',
  'invalid-value',
  'no-correct-option',
  'single-multiple-correct',
  'too-few-options',
  'option-order',
  'duplicate-question',
  'near-duplicate-question',
  'duplicate-option',
  'answer-position-bias',
  'longest-option-correct',
  'all-none-of-the-above',
  'option-length-bias',
  'missing-explanation',
  'truncated-answer',
  'json-in-text',
  'stale-claim',
  'bot-anomaly',
] as const;

export type RuleName = (typeof RULES)[number];

/** What a check reads: a database, or an import file before it is imported. */
export type CheckSource = 'database' | 'file';

/** Rules that only one source can run; the others run on both. */
export const SOURCE_ONLY: Partial<Record<RuleName, CheckSource>> = {
  'invalid-row': 'file',
  'orphan-row': 'database',
  'stale-claim': 'database',
  'bot-anomaly': 'database',
};

/** Why a chosen rule did not run, by the source it needs. */
export const NOT_RUN_REASON: Record<CheckSource, string> = {
  database: 'needs the database (it reads rows an import file does not have)',
  file: 'checks the rows of an import file as the import reads them',
};

export const DEFAULT_SEVERITY: Record<RuleName, Severity> = {
  'invalid-row': 'error',
  'orphan-row': 'error',
  'invalid-json': 'error',
  'invalid-value': 'error',
  'no-correct-option': 'error',
  'single-multiple-correct': 'error',
  'too-few-options': 'error',
  'option-order': 'error',
  'duplicate-question': 'warning',
  'near-duplicate-question': 'warning',
  'duplicate-option': 'warning',
  'answer-position-bias': 'warning',
  'longest-option-correct': 'warning',
  'all-none-of-the-above': 'warning',
  'option-length-bias': 'warning',
  'missing-explanation': 'warning',
  'truncated-answer': 'warning',
  'json-in-text': 'warning',
  'stale-claim': 'warning',
  'bot-anomaly': 'warning',
};

/** Every threshold a rule reads; the defaults are documented in the README. */
export interface Thresholds {
  /** near-duplicate-question: word-shingle Jaccard similarity at or above which two stems are near duplicates. */
  nearDuplicateJaccard: number;
  /** near-duplicate-question: words per shingle. */
  shingleWords: number;
  /** answer-position-bias: single-answer questions (4+ options) an exam needs before it is judged. */
  positionBiasMinQuestions: number;
  /** answer-position-bias: the share of correct answers on one position above which the key is skewed. */
  positionBiasShare: number;
  /** longest-option-correct: questions an exam needs before it is judged. */
  longestCorrectMinQuestions: number;
  /** longest-option-correct: the share of questions whose correct option is strictly the longest. */
  longestCorrectShare: number;
  /** option-length-bias: correct option at least this many times the mean length of the wrong ones … */
  lengthBiasRatio: number;
  /** … and at least this many characters longer. */
  lengthBiasMinExtra: number;
  /** bot-anomaly: actions in the last 24 h above this multiple of the bot's daily median over the 14 days before. */
  botActionsFactor: number;
  /** bot-anomaly: deletions by one bot in one day above this many. */
  botDeletesPerDay: number;
  /** stale-claim: minutes a work-queue item may stay in processing. */
  claimLeaseMinutes: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  nearDuplicateJaccard: 0.8,
  shingleWords: 3,
  positionBiasMinQuestions: 20,
  positionBiasShare: 0.4,
  longestCorrectMinQuestions: 20,
  longestCorrectShare: 0.6,
  lengthBiasRatio: 1.4,
  lengthBiasMinExtra: 20,
  botActionsFactor: 5,
  botDeletesPerDay: 50,
  claimLeaseMinutes: 60,
};

/** Which rule a threshold belongs to, for the report's list of rules that ran. */
export const THRESHOLDS_OF_RULE: Partial<Record<RuleName, Array<keyof Thresholds>>> = {
  'near-duplicate-question': ['nearDuplicateJaccard', 'shingleWords'],
  'answer-position-bias': ['positionBiasMinQuestions', 'positionBiasShare'],
  'longest-option-correct': ['longestCorrectMinQuestions', 'longestCorrectShare'],
  'option-length-bias': ['lengthBiasRatio', 'lengthBiasMinExtra'],
  'bot-anomaly': ['botActionsFactor', 'botDeletesPerDay'],
  'stale-claim': ['claimLeaseMinutes'],
};

export interface Finding {
  rule: RuleName;
  severity: Severity;
  table: string;
  id: string | null;
  /** The exam code (PingToPass) or channel (open-interview) the row belongs to, when it has one. */
  group: string | null;
  message: string;
  /** Other ids the finding involves (the rest of a duplicate group, say). */
  related: string[];
  /** An import file's finding: the file as named, the line (and column) of the row or field. */
  file?: string;
  line?: number;
  column?: number;
}

/** A finding before the configured severity is applied. */
export type RawFinding = Omit<Finding, 'severity'>;

export interface CheckOption {
  id: string;
  text: string;
  isCorrect: boolean;
  order: number | null;
}

/** One question as the content rules see it, whichever system it came from. */
export interface CheckQuestion {
  table: 'questions';
  id: string;
  group: string | null;
  /** PingToPass `type`; open-interview has none. */
  type: string | null;
  text: string;
  explanation: string | null;
  /** approved (PingToPass review_status) or active (open-interview status, PingToPass is_active with approval). */
  published: boolean;
  /** PingToPass answer options in `order`; empty for open-interview. */
  options: CheckOption[];
  /** open-interview: answer and tldr, the free-text fields. */
  answer: string | null;
  tldr: string | null;
  /** An import file's row: the line it starts on. */
  line?: number;
}

export interface CheckSettings {
  system: SystemName;
  rules: ReadonlySet<RuleName>;
  severities: Record<RuleName, Severity>;
  thresholds: Thresholds;
  /** Collect the lossless fixes (`--fix`) while checking. */
  collectFixes?: boolean;
  /** Chosen rules this source cannot run: listed in the report as not run, with the reason. */
  notRun?: ReadonlyMap<RuleName, string>;
}

export interface RuleReport {
  rule: RuleName;
  severity: Severity;
  thresholds: Partial<Thresholds>;
  /** Why the rule did not run on this source (absent: it ran). */
  notRun?: string;
}

export interface CheckReport {
  findings: Finding[];
  summary: { errors: number; warnings: number; byRule: Partial<Record<RuleName, number>> };
  rules: RuleReport[];
}

export function buildReport(raw: RawFinding[], settings: CheckSettings, file?: string): CheckReport {
  const findings: Finding[] = [];
  const byRule: Partial<Record<RuleName, number>> = {};
  let errors = 0;
  for (const one of raw) {
    if (!settings.rules.has(one.rule)) continue;
    const severity = settings.severities[one.rule];
    const finding: Finding = { rule: one.rule, severity, table: one.table, id: one.id, group: one.group, message: one.message, related: one.related };
    const where = one.file ?? file;
    if (where !== undefined) finding.file = where;
    if (one.line !== undefined) finding.line = one.line;
    if (one.column !== undefined) finding.column = one.column;
    findings.push(finding);
    byRule[one.rule] = (byRule[one.rule] ?? 0) + 1;
    if (severity === 'error') errors++;
  }
  const rules = RULES.filter((rule) => settings.rules.has(rule) || settings.notRun?.has(rule)).map((rule) => {
    const report: RuleReport = {
      rule,
      severity: settings.severities[rule],
      thresholds: Object.fromEntries((THRESHOLDS_OF_RULE[rule] ?? []).map((key) => [key, settings.thresholds[key]])) as Partial<Thresholds>,
    };
    const reason = settings.notRun?.get(rule);
    if (reason !== undefined) report.notRun = reason;
    return report;
  });
  return { findings, summary: { errors, warnings: findings.length - errors, byRule }, rules };
}
