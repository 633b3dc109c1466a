import type { SystemName } from '../../config.js';
import { QbankError, UsageError } from '../../errors.js';
import { DEFAULT_SEVERITY, DEFAULT_THRESHOLDS, NOT_RUN_REASON, RULES, SOURCE_ONLY, type CheckSettings, type CheckSource, type RuleName, type Severity, type Thresholds } from './model.js';

/** Rules of one system only; the others do not run on it. */
const SYSTEM_ONLY: Partial<Record<RuleName, SystemName>> = {
  'no-correct-option': 'pingtopass',
  'single-multiple-correct': 'pingtopass',
  'too-few-options': 'pingtopass',
  'option-order': 'pingtopass',
  'duplicate-option': 'pingtopass',
  'answer-position-bias': 'pingtopass',
  'longest-option-correct': 'pingtopass',
  'all-none-of-the-above': 'pingtopass',
  'option-length-bias': 'pingtopass',
  'truncated-answer': 'open-interview',
  'stale-claim': 'open-interview',
  'bot-anomaly': 'open-interview',
};

export function rulesOfSystem(system: SystemName): RuleName[] {
  return RULES.filter((rule) => (SYSTEM_ONLY[rule] ?? system) === system);
}

/** Names that are not rules, given where rules are chosen. */
export class UnknownRuleError extends QbankError {
  constructor(readonly names: string[], readonly list: 'rules' | 'skip-rules') {
    super(`unknown rule${names.length === 1 ? '' : 's'}: ${names.join(', ')}`, { exitCode: 2, hint: `the rules: ${RULES.join(', ')}` });
  }
}

export interface CheckSection {
  severities?: Partial<Record<RuleName, Severity | 'off'>>;
  thresholds?: Partial<Thresholds>;
}

/** The `"check"` section of qbank.config.json, checked here where its keys are known. */
export function parseCheckSection(raw: unknown, where: string): CheckSection {
  if (raw === undefined) return {};
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(raw)) throw new UsageError(`${where}: check: expected an object`);
  for (const key of Object.keys(raw)) if (key !== 'severities' && key !== 'thresholds') throw new UsageError(`${where}: check.${key}: unknown key (known: severities, thresholds)`);
  const section: CheckSection = {};
  if (raw.severities !== undefined) {
    if (!isObject(raw.severities)) throw new UsageError(`${where}: check.severities: expected an object of rule names`);
    for (const [rule, value] of Object.entries(raw.severities)) {
      if (!(RULES as readonly string[]).includes(rule)) throw new UsageError(`${where}: check.severities.${rule}: not a rule (rules: ${RULES.join(', ')})`);
      if (value !== 'error' && value !== 'warning' && value !== 'off') throw new UsageError(`${where}: check.severities.${rule}: expected "error", "warning" or "off"`);
    }
    section.severities = raw.severities as CheckSection['severities'];
  }
  if (raw.thresholds !== undefined) {
    if (!isObject(raw.thresholds)) throw new UsageError(`${where}: check.thresholds: expected an object`);
    for (const [key, value] of Object.entries(raw.thresholds)) {
      if (!(key in DEFAULT_THRESHOLDS)) throw new UsageError(`${where}: check.thresholds.${key}: unknown threshold (known: ${Object.keys(DEFAULT_THRESHOLDS).join(', ')})`);
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new UsageError(`${where}: check.thresholds.${key}: expected a number, 0 or more`);
    }
    section.thresholds = raw.thresholds as Partial<Thresholds>;
  }
  return section;
}

/**
 * The rules to run and how: the system's rules, narrowed by `rules`/`skipRules` and the section's
 * "off"; those of them the source cannot run (`SOURCE_ONLY`) are set apart as not run.
 */
export function resolveCheckSettings(options: { system: SystemName; rules?: string[]; skipRules?: string[]; section?: CheckSection; source?: CheckSource }): CheckSettings {
  const unknown = (names: string[] | undefined) => (names ?? []).filter((name) => !(RULES as readonly string[]).includes(name));
  if (unknown(options.rules).length > 0) throw new UnknownRuleError(unknown(options.rules), 'rules');
  if (unknown(options.skipRules).length > 0) throw new UnknownRuleError(unknown(options.skipRules), 'skip-rules');
  const severities = { ...DEFAULT_SEVERITY };
  const off = new Set<RuleName>();
  for (const [rule, value] of Object.entries(options.section?.severities ?? {}) as Array<[RuleName, Severity | 'off']>) {
    if (value === 'off') off.add(rule);
    else severities[rule] = value;
  }
  const chosen = options.rules && options.rules.length > 0 ? new Set(options.rules as RuleName[]) : undefined;
  const skipped = new Set(options.skipRules as RuleName[] | undefined);
  // A rule named in --rules runs even when the configuration turns it off.
  const wanted = rulesOfSystem(options.system).filter((rule) => (chosen ? chosen.has(rule) : !off.has(rule)) && !skipped.has(rule));
  const source = options.source ?? 'database';
  const runs = (rule: RuleName) => (SOURCE_ONLY[rule] ?? source) === source;
  const notRun = new Map(wanted.filter((rule) => !runs(rule)).map((rule) => [rule, NOT_RUN_REASON[SOURCE_ONLY[rule]!]] as const));
  return { system: options.system, rules: new Set(wanted.filter(runs)), severities, thresholds: { ...DEFAULT_THRESHOLDS, ...options.section?.thresholds }, notRun };
}
