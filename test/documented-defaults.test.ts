/**
 * The defaults README.md documents, each tested by what it does where the time allows it, else
 * by the value the running code uses (never by a copy of the constant):
 * - HTTP: at most 256 connections (README "HTTP endpoints"), idle sockets closed after 120 s,
 *   request headers within 10 s;
 * - /healthz: 503 once the heartbeat is older than 15 s (a stalled event loop), 200 up to then;
 * - inotify: up to half of fs.inotify.max_user_watches, at most 65,536, 8,192 when it cannot be
 *   read; over the limit the periodic check stat()s every file instead of its slice of 2,000;
 * - `history` lists 50 entries unless --limit says otherwise;
 * - failed projects are retried with backoff from 0.5 s up to 5 minutes (± 20 % jitter).
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { writeFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Registry } from 'prom-client';
import { RETRY_BACKOFF } from '../src/controller/controller.js';
import { sql } from '../src/db/connect.js';
import { defaultMaxWatches, TreeWatcher } from '../src/fs/watch.js';
import { createLogger, silentLogger } from '../src/log.js';
import { coreRoutes, createHttpServer } from '../src/observability/http.js';
import { PeriodicCheck, type PeriodicCheckOptions } from '../src/controller/periodic-check.js';
import type { ReplicaState } from '../src/controller/replica-state.js';
import { backoffDelay } from '../src/queue/backoff.js';
import { Inventory } from '../src/reconcile/inventory.js';
import { databaseForFile } from './helpers/db.js';
import { inProcess } from './helpers/in-process.js';
import { insertProject } from './helpers/seed.js';
import { startTestSidecar, waitFor, type TestSidecar } from './helpers/sidecar.js';
import { tempDir } from './helpers/temp-dir.js';

const t = databaseForFile();
let s: TestSidecar | undefined;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await s?.stop();
  s = undefined;
});

describe('HTTP server limits', () => {
  it('one client holds at most 64 connections (128 while they are young), and the probes still answer', async () => {
    s = await startTestSidecar(t.url, { interval: '30s' });
    let accepted = 0;
    s.server.on('connection', () => accepted++);
    for (let i = 0; i < 300; i++) {
      const c = net.connect(s.port, '127.0.0.1');
      c.on('error', () => {});
      sockets.push(c);
    }
    await waitFor(() => accepted >= 300, 20_000);
    const held = () => new Promise<number>((resolve, reject) => s!.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    await waitFor(async () => (await held()) <= 128, 10_000); // twice the per-client limit: the hard cap
    // The client holding the most makes room for a new one: the probe is answered while the 300 are open.
    expect((await s.get('/healthz')).status).toBe(200);
    expect(await held()).toBeLessThanOrEqual(128);
    for (const c of sockets.splice(0)) c.destroy();
  });

  it('its timeouts: 120 s for a silent socket, 10 s for request headers', async () => {
    s = await startTestSidecar(t.url, { interval: '30s' });
    expect({ idle: s.server.timeout, headers: s.server.headersTimeout }).toEqual({ idle: 120_000, headers: 10_000 });
    // The same defaults for any server made without limits (the file API's too).
    const plain = createHttpServer(new Map());
    expect({ idle: plain.timeout, headers: plain.headersTimeout }).toEqual({ idle: 120_000, headers: 10_000 });
  });
});

describe('/healthz', () => {
  /** The /healthz answer for a heartbeat this old. */
  async function healthz(heartbeatAgeMs: number): Promise<{ status: number; body: { status: string } }> {
    const routes = coreRoutes(new Registry(), { serving: true, heartbeatAgeMs, status: () => ({}) });
    let status = 0;
    let body = '';
    const res = {
      writeHead: (code: number) => {
        status = code;
      },
      end: (text: string) => {
        body = text;
      },
    };
    await routes.get('/healthz')!({} as never, res as never, new URL('http://x/healthz'));
    return { status, body: JSON.parse(body) };
  }

  it('is 200 up to a 15 s old heartbeat and 503 "stalled" after', async () => {
    expect(await healthz(0)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await healthz(15_000)).toMatchObject({ status: 200 });
    expect(await healthz(15_001)).toMatchObject({ status: 503, body: { status: 'stalled' } });
  });

  it("the controller's heartbeat ages while the event loop is blocked and beats again after", async () => {
    s = await startTestSidecar(t.url, { interval: '30s' });
    await waitFor(() => s!.controller.heartbeatAgeMs < 1000, 10_000);
    const blockedUntil = Date.now() + 1500;
    while (Date.now() < blockedUntil); // a stalled loop: no timer can fire
    expect(s.controller.heartbeatAgeMs).toBeGreaterThanOrEqual(1500);
    // Once the loop runs, the 1 s heartbeat brings the age back down.
    await waitFor(() => s!.controller.heartbeatAgeMs < 1000, 10_000);
  });
});

