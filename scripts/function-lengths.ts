/**
 * Measures every function in a source tree (declarations, methods, accessors, constructors, arrow
 * functions and function expressions) with the TypeScript compiler API, and prints the longest.
 *
 *   node --import tsx scripts/function-lengths.ts [DIR=src] [--top N=10] [--max LINES]
 *
 * A function's length is its lines from the first to the last, nested functions included: that is
 * what a reader has to hold in mind. With --max, exits 1 when any function is longer.
 */
import { join } from 'node:path';
import ts from 'typescript';
import { isEntryPoint, stopQuietlyOnClosedOutput, lineOf, parseSourceTree, REPO_ROOT } from './source-files.js';

export interface FunctionLength {
  path: string;
  line: number;
  name: string;
  lines: number;
}

/** Every function below `dir`, longest first (ties by path and line, so the order is stable). */
export function measureFunctionLengths(dir = join(REPO_ROOT, 'src')): FunctionLength[] {
  const found: FunctionLength[] = [];
  for (const { path, source } of parseSourceTree(dir)) {
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const line = lineOf(source, node.getStart(source));
        found.push({ path, line, name: functionName(node, source), lines: lineOf(source, node.getEnd()) - line + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found.sort((a, b) => b.lines - a.lines || a.path.localeCompare(b.path) || a.line - b.line);
}

/** The name a reader would search for: the declared name, or what the function is assigned to. */
function functionName(node: ts.SignatureDeclaration, source: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return `${className(node.parent)}.constructor`;
  if (node.name) {
    const own = node.name.getText(source);
    return ts.isClassLike(node.parent) ? `${className(node.parent)}.${own}` : own;
  }
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) {
    return parent.name.getText(source);
  }
  if (ts.isCallExpression(parent)) return `<callback of ${parent.expression.getText(source).slice(0, 40)}>`;
  if (ts.isNewExpression(parent)) return `<callback of new ${parent.expression.getText(source).slice(0, 40)}>`;
  return '<anonymous>';
}

function className(node: ts.Node): string {
  return ts.isClassLike(node) && node.name ? node.name.text : '<class>';
}

function formatRow(f: FunctionLength): string {
  return `${String(f.lines).padStart(5)}  ${f.path}:${f.line}  ${f.name}`;
}

function main(args: string[]): number {
  let dir = join(REPO_ROOT, 'src');
  let top = 10;
  let max: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--top') top = Number(args[++i]);
    else if (arg === '--max') max = Number(args[++i]);
    else dir = arg;
  }
  const lengths = measureFunctionLengths(dir);
  console.log(`lines  function (longest ${top} of ${lengths.length})`);
  for (const f of lengths.slice(0, top)) console.log(formatRow(f));
  if (max === undefined) return 0;
  const over = lengths.filter((f) => f.lines > max);
  if (over.length > 0) console.error(`${over.length} function(s) longer than ${max} lines`);
  return over.length > 0 ? 1 : 0;
}

if (isEntryPoint(import.meta.url)) {
  stopQuietlyOnClosedOutput();
  process.exitCode = main(process.argv.slice(2));
}
