import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null | undefined;

/**
 * A backup streams gigabytes through short-lived strings and buffers. V8 lets its heap grow well
 * past the live data before it collects, which is what makes a long dump or restore look like it
 * holds the database in memory. Collecting every few megabytes keeps the process's footprint flat
 * for a cost of a few milliseconds each time. Still needed (measured on 200,000 questions through
 * the local libSQL server, peak RSS with / without, two runs each: remote dump 136-145 / 169-176 MB,
 * remote restore 149-150 / 196-216 MB, against a limit of 150 MB).
 */
export function collectGarbage(): void {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    } catch {
      collect = null;
    }
  }
  collect?.();
}

/** Calls `collectGarbage` once per `everyBytes` of data reported through `add`. */
export function garbageBudget(everyBytes: number): { add: (bytes: number) => void } {
  let since = 0;
  return {
    add(bytes) {
      since += bytes;
      if (since >= everyBytes) {
        since = 0;
        collectGarbage();
      }
    },
  };
}
