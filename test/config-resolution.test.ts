import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveDatabaseConfig, type GlobalFlags } from '../src/config.js';
import { tempDir } from './support/cli.js';

/*
 * The resolution rule, source by source and pair by pair: an explicit choice (--url, a target)
 * beats every ambient variable; a read-only URL or token is used only with the database it
 * belongs to (same layer, or same host); a target uses only its own read-only variables.
 */

interface Setup {
  flags: GlobalFlags;
  env: Record<string, string>;
  files: Record<'.env' | '.env.local', string[]>;
  targets: Record<string, object>;
}

const emptySetup = (env: Record<string, string> = {}): Setup => ({ flags: {}, env: { ...env }, files: { '.env': [], '.env.local': [] }, targets: {} });

/** `--target prod`, a target whose URL and token are in $PROD_URL and $PROD_TOKEN (with `more` settings of its own); neither variable set yet. */
function prodTargetSetup(more: object = {}): Setup {
  const setup = emptySetup();
  setup.flags.target = 'prod';
  setup.targets.prod = { urlEnv: 'PROD_URL', authTokenEnv: 'PROD_TOKEN', ...more };
  return setup;
}

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

function resolveWith(setup: Setup, access: 'read' | 'write' = 'write') {
  for (const file of ['.env', '.env.local'] as const) {
    if (setup.files[file].length > 0) writeFileSync(join(dir.path, file), setup.files[file].join('\n') + '\n');
  }
  if (Object.keys(setup.targets).length > 0) writeFileSync(join(dir.path, 'qbank.config.json'), JSON.stringify({ targets: setup.targets }));
  return resolveDatabaseConfig({ flags: setup.flags, env: setup.env, cwd: dir.path, access });
}

/** Each way of naming the read-write database, highest precedence first; each names its own database. */
const URL_SOURCES: Array<{ name: string; apply: (setup: Setup) => void; database: string; source: string }> = [
  { name: '--url', apply: (s) => (s.flags.url = 'libsql://flag.example.com'), database: 'libsql://flag.example.com', source: '--url' },
  {
    name: 'target url',
    apply: (s) => {
      s.flags.target = 'dev';
      s.targets.dev = { url: 'libsql://target.example.com' };
    },
    database: 'libsql://target.example.com',
    source: 'target dev (qbank.config.json)',
  },
  {
    name: 'target urlEnv',
    apply: (s) => {
      s.env.QBANK_TARGET = 'prod';
      s.targets.prod = { urlEnv: 'PROD_URL' };
      s.files['.env'].push('PROD_URL=libsql://target-env.example.com');
    },
    database: 'libsql://target-env.example.com',
    source: 'PROD_URL in .env (target prod)',
  },
  { name: '$TURSO_DATABASE_URL', apply: (s) => (s.env.TURSO_DATABASE_URL = 'libsql://env.example.com'), database: 'libsql://env.example.com', source: '$TURSO_DATABASE_URL' },
  {
    name: '.env.local',
    apply: (s) => s.files['.env.local'].push('TURSO_DATABASE_URL=libsql://local.example.com'),
    database: 'libsql://local.example.com',
    source: 'TURSO_DATABASE_URL in .env.local',
  },
  { name: '.env', apply: (s) => s.files['.env'].push('TURSO_DATABASE_URL=libsql://dotenv.example.com'), database: 'libsql://dotenv.example.com', source: 'TURSO_DATABASE_URL in .env' },
];

