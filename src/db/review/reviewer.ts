import { execFile } from 'node:child_process';
import { userInfo } from 'node:os';

export interface Reviewer {
  name: string;
  source: 'flag' | 'git' | 'os';
}

export interface ReviewerLookups {
  /** `git config user.email` in the working directory; undefined when git is missing, slow or unset. */
  gitEmail: () => Promise<string | undefined>;
  osUser: () => string | undefined;
}

export function systemLookups(options: { cwd: string; env: Record<string, string | undefined>; timeoutMs?: number }): ReviewerLookups {
  return {
    gitEmail: () =>
      new Promise((resolve) => {
        execFile(
          'git',
          ['config', 'user.email'],
          { cwd: options.cwd, env: options.env as NodeJS.ProcessEnv, timeout: options.timeoutMs ?? 2_000, windowsHide: true },
          (error, stdout) => resolve(error ? undefined : stdout.trim() || undefined),
        );
      }),
    osUser: () => {
      const fromEnv = options.env.USER || options.env.USERNAME || options.env.LOGNAME;
      if (fromEnv) return fromEnv;
      try {
        return userInfo().username || undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/** `--reviewer`, else `git config user.email`, else the OS user: the name every decision records. */
export async function resolveReviewer(flag: string | undefined, lookups: ReviewerLookups): Promise<Reviewer> {
  const explicit = flag?.trim();
  if (explicit) return { name: explicit, source: 'flag' };
  const email = await lookups.gitEmail().catch(() => undefined);
  if (email) return { name: email, source: 'git' };
  return { name: lookups.osUser() ?? 'unknown', source: 'os' };
}
