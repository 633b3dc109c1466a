/** Figures of the foundation issue: `qbank --help`, a no-op `db push`, and a remote push's round trips. */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { generateEd25519KeyPair, signToken } from '../src/auth/jwt.js';
import { main } from '../src/main.js';
import { processIO } from '../src/output/io.js';
import { startLibsqlServer } from '../test/support/libsql-server.js';
import { benchDir, medianSeconds, printTable, qbankBin, root, s, timeCommand } from './support.js';

export async function run(): Promise<void> {
  const dir = benchDir('push');
  const url = `file:${join(dir, 'bench.db')}`;
  const env = { ...process.env, TURSO_DATABASE_URL: url, QBANK_SCHEMA: 'pingtopass', NO_COLOR: '1' };

  const help = medianSeconds(7, () => timeCommand('node', [qbankBin, '--help'], { env }));
  const first = timeCommand('node', [qbankBin, 'db', 'push'], { env });
  if (first.status !== 0) throw new Error(first.stderr);
  const noop = medianSeconds(7, () => timeCommand('node', [qbankBin, 'db', 'push'], { env }));
  if (!/up to date/.test(noop.last.stderr)) throw new Error(`expected a no-op push, got: ${noop.last.stderr}`);

  const drizzleKit = join(root, 'node_modules', '.bin', 'drizzle-kit');
  const kit = medianSeconds(3, () =>
    timeCommand(drizzleKit, ['push', '--dialect', 'sqlite', '--schema', './schema/pingtopass.ts', '--url', url], { cwd: root, env }),
  );

  printTable('CLI start-up and no-op push (median of 7 runs, file: database)', [
    ['qbank --help', s(help.median), '≤ 0.250 s', help.median <= 0.25 ? 'met' : 'MISSED'],
    ['qbank db push (no-op)', s(noop.median), '≤ 0.500 s', noop.median <= 0.5 ? 'met' : 'MISSED'],
    ['drizzle-kit push (no-op, same db)', s(kit.median), 'reference', `qbank is ${(kit.median / noop.median).toFixed(2)}× faster`],
  ]);

  await remotePush(dir);
}

/** Through the local libSQL server with 20 ms added to every request: how many round trips a push costs. */
async function remotePush(dir: string): Promise<void> {
  const keys = generateEd25519KeyPair();
  const server = await startLibsqlServer({ dbPath: join(dir, 'remote.db'), publicKeys: [keys.publicKey], latencyMs: 20 });
  const token = signToken({ a: 'rw' }, keys.privateKey);
  const rows: Array<[string, string, string, string]> = [];
  try {
    for (const [label, args] of [
      ['db push (empty database)', ['db', 'push', '--schema', 'pingtopass', '--json']],
      ['db push (no-op)', ['db', 'push', '--json']],
      ['db status', ['db', 'status', '--json']],
      ['db seed', ['db', 'seed', '--json']],
    ] as const) {
      const before = server.stats.requests;
      const started = process.hrtime.bigint();
      const io = { ...processIO(), stdout: devNull(), stderr: devNull(), env: { TURSO_DATABASE_URL: server.url, TURSO_AUTH_TOKEN: token } };
      const code = await main([...args], io);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) throw new Error(`${label} exited ${code}`);
      rows.push([label, s(seconds), `${server.stats.requests - before} round trips`, '20 ms latency']);
    }
  } finally {
    await server.close();
  }
  printTable('Remote (local libSQL server, 20 ms added latency per request; in-process, so no Node start-up)', rows);
}

function devNull(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}
