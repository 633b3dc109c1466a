import type { KeyObject } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  generateEd25519KeyPair,
  mintLibsqlToken,
  privateKeyFromPem,
  privateKeyToPem,
  publicKeyToRawBase64url,
} from '../auth/jwt.js';
import { ExitCode, RefusedError, UsageError } from '../errors.js';
import { prepareOutputFile } from '../output-file.js';
import { checkEnvFileWritable, updateEnvFile, type EnvFileUpdate } from './env-file.js';
import type { Expiration } from './expiration.js';
import { probeInstance } from './hrana-probe.js';
import { PLAIN_HINTS, type OperatorHints } from './operator-hints.js';
import { summariseClaims, waitUntilAccepted, type ClaimsSummary, type TokenRole } from './token-checks.js';
import { finishRotation, RotationError, secretCommands, type RotationEnvFile, type RotationResult, type VerifyTiming } from './token-rotation.js';

/*
 * Tokens for a self-hosted libSQL server (sqld), which has no Platform API: the server verifies
 * Ed25519-signed JWTs against the public key in the file given to `--auth-jwt-key-file`, and whoever
 * holds the private key mints tokens.
 */

export const DEFAULT_PRIVATE_KEY_FILE = 'qbank-jwt.pem';

/** `qbank-jwt.pem` → `qbank-jwt.pub`. */
export function defaultPublicKeyPath(privateKeyPath: string): string {
  return privateKeyPath.replace(/\.(pem|key)$/i, '') + '.pub';
}

export interface KeyFiles {
  privateKeyPath: string;
  publicKeyPath: string;
}

async function exists(path: string): Promise<boolean> {
  return fs.access(path, constants.F_OK).then(
    () => true,
    () => false,
  );
}

/**
 * The private key as PKCS#8 PEM (mode 0600), the public key as the raw base64url line `sqld
 * --auth-jwt-key-file` reads. Each is written beside its name, synced, then renamed into place, so a
 * key file is never seen half-written or lost to a crash; whether an existing pair may be replaced
 * was decided before (keygen's refusal, a rotation's kept copies).
 */
async function writeKeyPair(files: KeyFiles, pair: { privateKey: KeyObject; publicKey: KeyObject }): Promise<string> {
  const publicText = publicKeyToRawBase64url(pair.publicKey);
  const contents: Array<[path: string, other: string, what: string, text: string, mode: number]> = [
    [files.privateKeyPath, files.publicKeyPath, 'private key', privateKeyToPem(pair.privateKey), 0o600],
    [files.publicKeyPath, files.privateKeyPath, 'public key', publicText + '\n', 0o644],
  ];
  for (const [path, other, what, text, mode] of contents) {
    const file = await prepareOutputFile(path, { force: true, inputs: [other], what, mode });
    try {
      await file.write(text);
      await file.commit();
    } catch (error) {
      await file.abort();
      throw error;
    }
  }
  return publicText;
}

export interface KeygenReport extends KeyFiles {
  /** The public key text (not a secret). */
  publicKey: string;
}

