import type { Command } from 'commander';
import type { OperationsContext } from '../turso/operations.js';
import type { RotationResult } from '../turso/token-rotation.js';
import type { ClaimsSummary, TokenCheck } from '../turso/token-checks.js';
import { ExitCode, UsageError } from '../errors.js';
import type { Output } from '../output/output.js';
import { type CommandContext, examples } from './context.js';
import { positiveNumber } from './flags.js';
import { CLI_HINTS } from './operator-hints.js';

interface CreateOptions {
  db?: string;
  readOnly?: boolean;
  expiration?: string;
  group?: boolean;
  show?: boolean;
  envFile?: string;
}

interface RotateOptions {
  db?: string;
  group?: boolean;
  envFile?: string;
  show?: boolean;
  expiration?: string;
  yes?: boolean;
  wait?: number;
  selfHosted?: boolean;
  key?: string;
  publicKey?: string;
}

interface MintOptions {
  key: string;
  readOnly?: boolean;
  expiration?: string;
  show?: boolean;
  envFile?: string;
}

export function registerTokenCommands(program: Command, context: CommandContext): void {
  const token = program
    .command('token')
    .description('database auth tokens: create, rotate, verify (Turso Platform API), keygen and mint (self-hosted libSQL)');
  registerCreate(token, context);
  registerRotate(token, context);
  registerVerify(token, context);
  registerKeygen(token, context);
  registerMint(token, context);
}

function operations(context: CommandContext, command: Command, out: Output, db?: string): OperationsContext {
  return context.tursoOperations(command, out, { db, progress: true });
}

function registerCreate(token: Command, context: CommandContext): void {
  token
    .command('create')
    .description('mint a database (or group) token through the Turso Platform API')
    .option('--db <name>', 'database name (default: QBANK_DB, else the one whose hostname matches the database URL)')
    .option('--read-only', 'a read-only token (stored as TURSO_AUTH_TOKEN_RO)')
    .option('--expiration <duration>', 'never, or a duration such as 7d, 12h, 2w1d30m', 'never')
    .option('--group', "a group token: valid for every database of the database's group")
    .option('--show', 'print the token on stdout (it is never printed otherwise)')
    .option('--env-file <path>', 'write the token into this dotenv file (mode 0600, other lines kept)')
    .addHelpText(
      'after',
      examples([
        ['qbank token create --read-only --env-file .env', 'TURSO_AUTH_TOKEN_RO in .env'],
        ['qbank token create --expiration 7d --show | wrangler secret put TURSO_AUTH_TOKEN', 'straight into a Worker secret'],
      ]),
    )
    .action(async (options: CreateOptions, command: Command) => {
      const out = context.output(command);
      requireDestination(options);
      const { parseExpiration } = await import('../turso/expiration.js');
      const expiration = parseExpiration(options.expiration, '--expiration');
      const { createToken } = await import('../turso/operations.js');
      const { report, token: secret } = await createToken(operations(context, command, out, options.db), {
        readOnly: Boolean(options.readOnly),
        expiration,
        group: Boolean(options.group),
        envFile: options.envFile,
      });
      if (out.json) out.data({ ...report, ...(options.show ? { token: secret } : {}) });
      else if (options.show) out.line(secret);
      out.success(`created a ${report.role} ${report.scope.kind} token for ${report.scope.kind} "${report.scope.name}" (expiration: ${report.expiration})`);
      if (report.envFile) out.success(`wrote ${report.envFile.key} to ${report.envFile.path} (mode 0600, other lines kept)`);
      warnShadowed(out, options.envFile ? [report.envFile?.key ?? ''] : [], context);
    });
}

