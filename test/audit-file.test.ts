import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeFile } from '../src/db/audit/run.js';
import { random } from './support/random.js';

describe("the audit entry's file: name, size and SHA-256", () => {
  const dir = mkdtempSync(join(tmpdir(), 'qbank-audit-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are those of the whole file, empty, smaller or many times larger than one read', async () => {
    const rnd = random(3);
    for (const size of [0, 1, 100_000, (1 << 18) * 3 + 17]) {
      const bytes = Buffer.from(Array.from({ length: size }, () => Math.floor(rnd() * 256)));
      const path = join(dir, `bank-${size}.csv`);
      writeFileSync(path, bytes);
      expect(await describeFile(path, `some/dir/bank-${size}.csv`)).toEqual({ name: `bank-${size}.csv`, size, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
  });

  it('fails for a file that is not there', async () => {
    await expect(describeFile(join(dir, 'missing.csv'), 'missing.csv')).rejects.toThrow(/ENOENT/);
  });
});