/** The real file a path names, existing or about to be created (through symlinked directories too). */
async function canonicalPath(path: string): Promise<string> {
  try {
    return await fs.realpath(path);
  } catch {
    try {
      return join(await fs.realpath(dirname(path)), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

/** Refuses key paths that name one file: writing the public key would replace the private one. */
async function assertDistinctKeyFiles(files: KeyFiles): Promise<void> {
  const [privateReal, publicReal] = await Promise.all([canonicalPath(files.privateKeyPath), canonicalPath(files.publicKeyPath)]);
  let same = privateReal === publicReal;
  if (!same) {
    const [a, b] = await Promise.all([fs.stat(files.privateKeyPath).catch(() => null), fs.stat(files.publicKeyPath).catch(() => null)]);
    same = Boolean(a && b && a.dev === b.dev && a.ino === b.ino);
  }
  if (same) {
    throw new UsageError(`the private key and the public key would be written to the same file (${files.privateKeyPath} and ${files.publicKeyPath})`, {
      hint: 'give the public key a file of its own (by default the private key path with .pub)',
    });
  }
}

/**
 * Where the current key files are kept before a rotation replaces them: `*.previous`, or the first
 * `*.previous.N` free for both files when an earlier rotation (perhaps one that failed) already kept one.
 */
async function previousKeyPaths(files: KeyFiles): Promise<{ privateKeyPath: string; publicKeyPath: string; suffix: string }> {
  for (let n = 0; ; n++) {
    const suffix = n === 0 ? '.previous' : `.previous.${n}`;
    const candidate = { privateKeyPath: files.privateKeyPath + suffix, publicKeyPath: files.publicKeyPath + suffix };
    if (!(await exists(candidate.privateKeyPath)) && !(await exists(candidate.publicKeyPath))) return { ...candidate, suffix };
  }
}

/** Copies the current key files aside; COPYFILE_EXCL: a kept key is never overwritten. */
async function keepPreviousKeys(files: KeyFiles, previous: KeyFiles): Promise<void> {
  for (const [from, to] of [
    [files.privateKeyPath, previous.privateKeyPath],
    [files.publicKeyPath, previous.publicKeyPath],
  ] as const) {
    if (await exists(from)) await fs.copyFile(from, to, constants.COPYFILE_EXCL);
  }
}

export async function generateKeyFiles(files: KeyFiles, options: { force?: boolean; hints?: OperatorHints } = {}): Promise<KeygenReport> {
  const hints = options.hints ?? PLAIN_HINTS;
  await assertDistinctKeyFiles(files);
  for (const path of [files.privateKeyPath, files.publicKeyPath]) {
    if (!options.force && (await exists(path))) {
      throw new RefusedError(`${path} already exists; a new key would invalidate every token signed with the old one`, {
        hint: `${hints.overwriteKeyFiles}, or ${hints.rotateSelfHosted} to replace the key and the tokens together`,
      });
    }
  }
  await fs.mkdir(dirname(files.privateKeyPath), { recursive: true });
  await fs.mkdir(dirname(files.publicKeyPath), { recursive: true });
  const publicKey = await writeKeyPair(files, generateEd25519KeyPair());
  return { ...files, publicKey };
}

export async function loadPrivateKey(path: string): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await fs.readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the private key ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      hint: 'create a key pair with `qbank token keygen`',
      cause: error,
    });
  }
  let key: KeyObject;
  try {
    key = privateKeyFromPem(pem);
  } catch (error) {
    throw new UsageError(`${path} is not a PEM private key`, { hint: 'pass the private key written by `qbank token keygen` (not the .pub file)', cause: error });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new UsageError(`${path} holds an ${key.asymmetricKeyType} key; libSQL servers verify Ed25519 (EdDSA) tokens only`);
  }
  return key;
}

export interface MintedToken {
  role: TokenRole;
  claims: ClaimsSummary;
  envFile?: EnvFileUpdate & { key: string };
}

export async function mintSelfHostedToken(options: {
  privateKeyPath: string;
  readOnly: boolean;
  expiration: Expiration;
  envFile?: { path: string; key: string };
  nowMs: number;
}): Promise<{ report: MintedToken; token: string }> {
  const privateKey = await loadPrivateKey(options.privateKeyPath);
  const token = mintLibsqlToken(privateKey, { readOnly: options.readOnly, expiresInSeconds: options.expiration.seconds, nowMs: options.nowMs });
  const report: MintedToken = { role: options.readOnly ? 'read-only' : 'read-write', claims: summariseClaims(token, options.nowMs) };
  if (options.envFile) {
    report.envFile = { ...(await updateEnvFile(options.envFile.path, { [options.envFile.key]: token })), key: options.envFile.key };
  }
  return { report, token };
}

export interface SelfHostedRotationOptions extends KeyFiles {
  /** Base URL of the libSQL server. */
  server: string;
  expiration: Expiration;
  envFile: RotationEnvFile | null;
  oldTokens: Array<{ source: string; token: string }>;
  /** Includes how long to wait for the server to be restarted with the new key. */
  verify: VerifyTiming;
  confirm: (explanation: string[]) => Promise<boolean>;
  onProgress?: (line: string) => void;
  now: () => Date;
  /** How next steps and recoveries are worded; plain wording by default. */
  hints?: OperatorHints;
}

/**
 * Replaces the key pair (the old files are kept as `*.previous`, or `*.previous.N` when that exists),
 * mints new tokens, waits until the server runs with the new public key, verifies the tokens and stores them.
 */
