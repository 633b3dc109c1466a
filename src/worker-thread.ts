import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type MessagePort, type ResourceLimits } from 'node:worker_threads';

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

/** A thread's error or unexpected exit, delivered in line with its messages. */
export interface WorkerCrash {
  type: 'crash';
  error: Error;
}

/**
 * The parent's side of a worker that streams messages: `next()` gives them in arrival order, and
 * the worker's error or non-zero exit as a `WorkerCrash` after the messages before it.
 */
export function workerMessages<M>(worker: Worker, what: string): { next(): Promise<M | WorkerCrash> } {
  const queue: Array<M | WorkerCrash> = [];
  let wake: (() => void) | undefined;
  const push = (message: M | WorkerCrash) => {
    queue.push(message);
    wake?.();
  };
  worker.on('message', push);
  worker.on('error', (error) => push({ type: 'crash', error }));
  worker.on('exit', (code) => {
    if (code !== 0) push({ type: 'crash', error: new Error(`${what} stopped (exit code ${code})`) });
  });
  return {
    async next() {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return queue.shift()!;
    },
  };
}

/**
 * The worker's side: `send` posts a message once fewer than `ahead` are waiting for the parent's
 * 'ack', so a fast producer stays a few messages ahead and memory stays flat.
 */
export function creditedSender(port: MessagePort, ahead: number): (message: unknown) => Promise<void> {
  let credits = ahead;
  let wake: (() => void) | undefined;
  port.on('message', (message: unknown) => {
    if (message === 'ack') {
      credits++;
      wake?.();
    }
  });
  return async (message) => {
    while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
    credits--;
    port.postMessage(message);
  };
}
