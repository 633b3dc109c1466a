import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * Where a reviewer stopped, kept on the reviewer's machine (not in the database: the schemas have
 * no place for it, and it is nobody else's business). One small JSON file per database URL,
 * reviewer and queue.
 */
const resumeStateSchema = z.object({
  version: z.literal(1),
  databaseUrl: z.string(),
  reviewer: z.string(),
  queue: z.string(),
  /** The item on screen when the reviewer stopped: the next session starts there. */
  resumeAt: z.object({ id: z.string(), key: z.number() }).nullable(),
  decided: z.number(),
  skipped: z.number(),
  updatedAt: z.string(),
});

export type ResumeState = z.infer<typeof resumeStateSchema>;

export interface ResumeStore {
  readonly location: string;
  load(): ResumeState | undefined;
  save(state: ResumeState): void;
  clear(): void;
}

/** `QBANK_STATE_DIR`, else `$XDG_STATE_HOME/qbank`, else `%LOCALAPPDATA%\qbank` on Windows, else `~/.local/state/qbank`. */
export function stateDirectory(env: Record<string, string | undefined>, platform: NodeJS.Platform = process.platform): string {
  if (env.QBANK_STATE_DIR) return env.QBANK_STATE_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'qbank');
  if (platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'qbank');
  return join(env.HOME || homedir(), '.local', 'state', 'qbank');
}

export function fileResumeStore(options: { directory: string; databaseUrl: string; reviewer: string; queue: string }): ResumeStore {
  const key = createHash('sha256').update(`${options.databaseUrl}\n${options.reviewer}\n${options.queue}`).digest('hex').slice(0, 20);
  const location = join(options.directory, `review-${key}.json`);
  return {
    location,
    load() {
      let raw: string;
      try {
        raw = readFileSync(location, 'utf8');
      } catch {
        return undefined;
      }
      try {
        const parsed = resumeStateSchema.safeParse(JSON.parse(raw));
        return parsed.success ? parsed.data : undefined;
      } catch {
        return undefined;
      }
    },
    save(state) {
      mkdirSync(options.directory, { recursive: true });
      const temporary = `${location}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
      renameSync(temporary, location);
    },
    clear() {
      rmSync(location, { force: true });
    },
  };
}