describe('inotify limit', () => {
  const limitFile = async (text: string | null) => {
    const dir = await tempDir('tsync-inotify-');
    const file = path.join(dir, 'max_user_watches');
    if (text !== null) await writeFile(file, text);
    return file;
  };

  it('takes half of max_user_watches, at most 131,072 (50,000 projects fit), and 8,192 when it cannot be read', async () => {
    expect(await defaultMaxWatches(await limitFile('8192\n'))).toBe(4096);
    expect(await defaultMaxWatches(await limitFile('131072\n'))).toBe(65_536);
    // The kernel's default since 5.11 grows with memory: 192,530 on a 24 GiB machine.
    expect(await defaultMaxWatches(await limitFile('192530\n'))).toBe(96_265);
    expect(await defaultMaxWatches(await limitFile('262144\n'))).toBe(131_072);
    expect(await defaultMaxWatches(await limitFile('1048576\n'))).toBe(131_072);
    expect(await defaultMaxWatches(await limitFile(null))).toBe(8192);
    expect(await defaultMaxWatches(await limitFile('not a number\n'))).toBe(8192);
    expect(await defaultMaxWatches(await limitFile('0\n'))).toBe(8192);
    const real = Number.parseInt(await readFile('/proc/sys/fs/inotify/max_user_watches', 'utf8').catch(() => 'NaN'), 10);
    expect(await defaultMaxWatches()).toBe(Number.isFinite(real) ? Math.min(131_072, Math.floor(real / 2)) : 8192);
  });

  it('over the limit, the watcher says so once and watches no more: the shared folders first, then projects by name', async () => {
    const root = await tempDir('tsync-limit-');
    for (const p of ['a', 'b', 'c']) await mkdir(path.join(root, 'dynamic', p, 'services'), { recursive: true });
    for (const d of ['static', 'ssl/certs']) await mkdir(path.join(root, d), { recursive: true });
    const limits: number[] = [];
    let unwatchedAtLimit = false;
    const w: TreeWatcher = new TreeWatcher({
      root,
      onChange: () => {},
      maxWatches: 7,
      onLimit: (n) => {
        limits.push(n);
        unwatchedAtLimit = w.unwatched.has('dynamic/c'); // what the warning counts (PeriodicCheck.watcherLimited)
      },
    });
    try {
      await w.refresh();
      expect({ watching: w.watching, limited: w.limited, limits, unwatchedAtLimit }).toEqual({
        watching: 7,
        limited: true,
        limits: [10],
        unwatchedAtLimit: true,
      });
      // Sorted by name alone, ssl/ and static/ (after dynamic/…) were the ones left out.
      const unwatched = [
        'static',
        'ssl',
        'ssl/certs',
        'dynamic',
        'dynamic/a',
        'dynamic/a/services',
        'dynamic/b',
        'dynamic/b/services',
        'dynamic/c',
        'dynamic/c/services',
      ].filter((d) => w.unwatched.has(d));
      expect(unwatched).toEqual(['dynamic/b/services', 'dynamic/c', 'dynamic/c/services']);
    } finally {
      w.close();
    }
  });
});

