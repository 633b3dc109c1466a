import type { OperatorHints } from '../turso/operator-hints.js';

/** The Turso operations' next steps and recoveries, in the CLI's commands and flags. */
export const CLI_HINTS: OperatorHints = {
  givenToken: '--auth-token',
  givenDatabase: '--db',
  confirmAhead: 'pass --yes',
  overwriteKeyFiles: 'pass --force to overwrite it',
  nameDatabase: 'pass --db NAME',
  databaseScope: 'drop --group',
  groupScope: 'use --group',
  giveToken: 'pass --auth-token',
  giveUrl: 'pass --url',
  tokensShown: 'shown above because of --show',
  tokensPrintedOnly: 'prints them (--show); no env file is written',
  mintPlatformToken: ({ scope, readOnly, envFile }) =>
    `\`qbank token create${readOnly ? ' --read-only' : ''}${scope.kind === 'group' ? ' --group' : ''}${envFile ? ` --env-file ${envFile}` : ' --show'}\``,
  mintDatabaseToken: 'mint their own with `qbank token create --db NAME --env-file FILE`',
  mintSelfHostedToken: ({ privateKeyPath, readOnly, envFile }) =>
    `\`qbank token mint --key ${privateKeyPath}${readOnly ? ' --read-only' : ''}${envFile ? ` --env-file ${envFile}` : ' --show'}\``,
  rotateSelfHosted: 'use `qbank token rotate --self-hosted`',
  verifyTokens: 'run `qbank token verify`',
};
