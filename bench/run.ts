/**
 * `npm run bench`: the figures the issues name, measured on this machine, printed side by side.
 * Each section is its own module so `npm run bench -- push` (or import, backup, review) runs one.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const sections: Record<string, string> = {
  push: './foundation.ts',
  import: './import.ts',
  backup: './backup.ts',
  review: './review.ts',
  export: './export.ts',
  check: './check.ts',
  fleet: './fleet.ts',
  xlsx: './xlsx.ts',
  audit: './audit.ts',
  interchange: './interchange.ts',
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length > 0 ? wanted : Object.keys(sections);
let failed = false;
for (const name of names) {
  const module = sections[name];
  if (!module) {
    console.error(`unknown bench section "${name}" (known: ${Object.keys(sections).join(', ')})`);
    process.exitCode = 2;
    continue;
  }
  if (!existsSync(join(import.meta.dirname, module))) {
    console.log(`\n## ${name}: no benchmark yet`);
    continue;
  }
  console.log(`\n## ${name}`);
  try {
    const { run } = (await import(module)) as { run: () => Promise<void> };
    await run();
  } catch (error) {
    failed = true;
    console.error(`bench ${name} failed:`, error);
  }
}
if (failed) process.exitCode = 1;