describe('the periodic disk check', () => {
  /** A periodic check with `sync`, `watcher` and `log` as given, the rest inert. */
  async function periodicCheck(o: Pick<PeriodicCheckOptions, 'sync' | 'watcher'> & Partial<PeriodicCheckOptions>): Promise<PeriodicCheck> {
    const noop = { set() {}, inc() {} };
    return new PeriodicCheck({
      db: t.db,
      root: await tempDir('tsync-tick-'),
      metrics: { volumeFreeBytes: noop, queueDepth: noop } as never,
      log: silentLogger,
      intervalMs: 30_000,
      queue: { add() {}, has: () => false } as never,
      intake: { catchUp: async () => 0, enqueue() {} } as never,
      state: { synced: true, writeFailed: [], recordIdle() {} } satisfies Pick<
        ReplicaState,
        'synced' | 'writeFailed' | 'recordIdle'
      > as never,
      listener: { ping: async () => true } as never,
      onDatabase: () => {},
      ...o,
    });
  }

  /** One tick of a periodic check whose watcher is `watcher`; returns the stat() limit it asked for. */
  async function sliceOfTick(watcher: { limited: boolean; watching: number; unwatched?: unknown } | null): Promise<number> {
    const asked: number[] = [];
    const check = await periodicCheck({
      sync: {
        verifyDisk: async (limit: number, unwatched: unknown) => {
          asked.push(limit);
          expect(unwatched).toBe(watcher?.limited ? watcher.unwatched : undefined);
          return new Set();
        },
      } as never,
      watcher: watcher as never,
    });
    await check.tick();
    expect(asked).toHaveLength(1);
    return asked[0]!;
  }

  it('stat()s a slice of 2,000 files per tick while every directory is watched', async () => {
    expect(await sliceOfTick({ limited: false, watching: 10 })).toBe(2000);
  });

  it('stat()s the slice, and as many more in the unwatched folders, when the watcher hit its limit', async () => {
    expect(await sliceOfTick({ limited: true, watching: 10, unwatched: { version: 1, has: () => true } })).toBe(2000);
  });

  it('stat()s every file when the watcher watches nothing, or is off', async () => {
    expect(await sliceOfTick({ limited: false, watching: 0 })).toBe(Infinity);
    expect(await sliceOfTick(null)).toBe(Infinity);
  });

  it('when the watcher hits its limit, warns within how many ticks a change in the unwatched folders is found', async () => {
    // 10 projects of 3 files (2 in the project's folder, 1 in services/); the last 5 unwatched.
    const inventory = new Inventory();
    for (let p = 0; p < 10; p++)
      for (const f of [`dynamic/p${p}/a.yml`, `dynamic/p${p}/b.yml`, `dynamic/p${p}/services/s.yml`])
        inventory.set(f, { projectId: `id-${p}`, ino: 1, size: 1, mtimeMs: 1, mode: 0o644, routers: 0 });
    const unwatched = { version: 1, has: (dir: string) => Number(/^dynamic\/p(\d+)/.exec(dir)?.[1]) >= 5 };
    const lines: string[] = [];
    const out = new PassThrough().on('data', (b: Buffer) => lines.push(b.toString()));
    const check = await periodicCheck({
      sync: { inventory } as never,
      watcher: { limited: true, watching: 14, unwatched } as never,
      diskCheckSlice: 4,
      log: createLogger('info', out),
    });
    await check.watcherLimited(24);
    // 10 folders, 2 a tick; 15 files, the other 2 lstat() calls of 4.
    const [line] = lines.map((l) => JSON.parse(l));
    expect(line).toMatchObject({
      directories: 24,
      watched: 14,
      unwatchedDirectories: 10,
      unwatchedFiles: 15,
      ticks: { changed: 5, edited: 8 },
    });
    expect(line.msg).toContain(
      'a file created, deleted or replaced by rename is found within 5 periodic checks, an edit in place within 8',
    );
  });
});

describe('history', () => {
  it('lists the newest 50 entries unless --limit says otherwise', async () => {
    const id = await insertProject(t.db, 'hist');
    for (let i = 0; i < 59; i++) await t.db.query(sql`UPDATE projects SET name = ${`hist-${i % 2}`} WHERE id = ${id}`);
    await t.db.query(sql`UPDATE projects SET name = 'hist' WHERE id = ${id}`); // 61 entries in all
    const env = { DATABASE_URL: t.url, LOG_LEVEL: 'warn' };
    const lines = (r: { stdout: string }) => r.stdout.trimEnd().split('\n');
    const byDefault = await inProcess(['history', '--project', 'hist'], env);
    expect(byDefault.code).toBe(0);
    expect(lines(byDefault)).toHaveLength(50);
    expect(lines(await inProcess(['history', '--project', 'hist', '--limit', '61'], env))).toHaveLength(61);
    // Newest first: the default shows the 50 newest of them.
    expect(lines(byDefault)).toEqual(lines(await inProcess(['history', '--project', 'hist', '--limit', '61'], env)).slice(0, 50));
  });
});

describe('retries of a failed project', () => {
  it('back off from 0.5 s, doubling, ± 20 % jitter, never more than 5 minutes', () => {
    const mid = (attempt: number) => backoffDelay(attempt, RETRY_BACKOFF, () => 0.5);
    expect([1, 2, 3, 4].map(mid)).toEqual([500, 1000, 2000, 4000]);
    expect(mid(10)).toBe(256_000);
    for (const attempt of [11, 12, 20, 100]) expect(mid(attempt)).toBe(300_000);
    expect(backoffDelay(100, RETRY_BACKOFF, () => 0)).toBe(240_000);
    expect(backoffDelay(100, RETRY_BACKOFF, () => 1)).toBe(300_000); // the jitter never goes past the cap
    expect(backoffDelay(10, RETRY_BACKOFF, () => 1)).toBe(300_000); // 256 s + 20 % is capped too
  });
});
