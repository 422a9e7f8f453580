/**
 * `traefik-sync demo` as a new user runs it, as a child process in a temp folder: nothing but the
 * package; files and metrics appear; it stops cleanly on a signal at any moment; a second start
 * reuses the database, its port and the user's changes; settings and clashes are reported at once.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/demo/embedded-postgres.js';
import { alive } from '../../src/demo/preflight.js';
import { demoConfig } from '../../src/demo/settings.js';
import { stopChild } from '../helpers/child.js';
import { tempDir } from '../helpers/temp-dir.js';

const BIN = fileURLToPath(new URL('../../bin/traefik-sync.js', import.meta.url));
const BANNER = 'traefik-sync demo is running';

interface Demo {
  readonly child: ChildProcess;
  readonly out: () => string;
  readonly err: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once stdout+stderr match `re`; rejects when the demo exits first or after 60 s. */
  until(re: RegExp): Promise<void>;
}

/**
 * Start a demo in `cwd` (in its own process group, so that a test can press "Ctrl-C"). Stopped after
 * the test if still running, unless `outlivesTest` (then the caller stops it).
 */
function startDemo(cwd: string, args: string[] = [], env: Record<string, string> = {}, outlivesTest = false): Demo {
  const child = spawn(process.execPath, [BIN, 'demo', ...args], {
    cwd,
    env: { PATH: process.env.PATH!, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  // Only if a failure left it running: a signal stops its PostgreSQL too, before the folder goes.
  if (!outlivesTest) onTestFinished(() => stopChild(child, 'SIGINT', 30_000));
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    exited,
    out: () => out,
    err: () => err,
    async until(re) {
      const deadline = Date.now() + 60_000;
      while (!re.test(out + err)) {
        if (Date.now() > deadline || child.exitCode !== null || child.signalCode !== null)
          throw new Error(`no ${re} from the demo:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** The pid in the demo's postmaster.pid, if the file is there. */
async function postmasterPid(cwd: string): Promise<number | undefined> {
  const text = await readFile(path.join(cwd, '.traefik-sync-demo/pg/postmaster.pid'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : Number(text.split('\n')[0]);
}

/** Stop a PostgreSQL a demo left running in `cwd` (fast shutdown), and wait until it is gone. */
async function stopLeftoverPostgres(cwd: string): Promise<void> {
  const pid = await postmasterPid(cwd);
  if (pid === undefined || !alive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 300 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

function listenOn(port: number): Promise<Server> {
  const server = createServer();
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve(server)));
}

const databaseUrl = (banner: string) => /DATABASE_URL=(postgres:\/\/\S+)/.exec(banner)?.[1];

describe('traefik-sync demo', () => {
  let home: string; // one user's folder: the first test creates its database, the others reuse it
  let first: Demo | undefined;
  let firstUrl: string | undefined;
  beforeAll(async () => {
    home = await tempDir('tsync-demo-'); // removed after the file, after afterAll below
    await chmod(home, 0o755);
  });
  afterAll(async () => {
    if (first) await stopChild(first.child, 'SIGINT', 30_000);
    await stopLeftoverPostgres(home);
  });

  it('first run: creates the database, applies the examples, writes files, serves metrics, remembers its port', async () => {
    const port = await freePort();
    first = startDemo(home, ['--http-addr', `127.0.0.1:${port}`], {}, true); // the next two tests use it; afterAll stops it
    await first.until(new RegExp(BANNER));
    expect(first.err()).toMatch(/applied .*examples\/shop\.yaml/);
    expect(first.out()).toMatch(/data {7}new, in \.\/\.traefik-sync-demo: applied .*examples\/blog\.yaml/);
    const api = await readFile(path.join(home, 'traefik-configs/dynamic/shop/services/api.yml'), 'utf8');
    expect(api.startsWith('# Generated by traefik-sync')).toBe(true);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('traefik_sync_reconcile_total');
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    firstUrl = databaseUrl(first.out());
    const state = JSON.parse(await readFile(path.join(home, '.traefik-sync-demo/demo.json'), 'utf8'));
    expect(firstUrl).toContain(`@127.0.0.1:${state.postgresPort}/`);
  }, 90_000);

  it('a second demo in the same folder stops at once with one line naming the demo that holds the database', async () => {
    const second = startDemo(home, ['--http-addr', `127.0.0.1:${await freePort()}`]);
    expect((await second.exited).code).toBe(1);
    expect(second.err()).toBe(
      `traefik-sync demo: the demo database in ./.traefik-sync-demo/pg is in use by another demo (process ${first!.child.pid}); stop that one first (Ctrl-C in its terminal)\n`,
    );
    expect((await fetch(`${/operator\s+(\S+)/.exec(first!.out())![1]}readyz`)).status).toBe(200);
  }, 30_000);

  it('Ctrl-C (SIGINT to the whole process group, PostgreSQL included) stops it cleanly with exit 130', async () => {
    const pid = await postmasterPid(home);
    process.kill(-first!.child.pid!, 'SIGINT');
    expect(await first!.exited).toEqual({ code: 130, signal: null });
    expect(first!.err()).toMatch(/demo: stopped\n$/);
    expect(alive(pid!)).toBe(false);
    expect(await postmasterPid(home)).toBeUndefined();
  }, 30_000);

  it('a busy HTTP address stops it before PostgreSQL starts, with one line naming --http-addr (HTTP_ADDR)', async () => {
    const cwd = await tempDir('tsync-demo-busy-');
    await chmod(cwd, 0o755);
    const port = await freePort();
    await listenOn(port);
    const demo = startDemo(cwd, [], { HTTP_ADDR: `127.0.0.1:${port}` });
    expect((await demo.exited).code).toBe(1);
    expect(demo.err()).toMatch(
      new RegExp(
        `^traefik-sync demo: --http-addr \\(HTTP_ADDR\\): 127\\.0\\.0\\.1:${port} is already in use .*; pick another port, e\\.g\\. --http-addr 127\\.0\\.0\\.1:\\d+\\n$`,
      ),
    );
    await expect(stat(path.join(cwd, '.traefik-sync-demo/pg/PG_VERSION'))).rejects.toThrow(); // no initdb
  }, 30_000);

  it('a restart reuses the database and its port, leaves the examples alone, and honours the settings (flags over environment)', async () => {
    const [envPort, flagPort] = [await freePort(), await freePort()];
    const demo = startDemo(home, ['--http-addr', `127.0.0.1:${flagPort}`, '--drift-mode', 'report'], {
      HTTP_ADDR: `127.0.0.1:${envPort}`,
      TRAEFIK_CONFIG_DIR: 'out',
      LOG_LEVEL: 'info',
      DRIFT_MODE: 'repair',
    });
    await demo.until(new RegExp(BANNER));
    expect(databaseUrl(demo.out())).toBe(firstUrl);
    expect(demo.err()).not.toMatch(/demo: applied/);
    expect(demo.out()).toMatch(/data {7}reused from \.\/\.traefik-sync-demo, with your changes/);
    expect(demo.out()).toMatch(/to apply one again: npx traefik-sync apply -f .*examples\/<file>/);
    expect(demo.out()).toMatch(/hand-edit \.\/out\/dynamic\/shop\/services\/api\.yml: reported as drift/);
    const starting = demo
      .out()
      .split('\n')
      .find((l) => l.includes('"traefik-sync controller starting"'));
    expect(JSON.parse(starting!)).toMatchObject({ http: `127.0.0.1:${flagPort}`, configDir: path.join(home, 'out'), driftMode: 'report' });
    expect((await fetch(`http://127.0.0.1:${flagPort}/readyz`)).status).toBe(200);
    demo.child.kill('SIGTERM');
    expect(await demo.exited).toEqual({ code: 143, signal: null });
  }, 60_000);

  it.each(['starting PostgreSQL', 'schema up to date'])(
    'SIGTERM to node alone right after "%s" stops PostgreSQL too (exit 143)',
    async (step) => {
      const demo = startDemo(home, ['--http-addr', `127.0.0.1:${await freePort()}`]);
      await demo.until(new RegExp(`demo: ${step}`));
      demo.child.kill('SIGTERM');
      expect(await demo.exited).toEqual({ code: 143, signal: null });
      expect(await postmasterPid(home)).toBeUndefined();
    },
    60_000,
  );

  it('a PostgreSQL a killed demo left running is named in one line; stale lock files do not block the start', async () => {
    const crashed = startDemo(home, ['--http-addr', `127.0.0.1:${await freePort()}`]);
    await crashed.until(/demo: schema/);
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    const leftover = (await postmasterPid(home))!;
    expect(alive(leftover)).toBe(true);
    const blocked = startDemo(home, ['--http-addr', `127.0.0.1:${await freePort()}`]);
    expect((await blocked.exited).code).toBe(1);
    expect(blocked.err()).toBe(
      `traefik-sync demo: the demo database in ./.traefik-sync-demo/pg is in use by a PostgreSQL (process ${leftover}), probably left running by an earlier demo; stop it first: kill ${leftover}\n`,
    );
    await stopLeftoverPostgres(home);

    const lockFile = path.join(home, '.traefik-sync-demo/pg/postmaster.pid');
    const dead = spawn('true');
    await new Promise((r) => dead.on('exit', r));
    const sleeper = spawn('sleep', ['60']); // a live process that is not PostgreSQL: a pid reused after a reboot
    onTestFinished(() => stopChild(sleeper));
    for (const pid of [dead.pid!, sleeper.pid!]) {
      await writeFile(lockFile, `${pid}\n${path.dirname(lockFile)}\n`);
      const demo = startDemo(home, ['--http-addr', `127.0.0.1:${await freePort()}`]);
      await demo.until(/demo: schema/);
      demo.child.kill('SIGTERM');
      expect(await demo.exited).toEqual({ code: 143, signal: null });
      if (pid === sleeper.pid)
        expect(demo.err()).toContain(`removed a stale .traefik-sync-demo/pg/postmaster.pid (process ${pid} is "sleep", not PostgreSQL)`);
    }
  }, 90_000);

  it('when the last port is taken, PostgreSQL moves to a new one and the banner says so', async () => {
    const last = JSON.parse(await readFile(path.join(home, '.traefik-sync-demo/demo.json'), 'utf8')).postgresPort as number;
    await listenOn(last);
    const demo = startDemo(home, ['--http-addr', `127.0.0.1:${await freePort()}`]);
    await demo.until(new RegExp(BANNER));
    expect(databaseUrl(demo.out())).not.toContain(`:${last}/`);
    expect(demo.out()).toContain(`a new port: the last run's (${last}) is taken; export DATABASE_URL again`);
    demo.child.kill('SIGINT');
    expect(await demo.exited).toEqual({ code: 130, signal: null });
  }, 60_000);
});

describe('demo settings', () => {
  const cases: Array<{ name: string; values: Record<string, string>; env: Record<string, string>; expected: Record<string, unknown> }> = [
    {
      name: 'nothing set: the demo defaults',
      values: {},
      env: {},
      expected: {
        httpHost: '127.0.0.1',
        httpPort: 9090,
        intervalMs: 10_000,
        logLevel: 'warn',
        driftMode: 'repair',
        configDir: path.resolve('traefik-configs'),
      },
    },
    {
      name: 'the environment over the demo defaults',
      values: {},
      env: {
        HTTP_ADDR: '0.0.0.0:9191',
        SYNC_INTERVAL: '3s',
        LOG_LEVEL: 'info',
        DRIFT_MODE: 'report',
        TRAEFIK_CONFIG_DIR: '/srv/t',
        MAX_DELETE_FRACTION: '0.9',
      },
      expected: {
        httpHost: '0.0.0.0',
        httpPort: 9191,
        intervalMs: 3000,
        logLevel: 'info',
        driftMode: 'report',
        configDir: '/srv/t',
        maxDeleteFraction: 0.9,
      },
    },
    {
      name: 'flags over the environment',
      values: { 'http-addr': '127.0.0.1:9292', interval: '2s', 'log-level': 'error' },
      env: { HTTP_ADDR: '0.0.0.0:9191', SYNC_INTERVAL: '3s', LOG_LEVEL: 'info' },
      expected: { httpPort: 9292, intervalMs: 2000, logLevel: 'error' },
    },
    { name: 'an empty variable counts as unset', values: {}, env: { HTTP_ADDR: '' }, expected: { httpHost: '127.0.0.1', httpPort: 9090 } },
    {
      name: "DATABASE_URL is never the user's",
      values: { 'database-url': 'postgres://a@b/c' },
      env: { DATABASE_URL: 'postgres://d@e/f' },
      expected: { databaseUrl: undefined },
    },
  ];
  it.each(cases)('$name', ({ values, env, expected }) => {
    expect(demoConfig(values, env)).toMatchObject(expected);
  });

  it('a bad value stops it naming the setting and quoting the value', () => {
    expect(() => demoConfig({}, { SYNC_INTERVAL: '5x' })).toThrow(
      '--interval (SYNC_INTERVAL): expected a duration like "30s", "500ms" or "1m30s", got "5x"',
    );
  });
});
