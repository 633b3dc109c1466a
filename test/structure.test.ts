import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { measureFunctionLengths } from '../scripts/function-lengths.js';
import { collectImportEdges, findImportCycles, findUpwardImports } from '../scripts/import-cycles.js';
import { declaredFlags, findServiceFlagText } from '../scripts/service-flag-text.js';
import { tempDir } from './support/cli.js';

/**
 * Limits that hold for the code as it is, so a change that makes it worse fails. Tighten them as
 * the code improves: drop a function from `longFunctions` when it is split, lower the counts.
 */
const LIMITS = {
  functionLines: 120,
  /** Functions longer than `functionLines` today, each held to its present length ("path name": lines). None: keep it so. */
  longFunctions: {} as Record<string, number>,
  typeOnlyImportCycles: 0,
  serviceFlagMentions: 0,
};

const ROOT = join(import.meta.dirname, '..');

describe('the structure of src/', () => {
  it(`has no function longer than ${LIMITS.functionLines} lines, and none of the longer ones of today grew`, () => {
    const tooLong = measureFunctionLengths().filter((f) => f.lines > (LIMITS.longFunctions[`${f.path} ${f.name}`] ?? LIMITS.functionLines));
    expect(tooLong.map((f) => `${f.path}:${f.line} ${f.name} (${f.lines} lines)`)).toEqual([]);
  });

  it('has no import cycle at run time, no more type-only cycles than before, and no import up the layers', () => {
    const edges = collectImportEdges();
    expect(findUpwardImports(edges).map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
    const cycles = findImportCycles(edges);
    expect(cycles.runtime.map((c) => c.join(' -> '))).toEqual([]);
    expect(cycles.typeOnly.length, cycles.typeOnly.map((c) => c.join(' -> ')).join('\n')).toBeLessThanOrEqual(LIMITS.typeOnlyImportCycles);
  });

  it(`names qbank's CLI flags in src/db and src/turso no more than ${LIMITS.serviceFlagMentions} times`, () => {
    const mentions = findServiceFlagText();
    expect(mentions.length, mentions.map((m) => `${m.path}:${m.line} ${m.flag}`).join('\n')).toBeLessThanOrEqual(LIMITS.serviceFlagMentions);
  });
});

describe('the structure checks themselves', () => {
  let tree: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tree = tempDir('qbank-structure-');
  });
  afterEach(() => tree.remove());

  function write(files: Record<string, string>): void {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(tree.path, name)), { recursive: true });
      writeFileSync(join(tree.path, name), text);
    }
  }

  it('measures declarations, methods, arrow functions and callbacks from first line to last, nested ones included', () => {
    write({
      'a.ts': [
        'export function outer() {', //  1
        '  const inner = () => {', //    2
        '    return 1;', //              3
        '  };', //                       4
        '  return inner();', //          5
        '}', //                          6
        'class Queue {', //              7
        '  constructor() {}', //         8
        '  take(): number {', //         9
        '    return [1].map((n) => n)[0]!;', // 10
        '  }', //                        11
        '}', //                          12
        'export const handler = function () {};', // 13
        'declare function bodiless(): void;', //     14
        'export const later = new Promise((resolve) => resolve(1));', // 15
      ].join('\n'),
    });
    const found = measureFunctionLengths(tree.path).map(({ line, name, lines }) => ({ line, name, lines }));
    expect(found).toEqual([
      { line: 1, name: 'outer', lines: 6 },
      { line: 2, name: 'inner', lines: 3 },
      { line: 9, name: 'Queue.take', lines: 3 },
      { line: 8, name: 'Queue.constructor', lines: 1 },
      { line: 10, name: '<callback of [1].map>', lines: 1 },
      { line: 13, name: 'handler', lines: 1 },
      { line: 15, name: '<callback of new Promise>', lines: 1 },
    ]);
  });

  it('finds cycles at run time, through lazy import() too, and lists type-only cycles apart', () => {
    write({
      'a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'b.ts': "export const b = async () => (await import('./c.js')).c;\n",
      'c.ts': "export { a as c } from './a.js';\n",
      'types/x.ts': "import type { Y } from './y.js';\nexport interface X { y?: Y }\n",
      'types/y.ts': "import { type X } from './x.js';\nexport interface Y { x?: X; z?: import('./z.js').Z }\n",
      'types/z.ts': "import './y.js';\nexport type Z = string;\n",
    });
    const cycles = findImportCycles(collectImportEdges(tree.path));
    const short = (cycle: string[]) => cycle.map((path) => path.slice(path.lastIndexOf('/') + 1));
    expect(cycles.runtime.map(short)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
    expect(cycles.typeOnly.map(short)).toEqual([['x.ts', 'y.ts', 'x.ts']]);
  });

  it('finds a service importing a command or the entry point, and nothing else', () => {
    const edges = [
      { from: 'src/db/seed.ts', to: 'src/commands/flags.ts', typeOnly: false },
      { from: 'src/output/output.ts', to: 'src/main.ts', typeOnly: true },
      { from: 'src/commands/db.ts', to: 'src/commands/context.ts', typeOnly: false },
      { from: 'src/cli.ts', to: 'src/commands/db.ts', typeOnly: false },
      { from: 'src/commands/db.ts', to: 'src/db/seed.ts', typeOnly: false },
    ];
    expect(findUpwardImports(edges)).toEqual(edges.slice(0, 2));
  });

  it('counts the flags the command layer declares, in any string literal, and no other double dash', () => {
    write({
      'commands/thing.ts': "cmd.option('--rejects <file>', 'rows').addOption(new Option('--schema-only', 'no rows'));\n",
      'db/service.ts': [
        "throw new Error('use --rejects with --skip-invalid');", // --skip-invalid is not declared here
        'const message = `a ${kind} needs --schema-only`;',
        "const sql = '-- rejects in a SQL comment\\nSELECT 1';",
        "const hint = 'run node --expose-gc';",
        '// --rejects in a comment is not output',
      ].join('\n'),
    });
    const flags = declaredFlags([join(tree.path, 'commands')]);
    expect([...flags].sort()).toEqual(['--rejects', '--schema-only']);
    const found = findServiceFlagText([join(tree.path, 'db')], flags).map(({ line, flag }) => `${line} ${flag}`);
    expect(found).toEqual(['1 --rejects', '2 --schema-only']);
  });

  it('runs as a script: prints the longest functions and fails over --max', () => {
    write({ 'long.ts': `export function long() {\n${'  void 0;\n'.repeat(20)}}\n` });
    const run = (max: number) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/function-lengths.ts', tree.path, '--max', String(max)], { cwd: ROOT, encoding: 'utf8' });
    const within = run(22);
    expect(within.status, within.stderr).toBe(0);
    expect(within.stdout).toMatch(/^\s+22 {2}\S*long\.ts:1 {2}long$/m);
    const over = run(21);
    expect(over.status).toBe(1);
    expect(over.stderr).toContain('1 function(s) longer than 21 lines');
  }, 120_000);
});
