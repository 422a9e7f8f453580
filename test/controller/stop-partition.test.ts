/**
 * Stopping when the database cannot answer. A sidecar must exit on SIGTERM even when its
 * connections to PostgreSQL hang (a network partition: packets dropped, no reset), because
 * Kubernetes waits for it before restarting the pod. The `run` command is started against
 * PostgreSQL through a TCP proxy that can freeze every connection while keeping it open.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../../src/demo/embedded-postgres.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { stopChild } from '../helpers/child.js';
import { freezableProxy, type FreezableProxy } from '../helpers/freezable-proxy.js';
import { seedSample } from '../helpers/seed.js';
import { waitFor } from '../helpers/sidecar.js';
import { requireBuiltCli, spawnCli, type Child } from '../reliability/support.js';

let t: TestDatabase;
let work: string;
const children: Child[] = [];
let proxy: FreezableProxy;

beforeAll(async () => {
  requireBuiltCli();
  t = await createTestDatabase();
  await seedSample(t.db);
  work = await mkdtemp(path.join(tmpdir(), 'tsync-partition-'));
  const url = new URL(t.url);
  proxy = await freezableProxy({ host: url.hostname, port: Number(url.port) });
});

afterAll(async () => {
  await Promise.all(children.map((c) => stopChild(c.proc, 'SIGKILL')));
  await proxy?.close();
  await t?.drop();
  await rm(work, { recursive: true, force: true });
});

/** Start `run` through the proxy; resolves once it is ready, leading and listening. */
async function startRun(): Promise<Child> {
  const port = await freePort();
  const c = spawnCli(['run', '--http-addr', `127.0.0.1:${port}`, '--config-dir', path.join(work, 'volume'), '--interval', '1h'], {
    DATABASE_URL: proxy.via(t.url),
    LOG_LEVEL: 'info',
  });
  children.push(c);
  const metric = async (name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  };
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200, 30_000, 100);
  await waitFor(
    async () => (await metric('traefik_sync_listen_connected')) === 1 && (await metric('traefik_sync_is_leader')) === 1,
    15_000,
    100,
  );
  // Its own first full sync done (the volume a previous test left makes it ready before that).
  await waitFor(
    async () => ((await (await fetch(`http://127.0.0.1:${port}/api/v1/status`)).json()) as { readySource: string }).readySource === 'sync',
    30_000,
    100,
  );
  return c;
}

/** Resolves with how the child exited and after how many seconds, or null if still running after `ms`. */
async function exitWithin(c: Child, ms: number) {
  const started = Date.now();
  const exit = await Promise.race([c.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), ms))]);
  return exit && { ...exit, seconds: (Date.now() - started) / 1000 };
}

it('`run` exits within seconds of SIGTERM while every database connection hangs, saying what it gave up on', async () => {
  const c = await startRun();
  proxy.freeze();
  c.proc.kill('SIGTERM');
  const exit = await exitWithin(c, 30_000);
  const { stdout, stderr } = c.output();
  expect(exit, `still running 30 s after SIGTERM\n${stdout}\n${stderr}`).not.toBeNull();
  expect(exit!.seconds).toBeLessThan(15);
  expect(exit!.code).toBe(0);
  expect(stdout).toMatch(/saving the replica status did not finish within 3 s/);
  expect(stdout).toMatch(/traefik-sync stopped/);
}, 60_000);

it('a second SIGTERM exits at once, with 143', async () => {
  proxy.thaw();
  const c = await startRun();
  proxy.freeze();
  c.proc.kill('SIGTERM');
  await waitFor(() => c.output().stdout.includes('stopping: finishing the write in flight'), 5000);
  c.proc.kill('SIGTERM');
  const exit = await exitWithin(c, 10_000);
  expect(exit, c.output().stdout).not.toBeNull();
  expect(exit!.seconds).toBeLessThan(5);
  expect(exit!.code).toBe(143);
  expect(c.output().stdout).toMatch(/second signal: exiting now/);
}, 60_000);

it('a pass stuck on the database does not hold the stop past 20 s: exit 1, saying so', async () => {
  proxy.thaw();
  const c = await startRun();
  // Another session locks the tables a pass reads: the pass waits (up to the 30 s statement timeout).
  const locker = new pg.Client({ connectionString: t.adminUrl });
  await locker.connect();
  try {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE projects, services, domain_configs, route_configs IN ACCESS EXCLUSIVE MODE');
    // A hand edit starts a pass of its project.
    const file = path.join(work, 'volume', 'dynamic/shop/domains.yml');
    await writeFile(file, `${await readFile(file, 'utf8')}# hand edit\n`);
    await waitFor(
      async () =>
        (
          await locker.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'traefik-sync' AND wait_event_type = 'Lock'`,
          )
        ).rows[0].n > 0,
      10_000,
      50,
    );
    c.proc.kill('SIGTERM');
    const exit = await exitWithin(c, 40_000);
    const { stdout } = c.output();
    expect(exit, stdout).not.toBeNull();
    expect(exit!.seconds).toBeGreaterThan(19);
    expect(exit!.seconds).toBeLessThan(28); // not the 30 s the statement could still wait
    expect(exit!.code).toBe(1);
    expect(stdout).toMatch(/did not stop within 20 s/);
  } finally {
    await locker.query('ROLLBACK').catch(() => {});
    await locker.end();
  }
}, 90_000);
