import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';

/**
 * Starts a worker thread on the module `name` beside `base` (an `import.meta.url`): `name.js` when
 * built; from the TypeScript sources (tsx, vitest) a small bootstrap first registers tsx in the new
 * thread, which does not inherit loaders. The worker gets none of this process's flags (`-e` and
 * `--input-type` would even stop it).
 */
export function startModuleWorker(base: string, name: string, workerData: unknown, resourceLimits?: ResourceLimits): Worker {
  const settings = { workerData, resourceLimits, execArgv: [] };
  if (!base.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, base), settings);
  const tsx = pathToFileURL(createRequire(base).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL(`./${name}.ts`, base).href;
  const bootstrap = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), settings);
}
