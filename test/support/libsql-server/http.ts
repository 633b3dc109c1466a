import type { IncomingMessage, ServerResponse } from 'node:http';
import { deserializeError, HttpError } from './errors.js';

const MAX_BODY_BYTES = 64 * 1024 * 1024;

export function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const gone = () => new HttpError(400, 'text/plain', 'The client closed the request before its body ended');
  return new Promise((resolve, reject) => {
    // the client may have given up during the latency knob's wait, before anything listened
    if (req.readableAborted || (req.destroyed && !req.complete)) {
      reject(gone());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, 'text/plain', 'Request body is too large'));
        return;
      }
      chunks.push(chunk);
    });
    let ended = false;
    req.once('error', reject);
    req.once('close', () => {
      if (!ended) reject(gone());
    });
    req.once('end', () => {
      ended = true;
      if (size > MAX_BODY_BYTES) return;
      try {
        resolve(JSON.parse(Buffer.concat(chunks, size).toString('utf8')));
      } catch (error) {
        reject(deserializeError(error instanceof Error ? error.message : 'invalid JSON'));
      }
    });
  });
}

export function send(res: ServerResponse, status: number, contentType: string | undefined, body: string, dropMid: boolean): void {
  const bytes = Buffer.from(body);
  const headers: Record<string, string | number> = { 'content-length': bytes.length };
  if (contentType !== undefined) headers['content-type'] = contentType;
  res.writeHead(status, headers);
  if (dropMid) {
    res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.destroy());
    return;
  }
  res.end(bytes);
}

/** Resolves true when the response can take more, false when the client went away. */
export function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}