describe('which database a command acts on', () => {
  for (const [i, source] of URL_SOURCES.entries()) {
    it(`${source.name} alone`, () => {
      const setup = emptySetup();
      source.apply(setup);
      for (const access of ['read', 'write'] as const) {
        const config = resolveWith(setup, access);
        expect(config.url).toBe(source.database);
        expect(config.connection.source).toBe(source.source);
        expect(config.notices).toEqual([]);
      }
    });
    for (const lower of URL_SOURCES.slice(i + 1)) {
      if (source.name.startsWith('target') && lower.name.startsWith('target')) continue;
      // both flags at once are refused (below); --url against an ambient QBANK_TARGET is a pair here
      if (source.name === '--url' && lower.name === 'target url') continue;
      it(`${source.name} beats ${lower.name}`, () => {
        const setup = emptySetup();
        lower.apply(setup);
        source.apply(setup);
        for (const access of ['read', 'write'] as const) expect(resolveWith(setup, access).url).toBe(source.database);
      });
    }
  }

  it('the embedded default only when nothing names a database', () => {
    const config = resolveWith(emptySetup());
    expect(config.url).toBe(`file:${join(dir.path, 'qbank.db')}`);
    expect(config.connection).toEqual({ url: config.url, source: 'default', credential: { kind: 'none', source: null } });
    expect(config.notices[0]).toMatch(/using the embedded local database/);
  });

  it('--target beats QBANK_TARGET, wherever QBANK_TARGET is set', () => {
    for (const layer of ['environment', '.env.local', '.env'] as const) {
      const setup = emptySetup();
      setup.targets = { a: { url: 'file:a.db' }, b: { url: 'file:b.db' } };
      if (layer === 'environment') setup.env.QBANK_TARGET = 'a';
      else setup.files[layer].push('QBANK_TARGET=a');
      expect(resolveWith(setup).url).toBe(`file:${join(dir.path, 'a.db')}`);
      setup.flags.target = 'b';
      expect(resolveWith(setup).url).toBe(`file:${join(dir.path, 'b.db')}`);
    }
  });

  it('--url and --target together are refused', () => {
    const setup = emptySetup();
    URL_SOURCES[0]!.apply(setup);
    URL_SOURCES[1]!.apply(setup);
    expect(() => resolveWith(setup)).toThrow('--url and --target both name a database');
  });

  it('a target whose URL variable is missing is an error, never the default or an ambient URL', () => {
    const setup = prodTargetSetup();
    setup.env.TURSO_DATABASE_URL = 'file:wrong.db';
    expect(() => resolveWith(setup, 'read')).toThrow(/target prod: PROD_URL is not set/);
    expect(() => resolveWith(setup, 'write')).toThrow(/target prod: PROD_URL is not set/);
    try {
      resolveWith(setup);
    } catch (error) {
      expect((error as { exitCode: number }).exitCode).toBe(2);
    }
  });

  it('a target whose token variable is missing is an error for a remote URL', () => {
    const setup = prodTargetSetup();
    setup.env.PROD_URL = 'libsql://prod.example.com';
    setup.env.TURSO_AUTH_TOKEN = 'ambient-token';
    expect(() => resolveWith(setup)).toThrow(/target prod: PROD_TOKEN is not set/);
    setup.env.PROD_URL = 'file:prod.db';
    expect(resolveWith(setup).authToken).toBeUndefined();
  });

  it('a target must name a database: url or urlEnv, not both', () => {
    const setup = emptySetup();
    setup.flags.target = 'odd';
    setup.targets.odd = { schema: 'pingtopass' };
    expect(() => resolveWith(setup)).toThrow(/targets\.odd: names no database/);
    setup.targets.odd = { url: 'file:a.db', urlEnv: 'A' };
    expect(() => resolveWith(setup)).toThrow(/targets\.odd: give "url" or "urlEnv", not both/);
  });
});

type LayerName = 'environment' | '.env.local' | '.env';
const LAYERS: LayerName[] = ['environment', '.env.local', '.env'];

/** Sets each variable of `variables`, in order, in `layer`. */
function setIn(setup: Setup, layer: LayerName, variables: Record<string, string>): void {
  for (const [key, value] of Object.entries(variables)) {
    if (layer === 'environment') setup.env[key] = value;
    else setup.files[layer].push(`${key}=${value}`);
  }
}

const sourceIn = (key: string, layer: LayerName) => (layer === 'environment' ? `$${key}` : `${key} in ${layer}`);

