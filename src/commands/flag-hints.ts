import { QbankError, UsageError } from '../errors.js';

/**
 * Services state what went wrong with its facts; the flag or setting that answers it is named here,
 * once for every command that meets it (`main()` passes each error through before reporting it).
 */
export async function withFlagHint(error: unknown): Promise<unknown> {
  if (!(error instanceof QbankError) || error.hint !== undefined) return error;
  const { SystemChoiceError } = await import('../db/systems.js');
  if (error instanceof SystemChoiceError) return new UsageError(error.message, { hint: systemChoiceHint(error.facts), cause: error.cause });
  return error;
}

function systemChoiceHint(facts: InstanceType<typeof import('../db/systems.js').SystemChoiceError>['facts']): string {
  if (facts.situation === 'mismatch') {
    return `--schema ${facts.named} does not match: ${facts.database} is a ${facts.detected} database; leave out --schema (and QBANK_SCHEMA, or the target's schema) to use it as one, or name a ${facts.named} database`;
  }
  return 'pass --schema pingtopass or --schema open-interview (or set QBANK_SCHEMA)';
}
