import { RULES } from './model.js';
import type { CheckReport, Finding } from './model.js';

/** The report as CI tools read it: JUnit XML (one testcase per rule) and GitHub workflow commands. */

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function where(finding: Finding): string {
  return `${finding.table}${finding.id === null ? '' : ` ${finding.id}`}${finding.group === null ? '' : ` (${finding.group})`}`;
}

export function renderJunit(report: CheckReport): string {
  const lines = [`<?xml version="1.0" encoding="UTF-8"?>`];
  const failures = report.findings.length;
  lines.push(`<testsuites name="qbank check" tests="${report.rules.length}" failures="${failures}">`);
  lines.push(`  <testsuite name="qbank check" tests="${report.rules.length}" failures="${failures}">`);
  for (const { rule } of report.rules) {
    const findings = report.findings.filter((finding) => finding.rule === rule);
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
  return report.findings
    .map((finding) => `::${finding.severity} title=${ghProperty(`qbank check ${finding.rule}`)}::${ghData(`${where(finding)}: ${finding.message}`)}`)
    .join('\n');
}

export function sortFindings(findings: Finding[]): Finding[] {
  const order = new Map(RULES.map((rule, index) => [rule, index]));
  return [...findings].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1) || order.get(a.rule)! - order.get(b.rule)! || String(a.id).localeCompare(String(b.id)));
}
