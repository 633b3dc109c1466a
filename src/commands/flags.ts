import { InvalidArgumentError } from 'commander';
import { UsageError } from '../errors.js';

/**
 * Flag value parsers, one home for every command. The first group are commander argument parsers
 * (`.option('--count <n>', '…', positiveInteger)`): commander reports a rejected value as a usage
 * error naming the flag. `requirePositiveInteger` is for values read later, such as a parent's
 * options seen through `optsWithGlobals()`.
 */

const WHOLE_NUMBER = /^\d+$/;

/** 1, 2, 3, … */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!WHOLE_NUMBER.test(value.trim()) || n < 1) throw new InvalidArgumentError('a whole number, 1 or more');
  return n;
}

/** 0, 1, 2, … */
export function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!WHOLE_NUMBER.test(value.trim())) throw new InvalidArgumentError('a whole number, 0 or more');
  return n;
}

/** A number of seconds above 0 (fractions allowed). */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a number of seconds above 0');
  return n;
}

/** A repeatable flag: `--tag a --tag b` → ['a', 'b']. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A repeatable comma-separated list: `--tables a,b --tables c` → ['a', 'b', 'c']. */
export function commaSeparated(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((name) => name.trim()).filter((name) => name.length > 0)];
}

/** A value read after parsing: undefined stays undefined; anything but 1, 2, 3, … is a usage error naming the flag. */
export function requirePositiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!WHOLE_NUMBER.test(value) || Number(value) < 1) throw new UsageError(`${flag} takes a whole number of at least 1, not "${value}"`);
  return Number(value);
}

/**
 * A usage message never repeats the value of a mistyped flag, which may be a token:
 * `unknown option '--auth-tokn=eyJ…'` → `unknown option '--auth-tokn'`.
 */
export function withoutFlagValues(text: string): string {
  return text.replace(/'(--?[A-Za-z0-9][A-Za-z0-9-]*)=[^']*'/g, "'$1'");
}
