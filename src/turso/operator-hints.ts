/*
 * The Turso operations say what an operator can do next (confirm ahead, name the database, mint
 * replacement tokens), but not in any one interface's words: the caller supplies the wording. The
 * CLI's names its commands and flags (src/commands/token.ts); code that calls the services directly
 * gets the plain wording below.
 */

/** Whose tokens: one database, or every database of its group. */
export interface HintScope {
  kind: 'database' | 'group';
  name: string;
}

export interface OperatorHints {
  /** Where a token given directly came from, as a source label, e.g. "--auth-token". */
  givenToken: string;
  /** How a database named directly was found, as a source label, e.g. "--db". */
  givenDatabase: string;
  /** How to go ahead without being asked, e.g. "pass --yes". */
  confirmAhead: string;
  /** How to replace existing key files anyway, e.g. "pass --force to overwrite it". */
  overwriteKeyFiles: string;
  /** How to name the database, e.g. "pass --db NAME". */
  nameDatabase: string;
  /** How to work on the database instead of its group, e.g. "drop --group". */
  databaseScope: string;
  /** How to rotate the group's keys as well, e.g. "use --group". */
  groupScope: string;
  /** How to give a token directly, e.g. "pass --auth-token". */
  giveToken: string;
  /** How to give the database URL directly, e.g. "pass --url". */
  giveUrl: string;
  /** Said of tokens printed instead of written, e.g. "shown above because of --show". */
  tokensShown: string;
  /** Said when no env file is written, e.g. "prints them (--show); no env file is written". */
  tokensPrintedOnly: string;
  /** How to mint one replacement token through the Platform API. */
  mintPlatformToken(options: { scope: HintScope; readOnly: boolean; envFile: string | null }): string;
  /** How a database of a group gets its own token, written to an env file. */
  mintDatabaseToken: string;
  /** How to sign one replacement token with a self-hosted key. */
  mintSelfHostedToken(options: { privateKeyPath: string; readOnly: boolean; envFile: string | null }): string;
  /** How to replace a self-hosted key pair and its tokens together. */
  rotateSelfHosted: string;
  /** How to check the configured tokens afterwards. */
  verifyTokens: string;
}

/** Wording for callers that are not the CLI. */
export const PLAIN_HINTS: OperatorHints = {
  givenToken: 'the token given',
  givenDatabase: 'the name given',
  confirmAhead: 'confirm ahead of time',
  overwriteKeyFiles: 'allow overwriting it',
  nameDatabase: 'name the database',
  databaseScope: 'work on the database itself',
  groupScope: 'rotate the group as well',
  giveToken: 'give a token',
  giveUrl: 'give the database URL',
  tokensShown: 'returned to the caller',
  tokensPrintedOnly: 'returns them; no env file is written',
  mintPlatformToken: ({ scope, readOnly, envFile }) =>
    `mint a ${readOnly ? 'read-only' : 'read-write'} token for ${scope.kind} "${scope.name}"${envFile ? ` into ${envFile}` : ''}`,
  mintDatabaseToken: "mint each database's own token",
  mintSelfHostedToken: ({ privateKeyPath, readOnly, envFile }) =>
    `sign a ${readOnly ? 'read-only' : 'read-write'} token with ${privateKeyPath}${envFile ? ` into ${envFile}` : ''}`,
  rotateSelfHosted: 'rotate the self-hosted key pair',
  verifyTokens: 'verify the configured tokens',
};
