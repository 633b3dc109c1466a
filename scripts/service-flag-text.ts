/**
 * Finds qbank's CLI flags (`--schema`, `--rejects`, …) in the string literals of the service layer.
 * Services raise errors with facts; only the command layer knows which flag would fix them, so a
 * flag named in `src/db` or `src/turso` ties that service to the CLI. The flags are the ones the
 * command layer declares (`.option(…)`, `new Option(…)` in `src/cli.ts` and `src/commands/`), so
 * another program's flags (`node --expose-gc`, `sqld --auth-jwt-key-file`) and SQL comments do not
 * count.
 *
 *   node --import tsx scripts/service-flag-text.ts [DIR...=src/db src/turso]
 *
 * Exits 1 when any is found.
 */
import { join } from 'node:path';
import ts from 'typescript';
import { isEntryPoint, stopQuietlyOnClosedOutput, lineOf, parseSourceTree, REPO_ROOT } from './source-files.js';

export const SERVICE_DIRS = [join(REPO_ROOT, 'src', 'db'), join(REPO_ROOT, 'src', 'turso')];

export interface FlagMention {
  path: string;
  line: number;
  flag: string;
}

const FLAG = /(?<![\w-])--[a-z][a-z0-9]*(?:-[a-z0-9]+)*/g;

export const COMMAND_LAYER = [join(REPO_ROOT, 'src', 'cli.ts'), join(REPO_ROOT, 'src', 'commands')];

const OPTION_DECLARATIONS = new Set(['option', 'requiredOption', 'Option']);

/** Every long flag the command layer declares. */
export function declaredFlags(paths = COMMAND_LAYER): Set<string> {
  const flags = new Set<string>();
  for (const path of paths) {
    for (const { source } of parseSourceTree(path)) {
      const visit = (node: ts.Node): void => {
        if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && OPTION_DECLARATIONS.has(calleeName(node.expression))) {
          const [declaration] = node.arguments ?? [];
          if (declaration && ts.isStringLiteralLike(declaration)) for (const match of declaration.text.matchAll(FLAG)) flags.add(match[0]);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
  }
  return flags;
}

function calleeName(expression: ts.Expression): string {
  if (ts.isIdentifier(expression)) return expression.text;
  if (ts.isPropertyAccessExpression(expression)) return expression.name.text;
  return '';
}

export function findServiceFlagText(dirs = SERVICE_DIRS, flags = declaredFlags()): FlagMention[] {
  const found: FlagMention[] = [];
  for (const dir of dirs) {
    for (const { path, source } of parseSourceTree(dir)) {
      const visit = (node: ts.Node): void => {
        if (ts.isStringLiteralLike(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
          for (const match of node.text.matchAll(FLAG)) {
            if (flags.has(match[0])) found.push({ path, line: lineOf(source, node.getStart(source)), flag: match[0] });
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
  }
  return found;
}

function main(args: string[]): number {
  const mentions = findServiceFlagText(args.length > 0 ? args : SERVICE_DIRS);
  console.log(`CLI flags named in service code: ${mentions.length}`);
  for (const m of mentions) console.log(`  ${m.path}:${m.line}  ${m.flag}`);
  return mentions.length > 0 ? 1 : 0;
}

if (isEntryPoint(import.meta.url)) {
  stopQuietlyOnClosedOutput();
  process.exitCode = main(process.argv.slice(2));
}
