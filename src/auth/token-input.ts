import { UsageError } from '../errors.js';

/**
 * A token is sent in an HTTP header: a line break, another control character or a non-ASCII
 * character either breaks the request (and the runtime's error quotes the header, token and all)
 * or is a paste mistake. Refused on input, naming where the token came from, never echoing it.
 */
export function assertUsableToken(token: string, where: string): void {
  const problem = tokenProblem(token);
  if (problem) {
    throw new UsageError(`the auth token from ${where} contains ${problem}`, {
      hint: 'tokens are a single line of printable ASCII; copy it again without the extra characters',
    });
  }
}

export function tokenProblem(token: string): string | undefined {
  for (const char of token) {
    const code = char.codePointAt(0)!;
    if (char === '\n' || char === '\r') return 'a line break';
    if (code < 0x20 || code === 0x7f) return `a control character (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
    if (char === ' ') return 'a space';
    if (code > 0x7e) return 'a non-ASCII character';
  }
  return undefined;
}
