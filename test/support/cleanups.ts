import { afterEach } from 'vitest';
import { tempDir } from './cli.js';

export type Cleanup = () => Promise<void> | void;

/** What a test starts and leaves behind (servers, folders), undone after it, the newest first. */
export class Cleanups {
  private readonly pending: Cleanup[] = [];

  /** Runs `cleanup` after the test. */
  push(cleanup: Cleanup): void {
    this.pending.push(cleanup);
  }

  /** `resource` (a server, a testbed), closed after the test. */
  closing<T extends { close(): unknown }>(resource: T): T {
    this.push(async () => {
      await resource.close();
    });
    return resource;
  }

  /** A new temporary folder, removed after the test. */
  workDir(): string {
    const dir = tempDir();
    this.push(() => dir.remove());
    return dir.path;
  }

  async run(): Promise<void> {
    for (const cleanup of this.pending.splice(0).reverse()) await cleanup();
  }
}

/** Cleanups run after each test of the file (or `describe`) that calls this. */
export function cleanupAfterEach(): Cleanups {
  const cleanups = new Cleanups();
  afterEach(() => cleanups.run());
  return cleanups;
}