function registerRotate(token: Command, context: CommandContext): void {
  token
    .command('rotate')
    .description('invalidate every token, mint a read-write and a read-only token, verify both, store them in the env file')
    .option('--db <name>', 'database name (default: QBANK_DB, else the one whose hostname matches the database URL)')
    .option('--group', 'rotate the keys of the whole group: every token of every database in it stops working')
    .option('--env-file <path>', 'where the new tokens go (default: the file that holds TURSO_AUTH_TOKEN, .env.local or .env)')
    .option('--show', 'print the new tokens on stdout (without --env-file: instead of writing a file)')
    .option('--expiration <duration>', 'expiration of the new tokens: never, or a duration such as 90d', 'never')
    .option('--wait <seconds>', 'how long to wait for the server to accept the new tokens (default 60; --self-hosted: 300)', positiveNumber)
    .option('-y, --yes', 'rotate without asking (needed without a terminal)')
    .option('--self-hosted', 'a libSQL server without Platform API: new key pair, new tokens, verified once the server runs with the new key')
    .option('--key <path>', 'with --self-hosted: the private key file', 'qbank-jwt.pem')
    .option('--public-key <path>', 'with --self-hosted: the public key file the server reads (default: the key path with .pub)')
    .addHelpText(
      'after',
      examples([
        ['qbank token rotate', 'explain, ask, rotate, verify, update .env'],
        ['qbank token rotate --group --env-file .env.production --yes', 'in a runbook'],
        ['qbank token rotate --self-hosted --key keys/jwt.pem', 'self-hosted sqld: restart it with the new keys/jwt.pub when asked'],
      ]) +
        '\nAfterwards: give the application the new tokens (the printed `wrangler secret put` commands read them from the\n' +
        'env file) and redeploy; `qbank token verify` checks the result.\n',
    )
    .action(async (options: RotateOptions, command: Command) => {
      const out = context.output(command);
      const { parseExpiration } = await import('../turso/expiration.js');
      const expiration = parseExpiration(options.expiration, '--expiration');
      const ops = operations(context, command, out, options.db);
      const confirm = async (explanation: string[]) => {
        for (const line of explanation) out.info(line);
        if (options.yes) return true;
        return out.confirm('Rotate now?');
      };
      const { rotateTokens, rotateSelfHostedTokens } = await import('../turso/operations.js');
      const common = {
        group: Boolean(options.group),
        expiration,
        envFile: options.envFile,
        show: options.show,
        confirm,
        verifyTimeoutMs: (options.wait ?? (options.selfHosted ? 300 : 60)) * 1000,
      };
      const result = options.selfHosted
        ? await rotateSelfHostedTokens(ops, { ...common, key: options.key, publicKey: options.publicKey })
        : await rotateTokens(ops, common);
      renderRotation(out, result, Boolean(options.show));
      if (result.report.warnings.length > 0) context.exitCode = ExitCode.checkFailed;
      warnShadowed(out, result.report.envFile?.keys ?? [], context);
    });
}

function registerVerify(token: Command, context: CommandContext): void {
  token
    .command('verify')
    .description("decode the configured tokens' claims (without trusting them) and check what each can really do")
    .option('--check', 'also exit 6 when a token has expired but the server still accepts it (its grace period)')
    .addHelpText(
      'after',
      examples([
        ['qbank token verify', 'TURSO_AUTH_TOKEN and TURSO_AUTH_TOKEN_RO against TURSO_DATABASE_URL'],
        ['qbank token verify --json', 'for CI: exit 6 when a token is rejected or does more or less than it should'],
        ['qbank token verify --check', 'also exit 6 for an expired token the server still accepts for a while'],
      ]),
    )
    .action(async (options: { check?: boolean }, command: Command) => {
      const out = context.output(command);
      const { verifyConfiguredTokens } = await import('../turso/operations.js');
      const { describeGrace } = await import('../turso/token-checks.js');
      const reports = await verifyConfiguredTokens(operations(context, command, out));
      if (out.json) out.data(reports.length === 1 ? reports[0] : reports);
      else for (const report of reports) renderVerify(out, report.server, report.tokens);
      const checks = reports.flatMap((r) => r.tokens);
      const failing = checks.filter((t) => !t.ok);
      const lapsed = checks.filter((t) => t.ok && t.grace);
      const from = (check: TokenCheck) => check.from ?? check.source;
      for (const check of failing) for (const problem of check.problems) out.warn(`${from(check)}: ${problem}`);
      for (const check of lapsed) out.warn(`${from(check)}: ${describeGrace(check.grace!)}`);
      if (failing.length > 0) {
        context.exitCode = ExitCode.checkFailed;
        out.error(`${failing.length} token(s) failed verification: exit code 6`);
      } else if (lapsed.length > 0) {
        if (options.check) {
          context.exitCode = ExitCode.checkFailed;
          out.error(`${lapsed.length} token(s) expired and work only until the server's grace ends: exit code 6 (--check)`);
        } else out.info(`${lapsed.length} token(s) expired and work only until the server's grace ends (--check exits 6 for this)`);
      } else out.success('every configured token does what it should');
    });
}

