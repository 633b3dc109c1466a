import { Worker } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { createLineBreakEscaper, pageToLines } from './line-breaks.js';

/**
 * Everything a dump writes passes through a pipeline, in order: pages of rows get their line
 * breaks escaped, and every byte is hashed for the seal line.
 */
export interface DumpPipeline {
  /** Hashes `chunk` and gives it back; with `prefixBytes`, it is a NUL-joined page to turn into lines first. */
  process(chunk: Buffer, prefixBytes?: number): Promise<Buffer>;
  /** SHA-256 of everything processed so far. */
  digest(): Promise<string>;
  close(): Promise<void>;
}

/** On the calling thread: for remote reads, which wait on the network anyway. */
export class InlinePipeline implements DumpPipeline {
  private readonly hash = createHash('sha256');

  async process(chunk: Buffer, prefixBytes = -1): Promise<Buffer> {
    const output = prefixBytes >= 0 ? pageToLines(chunk, prefixBytes) : chunk;
    this.hash.update(output);
    return output;
  }

  async digest(): Promise<string> {
    return this.hash.digest('hex');
  }

  async close(): Promise<void> {}
}

/**
 * In a worker thread, so the work overlaps with SQLite rendering the next page on the main
 * thread (a `file:` read blocks it).
 */
export class PagePipeline implements DumpPipeline {
  private readonly worker: Worker;
  private readonly waiting: Array<{ resolve: (value: Buffer | string) => void; reject: (error: Error) => void }> = [];
  private failure: Error | undefined;

  constructor() {
    // no inherited flags: `--input-type=module` in the parent would make this CommonJS source a module
    this.worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    this.worker.unref();
    this.worker.on('message', (message: { data?: Uint8Array; digest?: string; error?: string }) => {
      const waiter = this.waiting.shift();
      if (!waiter) return;
      if (message.error !== undefined) waiter.reject(new Error(`dump page processing failed: ${message.error}`));
      else if (message.digest !== undefined) waiter.resolve(message.digest);
      else waiter.resolve(Buffer.from(message.data!.buffer, message.data!.byteOffset, message.data!.byteLength));
    });
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const waiter of this.waiting.splice(0)) waiter.reject(this.failure);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the dump's page worker stopped (exit code ${code})`)));
  }

  private request<T extends Buffer | string>(message: object, transfer: ArrayBuffer[]): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ resolve: resolve as (value: Buffer | string) => void, reject });
      try {
        this.worker.postMessage(message, transfer);
      } catch {
        // some buffers (external memory) cannot be moved: send a copy instead
        this.worker.postMessage(message);
      }
    });
  }

  process(chunk: Buffer, prefixBytes = -1): Promise<Buffer> {
    const owned = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.byteLength > 65_536;
    const data = owned ? chunk : new Uint8Array(chunk);
    return this.request<Buffer>({ data, prefixBytes }, owned ? [chunk.buffer as ArrayBuffer] : []);
  }

  digest(): Promise<string> {
    return this.request<string>({ digest: true }, []);
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

const WORKER_SOURCE = `
'use strict';
var __name = (target) => target;
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { pageToLines } = (${createLineBreakEscaper.toString()})();
const hash = createHash('sha256');
parentPort.on('message', (message) => {
  try {
    if (message.digest) {
      parentPort.postMessage({ digest: hash.digest('hex') });
      return;
    }
    let chunk = Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength);
    if (message.prefixBytes >= 0) chunk = pageToLines(chunk, message.prefixBytes);
    hash.update(chunk);
    const owned = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.byteLength > 65536;
    parentPort.postMessage({ data: chunk }, owned ? [chunk.buffer] : []);
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.stack) || error) });
  }
});
`;