describe('read-only credentials belong to the database in force', () => {
  for (const urlLayer of LAYERS) {
    for (const roLayer of LAYERS) {
      it(`TURSO_DATABASE_URL_RO in ${roLayer}, TURSO_DATABASE_URL in ${urlLayer}: used for reads only when same layer or same host`, () => {
        const setup = emptySetup();
        setIn(setup, urlLayer, { TURSO_DATABASE_URL: 'libsql://primary.example.com', TURSO_AUTH_TOKEN: 'rw-token' });
        setIn(setup, roLayer, { TURSO_DATABASE_URL_RO: 'libsql://replica.example.com', TURSO_AUTH_TOKEN_RO: 'ro-token' });
        const read = resolveWith(setup, 'read');
        if (roLayer === urlLayer) {
          expect(read).toMatchObject({ url: 'libsql://replica.example.com', authToken: 'ro-token', readOnlyCredentials: true });
          expect(read.connection.credential).toEqual({ kind: 'read-only', source: sourceIn('TURSO_AUTH_TOKEN_RO', roLayer) });
        } else {
          expect(read).toMatchObject({ url: 'libsql://primary.example.com', authToken: 'rw-token', readOnlyCredentials: false });
          expect(read.connection.credential).toEqual({ kind: 'read-write', source: sourceIn('TURSO_AUTH_TOKEN', urlLayer) });
        }
        expect(resolveWith(setup, 'write')).toMatchObject({ url: 'libsql://primary.example.com', authToken: 'rw-token' });
      });

      it(`TURSO_DATABASE_URL_RO in ${roLayer} naming the same host as TURSO_DATABASE_URL in ${urlLayer} is used`, () => {
        const setup = emptySetup();
        setIn(setup, urlLayer, { TURSO_DATABASE_URL: 'libsql://primary.example.com' });
        setIn(setup, roLayer, { TURSO_DATABASE_URL_RO: 'https://primary.example.com', TURSO_AUTH_TOKEN_RO: 'ro-token' });
        expect(resolveWith(setup, 'read')).toMatchObject({ url: 'https://primary.example.com', authToken: 'ro-token', readOnlyCredentials: true });
      });

      it(`TURSO_AUTH_TOKEN_RO alone in ${roLayer} with TURSO_DATABASE_URL in ${urlLayer}`, () => {
        const setup = emptySetup();
        setIn(setup, urlLayer, { TURSO_DATABASE_URL: 'libsql://primary.example.com' });
        setIn(setup, roLayer, { TURSO_AUTH_TOKEN_RO: 'ro-token' });
        // a layer that names no database lends its token; it goes with the URL in force
        expect(resolveWith(setup, 'read')).toMatchObject({ url: 'libsql://primary.example.com', authToken: 'ro-token', readOnlyCredentials: true });
      });
    }
  }

  for (const tokenLayer of LAYERS) {
    for (const urlLayer of LAYERS) {
      if (tokenLayer === urlLayer) continue;
      it(`TURSO_AUTH_TOKEN(_RO) in ${tokenLayer} beside another database's URL is not sent to TURSO_DATABASE_URL in ${urlLayer}`, () => {
        const setup = emptySetup();
        setIn(setup, urlLayer, { TURSO_DATABASE_URL: 'libsql://primary.example.com' });
        setIn(setup, tokenLayer, { TURSO_DATABASE_URL: 'libsql://other.example.com', TURSO_AUTH_TOKEN: 'other-rw', TURSO_AUTH_TOKEN_RO: 'other-ro' });
        const config = resolveWith(setup, 'read');
        if (LAYERS.indexOf(tokenLayer) < LAYERS.indexOf(urlLayer)) {
          // the token's layer also names the URL: it wins, with its own tokens
          expect(config).toMatchObject({ url: 'libsql://other.example.com', authToken: 'other-ro' });
          return;
        }
        expect(config.url).toBe('libsql://primary.example.com');
        expect(config.authToken).toBeUndefined();
        expect(config.connection.credential).toEqual({ kind: 'none', source: null });
        expect(config.notices.join('\n')).toMatch(/belong to another database; not sent to libsql:\/\/primary\.example\.com/);
      });
    }
  }

  it('with an exported TURSO_DATABASE_URL, a .env read-only URL for another host is never read', () => {
    const setup = emptySetup();
    setup.env.TURSO_DATABASE_URL = 'file:b.db';
    setup.files['.env'].push('TURSO_DATABASE_URL=file:a.db', 'TURSO_DATABASE_URL_RO=libsql://a.example.com', 'TURSO_AUTH_TOKEN_RO=ro');
    const config = resolveWith(setup, 'read');
    expect(config.url).toBe(`file:${join(dir.path, 'b.db')}`);
    expect(config.readOnlyCredentials).toBe(false);
  });

  it('--url: no ambient read-only URL; a read-only token only from a layer naming the same host or none', () => {
    const setup = emptySetup();
    setup.flags.url = 'libsql://chosen.example.com';
    setup.files['.env'].push('TURSO_DATABASE_URL=libsql://other.example.com', 'TURSO_DATABASE_URL_RO=libsql://other.example.com', 'TURSO_AUTH_TOKEN=rw', 'TURSO_AUTH_TOKEN_RO=ro');
    expect(resolveWith(setup, 'read')).toMatchObject({ url: 'libsql://chosen.example.com', authToken: undefined, readOnlyCredentials: false });
    setup.env.TURSO_AUTH_TOKEN_RO = 'exported-ro';
    expect(resolveWith(setup, 'read')).toMatchObject({ url: 'libsql://chosen.example.com', authToken: 'exported-ro', readOnlyCredentials: true });
    expect(resolveWith(setup, 'write')).toMatchObject({ authToken: undefined });
  });

  it('--auth-token wins over every variable, read-only ones included', () => {
    const setup = emptySetup({ TURSO_DATABASE_URL: 'libsql://db.example.com', TURSO_DATABASE_URL_RO: 'libsql://ro.example.com', TURSO_AUTH_TOKEN_RO: 'ro' });
    setup.flags.authToken = 'from-flag';
    const config = resolveWith(setup, 'read');
    expect(config).toMatchObject({ url: 'libsql://db.example.com', authToken: 'from-flag', readOnlyCredentials: false });
    expect(config.connection.credential).toEqual({ kind: 'read-write', source: '--auth-token' });
  });

  it('a token in the URL beats ambient variables and is named as such', () => {
    const setup = emptySetup();
    setup.env.TURSO_DATABASE_URL = 'libsql://db.example.com?authToken=in-url';
    setup.env.TURSO_AUTH_TOKEN = 'ambient';
    const config = resolveWith(setup, 'write');
    expect(config.authToken).toBe('in-url');
    expect(config.connection.credential.source).toBe('authToken in $TURSO_DATABASE_URL');
  });

  it('a target without read-only variables never uses TURSO_DATABASE_URL_RO or TURSO_AUTH_TOKEN_RO', () => {
    const setup = prodTargetSetup();
    setup.env.PROD_URL = 'libsql://prod.example.com';
    setup.env.PROD_TOKEN = 'prod-rw';
    setup.env.TURSO_DATABASE_URL_RO = 'libsql://prod.example.com';
    setup.env.TURSO_AUTH_TOKEN_RO = 'global-ro';
    const config = resolveWith(setup, 'read');
    expect(config).toMatchObject({ url: 'libsql://prod.example.com', authToken: 'prod-rw', readOnlyCredentials: false });
    expect(config.connection).toEqual({
      url: 'libsql://prod.example.com',
      source: '$PROD_URL (target prod)',
      credential: { kind: 'read-write', source: '$PROD_TOKEN (target prod)' },
    });
  });

  it('a target with its own read-only variables uses them for reads', () => {
    const setup = prodTargetSetup({ readOnlyUrlEnv: 'PROD_URL_RO', readOnlyAuthTokenEnv: 'PROD_TOKEN_RO' });
    setup.env.PROD_URL = 'libsql://prod.example.com';
    setup.env.PROD_TOKEN = 'prod-rw';
    setup.files['.env.local'].push('PROD_URL_RO=libsql://prod-ro.example.com', 'PROD_TOKEN_RO=prod-ro');
    const read = resolveWith(setup, 'read');
    expect(read).toMatchObject({ url: 'libsql://prod-ro.example.com', authToken: 'prod-ro', readOnlyCredentials: true });
    expect(read.connection.credential).toEqual({ kind: 'read-only', source: 'PROD_TOKEN_RO in .env.local (target prod)' });
    expect(resolveWith(setup, 'write')).toMatchObject({ url: 'libsql://prod.example.com', authToken: 'prod-rw' });
  });

  it('a target url beats an ambient TURSO_DATABASE_URL for reads and writes, with no ambient read-only URL', () => {
    const setup = emptySetup();
    setup.flags.target = 'dev';
    setup.targets.dev = { url: 'file:dev.db' };
    setup.env.TURSO_DATABASE_URL = 'file:wrong.db';
    setup.files['.env'].push('TURSO_DATABASE_URL_RO=file:other.db');
    expect(resolveWith(setup, 'write').url).toBe(`file:${join(dir.path, 'dev.db')}`);
    expect(resolveWith(setup, 'read').url).toBe(`file:${join(dir.path, 'dev.db')}`);
    expect(existsSync(join(dir.path, 'dev.db'))).toBe(false);
  });

  it('an embedded file keeps the token of its layer (an embedded replica syncs with it)', () => {
    const setup = emptySetup();
    setup.env.TURSO_DATABASE_URL = 'file:x.db';
    setup.env.TURSO_AUTH_TOKEN = 'sync-token';
    expect(resolveWith(setup).connection.credential).toEqual({ kind: 'read-write', source: '$TURSO_AUTH_TOKEN' });
  });
});
