import { RULES } from './model.js';
import type { CheckReport, Finding } from './model.js';

/** The report as CI tools read it: JUnit XML (one testcase per rule) and GitHub workflow commands. */

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Where a finding is: `table id (group)`; for an import file `file:line:column` first, and the id only when the row has one. */
export function where(finding: Finding): string {
  const group = finding.group === null ? '' : ` (${finding.group})`;
  if (finding.file === undefined) return `${finding.table}${finding.id === null ? '' : ` ${finding.id}`}${group}`;
  const at = `${finding.file}${finding.line === undefined ? '' : `:${finding.line}`}${finding.column === undefined ? '' : `:${finding.column}`}`;
  const id = finding.id === null || (finding.line !== undefined && /^(line|record) \d+$/.test(finding.id)) ? '' : ` ${finding.id}`;
  return `${at}${id}${group}`;
}

export function renderJunit(report: CheckReport): string {
  const lines = [`<?xml version="1.0" encoding="UTF-8"?>`];
  const failures = report.findings.length;
  const skipped = report.rules.filter((rule) => rule.notRun !== undefined).length;
  lines.push(`<testsuites name="qbank check" tests="${report.rules.length}" failures="${failures}" skipped="${skipped}">`);
  lines.push(`  <testsuite name="qbank check" tests="${report.rules.length}" failures="${failures}" skipped="${skipped}">`);
  const byRule = new Map<string, Finding[]>();
  for (const finding of report.findings) {
    const same = byRule.get(finding.rule);
    if (same) same.push(finding);
    else byRule.set(finding.rule, [finding]);
  }
  for (const { rule, notRun } of report.rules) {
    if (notRun !== undefined) {
      lines.push(`    <testcase classname="qbank.check" name="${rule}"><skipped message="${xml(notRun)}"/></testcase>`);
      continue;
    }
    const findings = byRule.get(rule) ?? [];
    if (findings.length === 0) {
      lines.push(`    <testcase classname="qbank.check" name="${rule}"/>`);
      continue;
    }
    lines.push(`    <testcase classname="qbank.check" name="${rule}">`);
    for (const finding of findings) {
      lines.push(`      <failure type="${finding.severity}" message="${xml(`${where(finding)}: ${finding.message}`)}">${xml(JSON.stringify(finding))}</failure>`);
    }
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>');
  return lines.join('\n');
}

/** GitHub escapes: % and line breaks in the message; also , and : in properties. */
const ghData = (text: string) => text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const ghProperty = (text: string) => ghData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');

export function renderGithub(report: CheckReport): string {
  return report.findings.map(githubLine).join('\n');
}

/** One workflow command; an import file's finding names its file, line and column, so GitHub marks the line. */
export function githubLine(finding: Finding): string {
  const place = finding.file === undefined ? '' : `file=${ghProperty(finding.file)},${finding.line === undefined ? '' : `line=${finding.line},`}${finding.column === undefined ? '' : `col=${finding.column},`}`;
  return `::${finding.severity} ${place}title=${ghProperty(`qbank check ${finding.rule}`)}::${ghData(`${where(finding)}: ${finding.message}`)}`;
}

/** Errors first, then by rule; within a rule by file and line (import files) or by id. Sorts in place. */
export function sortFindings(findings: Finding[]): Finding[] {
  const order = new Map(RULES.map((rule, index) => [rule, index]));
  const byPlace = (a: Finding, b: Finding) => (a.file ?? '').localeCompare(b.file ?? '') || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
  return findings.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1) || order.get(a.rule)! - order.get(b.rule)! || byPlace(a, b) || compareIds(a.id, b.id));
}

const compareIds = (a: string | null, b: string | null) => (a === b ? 0 : String(a) < String(b) ? -1 : 1);