function registerKeygen(token: Command, context: CommandContext): void {
  token
    .command('keygen')
    .description('self-hosted libSQL: write an Ed25519 key pair (the public key in the form sqld --auth-jwt-key-file reads)')
    .option('--key <path>', 'private key file (PKCS#8 PEM, mode 0600)', 'qbank-jwt.pem')
    .option('--public-key <path>', 'public key file (raw base64url; default: the key path with .pub)')
    .option('--force', 'overwrite existing key files (every token signed with the old key stops working)')
    .addHelpText(
      'after',
      examples([
        ['qbank token keygen --key keys/jwt.pem', 'then: sqld --auth-jwt-key-file keys/jwt.pub'],
        ['qbank token mint --key keys/jwt.pem --env-file .env', 'a read-write token into .env'],
      ]),
    )
    .action(async (options: { key: string; publicKey?: string; force?: boolean }, command: Command) => {
      const out = context.output(command);
      const { keyFiles } = await import('../turso/operations.js');
      const { generateKeyFiles } = await import('../turso/self-hosted.js');
      const report = await generateKeyFiles(keyFiles(operations(context, command, out), options), { force: options.force, hints: CLI_HINTS });
      if (out.json) return out.data(report);
      out.success(`wrote the private key ${report.privateKeyPath} (mode 0600: keep it secret)`);
      out.success(`wrote the public key ${report.publicKeyPath}`);
      out.line(`Start the server with: sqld --auth-jwt-key-file ${report.publicKeyPath}`);
      out.line(`Then mint tokens with: qbank token mint --key ${report.privateKeyPath} --env-file .env`);
    });
}

function registerMint(token: Command, context: CommandContext): void {
  token
    .command('mint')
    .description('self-hosted libSQL: sign a token with a private key from `qbank token keygen`')
    .requiredOption('--key <path>', 'the private key file')
    .option('--read-only', 'a read-only token (stored as TURSO_AUTH_TOKEN_RO)')
    .option('--expiration <duration>', 'never, or a duration such as 7d, 12h, 2w1d30m', 'never')
    .option('--show', 'print the token on stdout (it is never printed otherwise)')
    .option('--env-file <path>', 'write the token into this dotenv file (mode 0600, other lines kept)')
    .addHelpText('after', examples([['qbank token mint --key qbank-jwt.pem --read-only --expiration 90d --env-file .env', 'TURSO_AUTH_TOKEN_RO for 90 days']]))
    .action(async (options: MintOptions, command: Command) => {
      const out = context.output(command);
      requireDestination(options);
      const { parseExpiration } = await import('../turso/expiration.js');
      const expiration = parseExpiration(options.expiration, '--expiration');
      const { resolveFromCwd, tokenEnvKey } = await import('../turso/operations.js');
      const { mintSelfHostedToken } = await import('../turso/self-hosted.js');
      const ops = operations(context, command, out);
      const { report, token: secret } = await mintSelfHostedToken({
        privateKeyPath: resolveFromCwd(ops, options.key),
        readOnly: Boolean(options.readOnly),
        expiration,
        envFile: options.envFile ? { path: resolveFromCwd(ops, options.envFile), key: tokenEnvKey(ops, Boolean(options.readOnly)) } : undefined,
        nowMs: context.io.now().getTime(),
      });
      if (out.json) out.data({ ...report, ...(options.show ? { token: secret } : {}) });
      else if (options.show) out.line(secret);
      out.success(`minted a ${report.role} token${report.claims.expiresAt ? ` expiring ${report.claims.expiresAt}` : ' that never expires'}`);
      if (report.envFile) out.success(`wrote ${report.envFile.key} to ${report.envFile.path} (mode 0600, other lines kept)`);
      warnShadowed(out, report.envFile ? [report.envFile.key] : [], context);
    });
}

