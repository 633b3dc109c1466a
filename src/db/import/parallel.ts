import type { Worker } from 'node:worker_threads';
import { startModuleWorker, workerMessages } from '../../worker-thread.js';
import type { PipelineBatch, PipelineEnd, PipelineOptions } from './pipeline.js';
import { FileProblem } from './records.js';

type WorkerMessage =
  | { type: 'batch'; batch: PipelineBatch }
  | { type: 'end'; end: PipelineEnd }
  | { type: 'fatal'; problems: FileProblem['problems']; where: FileProblem['where'] }
  | { type: 'error'; message: string; code?: string };

function startWorker(options: PipelineOptions): Worker {
  // The worker's live data is a few batches and the duplicate-key fingerprints (typed arrays,
  // outside these limits); a small old generation makes V8 collect instead of growing the heap. The
  // young generation holds the batch being built: at 8 MB its objects were promoted and collected
  // as old garbage, half the worker's CPU (200,000 questions, dry run: 6.0-7.0 s of CPU at 8 MB,
  // 4.5 s at 48 MB, peak RSS 143 -> 170 MB). 16 MB costs no more CPU than 48 and 10-15 MB less
  // RSS (1 GB file: 247 -> 238 MB; 200,000 questions: 215-223 -> 205 MB).
  return startModuleWorker(import.meta.url, 'worker', options, { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16 });
}

/**
 * Runs the pipeline in a worker thread, so reading, parsing and validating the file use the
 * second core while this thread writes. The worker stays at most a few batches ahead: memory
 * stays flat whatever the file size.
 */
export async function* runPipelineInWorker(options: PipelineOptions): AsyncGenerator<PipelineBatch, PipelineEnd> {
  const worker = startWorker(options);
  // the worker has its own copy of the stored questions (cloned as it started): this thread's can go
  if (options.plan.target === 'pingtopass-questions') options.plan.existing = undefined;
  const messages = workerMessages<WorkerMessage>(worker, 'the import worker');
  try {
    for (;;) {
      const message = await messages.next();
      switch (message.type) {
        case 'batch':
          yield message.batch;
          worker.postMessage('ack');
          break;
        case 'end':
          return message.end;
        case 'fatal':
          throw new FileProblem(message.problems, message.where);
        case 'error':
          throw Object.assign(new Error(message.message), { code: message.code });
        case 'crash':
          throw message.error;
      }
    }
  } finally {
    await worker.terminate();
  }
}
