import { UsageError } from '../errors.js';

const UNIT_SECONDS: Record<string, number> = { w: 604_800, d: 86_400, h: 3_600, m: 60, s: 1 };

export interface Expiration {
  /** The text the Platform API takes: `never` or a duration such as `2w1d30m`. */
  turso: string;
  /** null: never expires. */
  seconds: number | null;
}

/** Parses `never` or a Turso duration (`7d`, `12h`, `2w1d30m`) so a bad value fails before any API call. */
export function parseExpiration(text: string | undefined, where = 'expiration'): Expiration {
  const value = (text ?? 'never').trim().toLowerCase();
  if (value === 'never' || value === 'none') return { turso: 'never', seconds: null };
  if (/^(?:\d+[wdhms])+$/.test(value)) {
    let seconds = 0;
    for (const [, amount, unit] of value.matchAll(/(\d+)([wdhms])/g)) seconds += Number(amount) * UNIT_SECONDS[unit!]!;
    if (seconds > 0 && Number.isSafeInteger(seconds)) return { turso: value, seconds };
  }
  throw new UsageError(`${where}: "${text}" is not a duration`, { hint: 'use never, or a duration such as 7d, 12h, 90d or 2w1d30m' });
}