/** A token nobody can see or use is wasted, and one printed by default ends up in logs: the caller chooses. */
function requireDestination(options: { show?: boolean; envFile?: string }): void {
  if (options.show || options.envFile) return;
  throw new UsageError('where should the token go? it is printed only with --show, or written with --env-file FILE', {
    hint: 'e.g. --env-file .env, or --show | wrangler secret put TURSO_AUTH_TOKEN',
  });
}

function warnShadowed(out: Output, keys: string[], context: CommandContext): void {
  for (const key of keys.filter((k) => k && context.io.env[k] !== undefined)) {
    out.warn(`${key} is also set in this shell's environment, which takes precedence over env files: update or unset it`);
  }
}

function claimsText(claims: ClaimsSummary): string {
  if (!claims.decodable) return 'not a JWT';
  const expiry = claims.expiresAt ? (claims.expired ? `expired ${claims.expiresAt}` : `expires ${claims.expiresAt}`) : 'never expires';
  return `${claims.access ?? '?'}, ${expiry}`;
}

function yesNo(out: Output, value: boolean | null, good: boolean): string {
  if (value === null) return '?';
  return value === good ? out.c.green(value ? 'yes' : 'no') : out.c.red(value ? 'yes' : 'no');
}

function renderVerify(out: Output, server: string, checks: TokenCheck[]): void {
  out.heading(`Tokens checked against ${server}`);
  out.table(
    ['token', 'meant to be', 'claims (unverified)', 'server', 'reads', 'writes', 'verdict'],
    checks.map((check) => [
      check.source,
      check.role,
      claimsText(check.claims),
      !check.access.reachable ? out.c.red('unreachable') : check.access.accepted ? out.c.green('accepted') : out.c.red('rejected'),
      yesNo(out, check.access.canRead, true),
      yesNo(out, check.access.canWrite, check.role === 'read-write'),
      !check.ok ? out.c.red('FAIL') : check.grace ? out.c.yellow('grace') : out.c.green('ok'),
    ]),
  );
}

function renderRotation(out: Output, result: RotationResult, show: boolean): void {
  const { report, secrets } = result;
  if (out.json) {
    out.data({ ...report, ...(show ? { tokens: { ...report.tokens, readWrite: { ...report.tokens.readWrite, token: secrets.readWrite }, readOnly: { ...report.tokens.readOnly, token: secrets.readOnly } } } : {}) });
    return;
  }
  out.success(`rotated ${report.scope} at ${report.rotatedAt}`);
  const downtime = report.downtimeMs === null ? 'not measured' : formatDuration(report.downtimeMs);
  out.line(`No valid token for: ${downtime} (${report.downtimeBasis})`);
  const where = (name: string | null) => (name && report.envFile?.keys.includes(name) ? `${name} in ${report.envFile.path}` : show ? 'shown below' : 'not stored');
  out.line(`Read-write token: reads and writes, verified → ${where(report.tokens.readWrite.writtenAs)}`);
  out.line(`Read-only token:  reads, writes refused, verified → ${where(report.tokens.readOnly.writtenAs)}`);
  for (const old of report.oldTokens) out.line(`Old ${old.source}: ${oldTokenText(out, old, report.scope)}`);
  for (const warning of report.warnings) out.warn(warning);
  if (show) {
    out.line(`TURSO_AUTH_TOKEN=${secrets.readWrite}`);
    out.line(`TURSO_AUTH_TOKEN_RO=${secrets.readOnly}`);
  }
  out.line('');
  out.heading('Next steps');
  let n = 0;
  for (const line of report.nextSteps) out.line(line.startsWith('  ') ? `  ${line}` : `${++n}. ${line}`);
}

function oldTokenText(out: Output, old: RotationResult['report']['oldTokens'][number], scope: string): string {
  if (!old.affected) return `a group token, not affected by rotating ${scope} (still accepted; --group rotates it)`;
  return old.rejected ? 'rejected by the server now' : out.c.red('STILL ACCEPTED');
}

function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