export async function rotateSelfHosted(options: SelfHostedRotationOptions): Promise<RotationResult> {
  const progress = options.onProgress ?? (() => undefined);
  const hints = options.hints ?? PLAIN_HINTS;
  await assertDistinctKeyFiles(options);
  const previous = await previousKeyPaths(options);
  const explanation = [
    `A new Ed25519 key pair replaces ${options.privateKeyPath} and ${options.publicKeyPath} (the current files are kept as *${previous.suffix}).`,
    `Once the server runs with the new public key (sqld --auth-jwt-key-file ${options.publicKeyPath}), every token signed with the old key stops working.`,
    `qbank mints a read-write and a read-only token, waits up to ${Math.round(options.verify.timeoutMs / 1000)} s for ${options.server} to accept them, verifies both` +
      (options.envFile ? `, and writes them to ${options.envFile.displayPath} as ${options.envFile.tokenKey} and ${options.envFile.readOnlyTokenKey}.` : '.'),
  ];
  if (options.envFile) await checkEnvFileWritable(options.envFile.path, options.envFile.displayPath);
  for (const path of [options.privateKeyPath, options.publicKeyPath]) {
    await fs.access(dirname(path), constants.W_OK).catch((error: NodeJS.ErrnoException) => {
      throw new RefusedError(`cannot write ${path}: ${error.code ?? error.message}`, { hint: 'nothing was changed', cause: error });
    });
  }
  const health = await probeInstance(options.server, { ...options.verify.probe, samples: 1 });
  if (!health.reachable) {
    progress(`note: ${options.server} does not answer now (${health.error}); qbank will wait for it after writing the new key`);
  }
  if (!(await options.confirm(explanation))) {
    throw new RotationError('confirm', 'rotation cancelled', { done: ['nothing was changed'], todo: `run it again and confirm, or ${hints.confirmAhead}`, exitCode: ExitCode.refused });
  }

  const clock = options.verify.clock ?? (() => performance.now());
  // The server may pick up the new key at any moment after it is written: note when the old token last worked.
  const oldToken = options.oldTokens[0];
  const oldCheck = oldToken ? await waitUntilAccepted(options.server, oldToken.token, { waitMs: 0, intervalMs: 0, probe: options.verify.probe, clock }) : undefined;

  const done: string[] = [];
  await keepPreviousKeys(options, previous);
  const pair = generateEd25519KeyPair();
  await writeKeyPair(options, pair);
  const rotatedAt = options.now().toISOString();
  done.push(`✔ wrote a new key pair to ${options.privateKeyPath} and ${options.publicKeyPath} (previous ones: *${previous.suffix})`);
  const nowMs = options.now().getTime();
  const secrets = {
    readWrite: mintLibsqlToken(pair.privateKey, { readOnly: false, expiresInSeconds: options.expiration.seconds, nowMs }),
    readOnly: mintLibsqlToken(pair.privateKey, { readOnly: true, expiresInSeconds: options.expiration.seconds, nowMs }),
  };
  done.push(`✔ minted a new read-write and read-only token (expiration: ${options.expiration.turso})`);

  const mint = (readOnly: boolean) =>
    hints.mintSelfHostedToken({ privateKeyPath: options.privateKeyPath, readOnly, envFile: options.envFile?.displayPath ?? null });
  const recovery =
    `restart the server with --auth-jwt-key-file ${options.publicKeyPath}, then ${mint(false)} and ${mint(true)}` +
    ` (or put the *${previous.suffix} files back to undo)`;
  return finishRotation({
    kind: 'self-hosted',
    scope: `key pair ${options.privateKeyPath}`,
    server: options.server,
    rotatedAt,
    secrets,
    done,
    envFile: options.envFile,
    oldTokens: options.oldTokens,
    verify: options.verify,
    progress,
    nowMs,
    downtimeFrom: null,
    oldTokenLastAccepted: oldCheck?.acceptedAt ?? null,
    downtimeBasis: 'from the last check the old token passed to the first check the new read-write token passed (resolution: the polling interval)',
    recovery,
    readOnlyRecovery: mint(true),
    nextSteps: [
      ...(options.envFile
        ? [`Give the deployed application the new tokens (read from ${options.envFile.displayPath}, never shown), e.g.:`, ...secretCommands(options.envFile).map((c) => `  ${c}`)]
        : [`Give the deployed application the new tokens (${hints.tokensShown}).`]),
      'Redeploy or restart every service that uses them: the old tokens no longer work.',
      `Keep ${options.privateKeyPath} secret (mode 0600); once all is well, delete the *${previous.suffix} key files.`,
      `Check the result: ${hints.verifyTokens}.`,
    ],
    stepCount: 4,
    waitingMessage: `waiting up to ${Math.round(options.verify.timeoutMs / 1000)} s for ${options.server} to run with the new key: restart it with --auth-jwt-key-file ${options.publicKeyPath}…`,
  });
}
