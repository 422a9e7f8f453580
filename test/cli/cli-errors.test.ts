/**
 * CLI errors as a new user meets them (the built bin): every error of `diff` exits 2 (1 means
 * "differences"), bad flags and extra arguments get one line in our words, database problems say
 * they are about the database and never show the password, and the messages list exactly the
 * accepted values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.js';
import { describeReport } from '../../src/cli/sync-commands.js';
import type { ProjectResult, SyncReport } from '../../src/reconcile/sync-service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { tempDir } from '../helpers/temp-dir.js';

const BIN = fileURLToPath(new URL('../../bin/traefik-sync.js', import.meta.url));
const SHOP = fileURLToPath(new URL('../../examples/shop.yaml', import.meta.url));
/** Nothing listens on port 1: every connection is refused. */
const REFUSED = 'postgres://admin:S3cr3t-Pa55@127.0.0.1:1/none';

let t: TestDatabase;
let root: string;

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', TRAEFIK_CONFIG_DIR: root, ...env },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** stderr is exactly one line, without a stack; returns it. */
function oneLine(r: { stderr: string }): string {
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toContain('    at ');
  return lines[0]!;
}

beforeAll(async () => {
  t = await createTestDatabase();
  root = await tempDir('tsync-cli-errors-');
});
afterAll(async () => {
  await t.drop();
});

describe('diff exits 2 on every error, so an error is never read as "differences"', () => {
  it.each<[string, string[], Record<string, string> | 'db']>([
    ['an unknown project', ['diff', '--project', 'nope'], 'db'],
    ['a bad project name', ['diff', '--project', 'No_Such'], 'db'],
    ['a missing DATABASE_URL', ['diff'], {}],
    ['a bad SYNC_INTERVAL', ['diff'], { SYNC_INTERVAL: 'abc' }],
    ['an unknown flag', ['diff', '--bogus'], 'db'],
    ['an extra argument', ['diff', 'extra'], 'db'],
    ['an unreachable database', ['diff'], { DATABASE_URL: REFUSED }],
  ])('%s', (_name, args, env) => {
    const r = cli(args, env === 'db' ? { DATABASE_URL: t.url } : env);
    oneLine(r);
    expect(r.code).toBe(2);
  });

  it('other commands keep exit 1 for errors', () => {
    expect(cli(['sync', '--once'], { SYNC_INTERVAL: 'abc', DATABASE_URL: t.url }).code).toBe(1);
    expect(cli(['migrate']).code).toBe(1);
  });
});

