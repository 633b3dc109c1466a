import { BankRules } from './bank-rules.js';
import { compactJson, orderFixes, type Fix } from './fixes.js';
import type { CheckQuestion, CheckSettings, RawFinding, RuleName } from './model.js';
import { optionRules, textRules } from './question-rules.js';
import { rowRules, type TableSpec } from './row-rules.js';

/**
 * Runs the enabled rules over rows fed one at a time, from a database or from an import file: the
 * same rules whatever the source. Findings of rules that are not enabled are never produced.
 */
export class CheckEngine {
  readonly findings: RawFinding[] = [];
  readonly fixes: Fix[] = [];
  private readonly bank: BankRules | undefined;

  constructor(private readonly settings: CheckSettings) {
    const on = (rule: RuleName) => settings.rules.has(rule);
    const bankRules: RuleName[] = ['duplicate-question', 'near-duplicate-question', 'answer-position-bias', 'longest-option-correct'];
    this.bank = bankRules.some(on) ? new BankRules(settings.thresholds, settings.system === 'pingtopass', on('near-duplicate-question')) : undefined;
  }

  private keep(found: RawFinding[], line?: number): void {
    for (const finding of found) {
      if (!this.settings.rules.has(finding.rule)) continue;
      if (line !== undefined) finding.line = line;
      this.findings.push(finding);
    }
  }

  /** `line`: an import file's row, where it starts. */
  row(spec: TableSpec, row: Record<string, unknown>, group: string | null, line?: number): void {
    const found = rowRules(spec, row, group, { json: this.settings.rules.has('invalid-json'), values: this.settings.rules.has('invalid-value') });
    this.keep(found, line);
    if (!this.settings.collectFixes || !this.settings.rules.has('invalid-json')) return;
    const id = row[spec.key];
    if (id === null || id === undefined) return;
    for (const column of spec.json) {
      const value = row[column.column];
      if (typeof value !== 'string' || found.some((finding) => finding.message.startsWith(`${column.column}:`))) continue;
      const compact = compactJson(value);
      if (compact !== undefined) this.fixes.push({ table: spec.table, id: String(id), column: column.column, from: value, to: compact, why: 'JSON re-serialised without whitespace' });
    }
  }

  question(question: CheckQuestion): void {
    this.keep(optionRules(question, this.settings.thresholds));
    if (this.settings.collectFixes && this.settings.rules.has('option-order')) this.fixes.push(...orderFixes(question.id, question.options));
    this.keep(textRules(question));
    this.bank?.add(question);
  }

  /** The number of questions about to come, when known or estimated: the bank rules make room once. */
  reserve(questions: number): void {
    this.bank?.reserve(questions);
  }

  add(found: RawFinding[]): void {
    this.keep(found);
  }

  finish(): RawFinding[] {
    if (this.bank) this.keep(this.bank.findings());
    return this.findings;
  }
}
