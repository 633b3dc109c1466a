/**
 * Finds import cycles among the modules of a source tree. Imports that only bring types (`import
 * type`, or every name marked `type`) vanish when TypeScript compiles, so cycles through them are
 * listed apart: they tie the modules' meaning together but not their loading order. Also lists
 * imports that run up the layers of `src/` (a service importing a command or the entry point).
 *
 *   node --import tsx scripts/import-cycles.ts [DIR=src]
 *
 * Exits 1 when a cycle exists at run time or an import runs up the layers (type-only cycles are
 * reported, not failed).
 */
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import ts from 'typescript';
import { isEntryPoint, stopQuietlyOnClosedOutput, parseSourceTree, REPO_ROOT } from './source-files.js';

export interface ImportEdge {
  from: string;
  to: string;
  typeOnly: boolean;
}

export interface ImportCycles {
  /** Cycles that exist when the code runs: each a list of modules, the first repeated at the end. */
  runtime: string[][];
  /** Cycles that exist only through type-only imports. */
  typeOnly: string[][];
}

/** Relative imports, re-exports and `import()` calls between the modules below `dir`. */
export function collectImportEdges(dir = join(REPO_ROOT, 'src')): ImportEdge[] {
  const files = parseSourceTree(dir);
  const byAbsolutePath = new Map(files.map((f) => [f.absolutePath, f.path]));
  const edges: ImportEdge[] = [];
  for (const { path, absolutePath, source } of files) {
    const add = (specifier: string, typeOnly: boolean) => {
      const target = resolveModule(absolutePath, specifier);
      const to = target && byAbsolutePath.get(target);
      if (to) edges.push({ from: path, to, typeOnly });
    };
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        add(node.moduleSpecifier.text, isTypeOnlyImport(node));
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        add(node.moduleSpecifier.text, node.isTypeOnly);
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const [specifier] = node.arguments;
        if (specifier && ts.isStringLiteralLike(specifier)) add(specifier.text, false);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        add(node.argument.literal.text, true);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return edges;
}

function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false; // `import './x.js'` runs the module
  if (clause.isTypeOnly) return true;
  if (clause.name) return false;
  const bindings = clause.namedBindings;
  return bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}

/** NodeNext specifiers name the emitted `.js`; the source is the `.ts` beside it. */
function resolveModule(fromFile: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = resolve(dirname(fromFile), specifier);
  for (const candidate of [target.replace(/\.js$/, '.ts'), target, `${target}.ts`, join(target, 'index.ts')]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function findImportCycles(edges: ImportEdge[]): ImportCycles {
  const runtime = cyclesOf(edges.filter((e) => !e.typeOnly));
  const runtimeKeys = new Set(runtime.map((c) => [...new Set(c)].sort().join(' ')));
  const typeOnly = cyclesOf(edges).filter((c) => !runtimeKeys.has([...new Set(c)].sort().join(' ')));
  return { runtime, typeOnly };
}

/** One cycle per strongly connected component (Tarjan), shown as a path through it. */
function cyclesOf(edges: ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (module: string): void => {
    index.set(module, index.size);
    low.set(module, index.get(module)!);
    stack.push(module);
    onStack.add(module);
    for (const target of next.get(module) ?? []) {
      if (!index.has(target)) {
        connect(target);
        low.set(module, Math.min(low.get(module)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(module, Math.min(low.get(module)!, index.get(target)!));
      }
    }
    if (low.get(module) !== index.get(module)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== module);
    const selfImport = next.get(module)?.includes(module) ?? false;
    if (component.length > 1 || selfImport) components.push(component);
  };
  for (const module of [...next.keys()].sort()) if (!index.has(module)) connect(module);
  return components.map((component) => pathThrough(component, next)).sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** A shortest way from the component's first module (by name) back to itself, staying inside it. */
function pathThrough(component: string[], next: Map<string, string[]>): string[] {
  const members = new Set(component);
  const start = [...component].sort()[0]!;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const module = queue.shift()!;
    for (const target of next.get(module) ?? []) {
      if (!members.has(target)) continue;
      if (target === start) {
        const path = [start];
        for (let at = module; at !== start; at = cameFrom.get(at)!) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!cameFrom.has(target)) {
        cameFrom.set(target, module);
        queue.push(target);
      }
    }
  }
  return [start, start];
}

/** The command layer and the entry point: nothing below them may import them. */
const TOP_LAYERS = [/^src\/commands\//, /^src\/main\.ts$/, /^src\/cli\.ts$/];

/** Imports from a module below the command layer into it or into the entry point. */
export function findUpwardImports(edges: ImportEdge[]): ImportEdge[] {
  const isTop = (path: string) => TOP_LAYERS.some((pattern) => pattern.test(path));
  return edges.filter((edge) => !isTop(edge.from) && isTop(edge.to));
}

function main(args: string[]): number {
  const edges = collectImportEdges(args[0] ?? join(REPO_ROOT, 'src'));
  const cycles = findImportCycles(edges);
  const upward = findUpwardImports(edges);
  const show = (title: string, list: string[][]) => {
    console.log(`${title}: ${list.length}`);
    for (const cycle of list) console.log(`  ${cycle.join(' -> ')}`);
  };
  show('import cycles at run time', cycles.runtime);
  show('import cycles through type-only imports', cycles.typeOnly);
  console.log(`imports up the layers (into src/commands, src/main.ts, src/cli.ts): ${upward.length}`);
  for (const edge of upward) console.log(`  ${edge.from} -> ${edge.to}${edge.typeOnly ? ' (type only)' : ''}`);
  return cycles.runtime.length > 0 || upward.length > 0 ? 1 : 0;
}

if (isEntryPoint(import.meta.url)) {
  stopQuietlyOnClosedOutput();
  process.exitCode = main(process.argv.slice(2));
}
