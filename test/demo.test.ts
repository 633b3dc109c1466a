import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './support/cli.js';

describe('qbank demo', () => {
  it('builds, seeds and reports both systems in embedded databases, and can run again', async () => {
    const dir = tempDir();
    try {
      const first = await runCli(['demo', '--json'], { cwd: dir.path });
      expect(first.code, first.stderr).toBe(0);
      const report = first.json();
      expect(report.systems.map((s: { system: string }) => s.system)).toEqual(['pingtopass', 'open-interview']);
      for (const system of report.systems) {
        expect(system.status.drift.upToDate).toBe(true);
        expect(system.status.tables.find((t: { table: string }) => t.table === 'questions').rows).toBeGreaterThan(0);
      }
      expect(existsSync(join(dir.path, 'qbank-demo', 'pingtopass.db'))).toBe(true);
      expect(existsSync(join(dir.path, 'qbank-demo', 'open-interview.db'))).toBe(true);

      const again = await runCli(['demo'], { cwd: dir.path });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/pingtopass/);
      expect(again.stdout).toMatch(/up to date/);
    } finally {
      dir.remove();
    }
  });
});
