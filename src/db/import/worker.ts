/** Entry of the import's worker thread: runs the pipeline and posts its batches, a few ahead at most. */
import { parentPort, workerData } from 'node:worker_threads';
import { creditedSender } from '../../worker-thread.js';
import { runPipeline, type PipelineOptions } from './pipeline.js';
import { FileProblem } from './records.js';

const AHEAD = 4;

async function work(): Promise<void> {
  const port = parentPort!;
  const send = creditedSender(port, AHEAD);
  const batches = runPipeline(workerData as PipelineOptions);
  try {
    for (;;) {
      const next = await batches.next();
      if (next.done) {
        port.postMessage({ type: 'end', end: next.value });
        return;
      }
      await send({ type: 'batch', batch: next.value });
    }
  } catch (error) {
    if (error instanceof FileProblem) port.postMessage({ type: 'fatal', problems: error.problems, where: error.where });
    else port.postMessage({ type: 'error', message: (error as Error)?.message ?? String(error), code: (error as NodeJS.ErrnoException)?.code });
  } finally {
    port.close();
  }
}

void work();