describe('flags and arguments', () => {
  it.each([
    [['sync', '--once', '--bogus'], 'traefik-sync sync: unknown flag "--bogus" (see traefik-sync sync --help)'],
    [['sync', '--once', '--bogus=1'], 'traefik-sync sync: unknown flag "--bogus" (see traefik-sync sync --help)'],
    [['history', '-z'], 'traefik-sync history: unknown flag "-z" (see traefik-sync history --help)'],
    [['diff', '--once'], 'traefik-sync diff: unknown flag "--once" (see traefik-sync diff --help)'],
    [['sync', '--once=yes'], 'traefik-sync sync: --once takes no value, got "yes" (see traefik-sync sync --help)'],
    [['history', '--project'], 'traefik-sync history: --project: missing a value (see traefik-sync history --help)'],
    [
      ['history', '--project', '--limit', '3'],
      'traefik-sync history: --project: missing a value (got the flag --limit) (see traefik-sync history --help)',
    ],
  ])('%j: one line in our words', (args, want) => {
    const r = cli(args, { DATABASE_URL: REFUSED });
    expect(oneLine(r)).toBe(want);
    expect(r.code).toBe(2);
  });

  it.each([['-1'], ['0'], ['-5x'], ['abc']])('history --limit %s names the flag, the value and the rule', (value) => {
    const r = cli(['history', '--project', 'shop', '--limit', value], { DATABASE_URL: REFUSED });
    expect(oneLine(r)).toBe(`traefik-sync history: --limit: expected a number 1–99999, got ${JSON.stringify(value)}`);
    expect(r.code).toBe(2);
  });

  it('a value that looks like a flag is still a value (--limit=-1 too)', () => {
    expect(oneLine(cli(['history', '--project', 'shop', '--limit=-1'], { DATABASE_URL: REFUSED }))).toContain(
      '--limit: expected a number 1–99999, got "-1"',
    );
  });

  it.each([
    [['sync', '--once', 'extra'], 'traefik-sync sync: unexpected argument "extra": sync takes no arguments (see traefik-sync sync --help)'],
    [['migrate', 'now'], 'traefik-sync migrate: unexpected argument "now": migrate takes no arguments (see traefik-sync migrate --help)'],
    [
      ['diff', '--project', 'shop', 'web'],
      'traefik-sync diff: unexpected argument "web": diff takes no arguments (see traefik-sync diff --help)',
    ],
    [
      ['history', '--project', 'shop', '--', '--limit'],
      'traefik-sync history: unexpected argument "--limit": history takes no arguments (see traefik-sync history --help)',
    ],
    [['import', 'a', 'b'], 'traefik-sync import: unexpected argument "b": import takes 1 argument (see traefik-sync import --help)'],
  ])('%j: extra arguments are refused before anything runs', (args, want) => {
    const r = cli(args, { DATABASE_URL: REFUSED });
    expect(oneLine(r)).toBe(want);
    expect(r.code).toBe(2);
  });

  it('--help still works with the settings flags', () => {
    const r = cli(['sync', '--help', '--config-dir', '/x']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--once');
  });
});

describe('apply -f with a file that cannot be read', () => {
  it('is one line with the command prefix, the flag and the path once', () => {
    const r = cli(['apply', '-f', '/nonexistent.yaml'], { DATABASE_URL: t.url });
    expect(oneLine(r)).toBe('traefik-sync apply: -f: cannot read "/nonexistent.yaml": no such file');
    expect(r.code).toBe(1);
  });

  it('a directory says so', () => {
    expect(oneLine(cli(['apply', '-f', root], { DATABASE_URL: t.url }))).toBe(
      `traefik-sync apply: -f: cannot read ${JSON.stringify(root)}: is a directory`,
    );
  });
});

describe('database problems say they are about the database', () => {
  it.each([
    [['migrate'], 'migrate'],
    [['sync', '--once'], 'sync'],
    [['apply', '-f', SHOP], 'apply'],
    [['history', '--project', 'shop'], 'history'],
  ])('%j: a refused connection names the database, its address and the setting, never the password', (args, name) => {
    const r = cli(args, { DATABASE_URL: REFUSED });
    expect(oneLine(r)).toBe(
      `traefik-sync ${name}: cannot connect to the database at 127.0.0.1:1 (--database-url, DATABASE_URL): connect ECONNREFUSED`,
    );
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toContain('S3cr3t-Pa55');
  });

  it('an unknown host names the host', () => {
    const r = cli(['migrate'], { DATABASE_URL: 'postgres://admin:S3cr3t-Pa55@no-such-host.invalid:5433/x' });
    expect(oneLine(r)).toMatch(
      /^traefik-sync migrate: cannot connect to the database at no-such-host\.invalid:5433 \(--database-url, DATABASE_URL\): getaddrinfo (ENOTFOUND|EAI_AGAIN)$/,
    );
    expect(r.stderr).not.toContain('S3cr3t-Pa55');
  });

  it('a wrong database name says what the server said', () => {
    const url = new URL(t.url);
    url.pathname = '/no_such_database';
    const r = cli(['migrate'], { DATABASE_URL: url.toString() });
    expect(oneLine(r)).toMatch(/^traefik-sync migrate: cannot connect to the database at .*: database "no_such_database" does not exist$/);
    expect(r.code).toBe(1);
  });

  it.each([
    [
      'sslmode=bogus',
      'sslmode: expected one of "disable", "allow", "prefer", "require", "verify-ca", "verify-full", "no-verify", got "bogus"',
    ],
    ['ssl=maybe', 'ssl: expected one of "true", "1", "0", got "maybe"'],
  ])('?%s: the allowed values are listed once each and the value is quoted', (param, want) => {
    const r = cli(['migrate'], { DATABASE_URL: `${REFUSED}?${param}` });
    expect(oneLine(r)).toBe(`traefik-sync migrate: --database-url (DATABASE_URL): ${want}`);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('S3cr3t-Pa55');
  });
});

describe('settings messages list exactly the accepted values', () => {
  it('LOG_LEVEL: every value the message lists is accepted, and every accepted one is listed', () => {
    let message = '';
    try {
      loadConfig({}, { LOG_LEVEL: 'loud' });
    } catch (e) {
      message = (e as Error).message;
    }
    const listed = /expected one of (.*), got "loud"$/.exec(message)?.[1]?.split(', ') ?? [];
    expect(listed).toEqual(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);
    for (const level of listed) expect(loadConfig({}, { LOG_LEVEL: level }).logLevel).toBe(level);
  });
});

describe('sync --once summary', () => {
  const unit = (name: string | null, status: ProjectResult['status'], problems: string[] = []): ProjectResult => ({
    projectId: name && `id-${name}`,
    projectName: name,
    status,
    created: 0,
    updated: 0,
    deleted: 0,
    drift: [],
    unowned: [],
    problems,
    version: 0,
    changedAt: null,
    appliedAt: null,
  });
  const report = (results: ProjectResult[]): SyncReport => ({ results, blocked: null, markerRenamed: false, unowned: [], durationMs: 5 });

  it('counts only projects as failed projects; the static files are reported on their own line', () => {
    const lines = describeReport(
      report([
        unit(null, 'failed', ['static/traefik.yml: EACCES']),
        ...['a', 'b', 'c', 'd'].map((n) => unit(n, 'failed', [`dynamic/${n}: EACCES`])),
      ]),
    );
    expect(lines[0]).toMatch(/^4 project\(s\): .*; 4 failed; /);
    expect(lines).toContain('static files (static/traefik.yml): static/traefik.yml: EACCES');
    expect(lines).toContain('project a: dynamic/a: EACCES');
    expect(lines.join('\n')).not.toContain('(global)');
  });

  it('says nothing about the static files when they were written', () => {
    const lines = describeReport(report([unit(null, 'noop'), unit('a', 'failed', ['x'])]));
    expect(lines[0]).toMatch(/^1 project\(s\): .*; 1 failed; /);
    expect(lines.join('\n')).not.toContain('static files');
  });
});
