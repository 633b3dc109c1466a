import { randomBytes } from 'node:crypto';

/**
 * Ids for imported rows that bring none: 24 lowercase hex digits, the shape of PingToPass's
 * `generateId`, but ordered by time (48 bits of milliseconds, 24 random bits for this run, a 24-bit
 * counter). SQLite appends ordered keys at the end of the primary-key and foreign-key indexes;
 * random ones land all over them, and a 200,000-question import then spends most of its time
 * moving index pages (measured: 14 s instead of 6). A rerun does not need the same ids: rows
 * without an id are matched by their text.
 */
export function createIdGenerator(now: () => Date, prefix = ''): () => string {
  const run = randomBytes(3).toString('hex');
  let time = now().getTime();
  let counter = 0;
  return () => {
    if (counter === 0xffffff) {
      time++;
      counter = 0;
    }
    counter++;
    return prefix + time.toString(16).padStart(12, '0').slice(-12) + run + counter.toString(16).padStart(6, '0');
  };
}
