import { UsageError } from '../errors.js';

/*
 * Whether a URL would carry a token in clear text, decided the way @libsql/client 0.18 reads URLs
 * (@libsql/core's uri.ts and config.ts): the scheme in any case, the query string decoded as a form
 * (`+` is a space, percent escapes decoded), and the last `tls` parameter winning. A `libsql:` URL
 * with `tls=0` becomes `http:`; `http:` and `ws:` are plain text; `https:`/`wss:` with `tls=0` are
 * refused by the client, and counted as plain text here so they are refused first, with our message.
 */

const URI_RE = /^(?<scheme>[A-Za-z][A-Za-z.+-]*):(\/\/(?<authority>[^/?#]*))?(?<path>[^?#]*)(\?(?<query>[^#]*))?(#(?<fragment>.*))?$/su;
const AUTHORITY_RE = /^((?<username>[^:]*)(:(?<password>.*))?@)?((?<host>[^:[\]]*)|(\[(?<hostBracketed>[^[\]]*)\]))(:(?<port>[0-9]*))?$/su;

export interface TransportFacts {
  scheme: string;
  host: string | undefined;
  port: number | undefined;
  /** True when the client would send requests (and the token) without TLS. */
  plainText: boolean;
}

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The scheme, host and TLS choice @libsql/client (or fetch, for http URLs) would use for this URL. */
export function transportOf(url: string): TransportFacts | undefined {
  const match = URI_RE.exec(url.trim());
  if (!match?.groups) return undefined;
  const scheme = match.groups.scheme!.toLowerCase();
  const authority = match.groups.authority === undefined ? undefined : AUTHORITY_RE.exec(match.groups.authority)?.groups;
  const rawHost = authority ? (authority.hostBracketed ?? authority.host) : undefined;
  const host = rawHost === undefined ? undefined : percentDecode(rawHost).toLowerCase();
  const port = authority?.port ? Number(authority.port) : undefined;
  let tls: boolean | undefined;
  for (const pair of (match.groups.query ?? '').split('&')) {
    if (pair === '') continue;
    const split = pair.indexOf('=');
    const key = percentDecode((split < 0 ? pair : pair.slice(0, split)).replaceAll('+', ' '));
    const value = split < 0 ? '' : percentDecode(pair.slice(split + 1).replaceAll('+', ' '));
    if (key === 'tls') tls = value === '1' ? true : value === '0' ? false : tls;
  }
  let plainText: boolean;
  if (scheme === 'http' || scheme === 'ws') plainText = true;
  else if (scheme === 'libsql' || scheme === 'https' || scheme === 'wss') plainText = tls === false;
  else plainText = false;
  return { scheme, host, port, plainText };
}

/** 127.0.0.0/8, ::1 and localhost: addresses whose traffic never leaves the machine. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name === '::1' || name === '0:0:0:0:0:0:0:1') return true;
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name);
  return octets !== null && Number(octets[1]) === 127 && octets.slice(2).every((octet) => Number(octet) <= 255);
}

/**
 * The one rule for every URL a token may travel to (database URLs from any source, the Platform
 * API URL): plain text only to loopback. `where` names the source in the message ("--url",
 * "TURSO_DATABASE_URL in .env"). Throws before any connection is made.
 */
export function assertSecureTransport(url: string, where: string): void {
  const facts = transportOf(url);
  if (!facts || !facts.plainText || isLoopbackHost(facts.host)) return;
  const how = facts.scheme === 'http' || facts.scheme === 'ws' ? `${facts.scheme}://` : `${facts.scheme}: with ?tls=0`;
  const host = facts.host ?? '(no host)';
  throw new UsageError(`${where}: ${how} would send the auth token in clear text to ${host}; plain text is accepted only for loopback addresses (127.0.0.0/8, ::1, localhost)`, {
    hint: facts.scheme === 'ws' || facts.scheme === 'http' ? `use ${facts.scheme === 'ws' ? 'wss' : 'https'}:// or libsql:// for ${host}` : `remove tls=0 to use TLS with ${host}`,
  });
}
