/**
 * Stopping when the database cannot answer. A sidecar must exit on SIGTERM even when its
 * connections to PostgreSQL hang (a network partition: packets dropped, no reset), because
 * Kubernetes waits for it before restarting the pod. The `run` command is started against
 * PostgreSQL through a TCP proxy that can freeze every connection while keeping it open.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../src/db/embedded.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { stopChild } from './helpers/child.js';
import { seedSample } from './helpers/seed.js';
import { waitFor } from './helpers/sidecar.js';
import { requireBuiltCli, spawnCli, type Child } from './reliability/support.js';

/** A TCP proxy to `target` whose connections, current and new, can be frozen: open, but nothing passes. */
async function freezableProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  const links = new Set<{ frozen: boolean; sockets: net.Socket[] }>();
  let frozen = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    const link = { frozen, sockets: [client, upstream] };
    links.add(link);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d) => { if (!link.frozen) upstream.write(d); });
    upstream.on('data', (d) => { if (!link.frozen) client.write(d); });
    client.on('end', () => { if (!link.frozen) upstream.end(); });
    upstream.on('end', () => { if (!link.frozen) client.end(); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    /** From now on, bytes in either direction are dropped; no connection is closed. */
    freeze() {
      frozen = true;
      for (const l of links) l.frozen = true;
    },
    /** The partition heals: frozen connections are reset (so the server drops their sessions), new ones pass. */
    thaw() {
      frozen = false;
      for (const l of links) if (l.frozen) for (const s of l.sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let t: TestDatabase;
let work: string;
const children: Child[] = [];
let proxy: Awaited<ReturnType<typeof freezableProxy>>;

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
  const url = new URL(t.url);
  url.port = String(proxy.port);
  const port = await freePort();
  const c = spawnCli(['run', '--http-addr', `127.0.0.1:${port}`, '--config-dir', path.join(work, 'volume'), '--interval', '1h'], { DATABASE_URL: url.toString(), LOG_LEVEL: 'info' });
  children.push(c);
  const metric = async (name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  };
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200, 30_000, 100);
  await waitFor(async () => (await metric('traefik_sync_listen_connected')) === 1 && (await metric('traefik_sync_is_leader')) === 1, 15_000, 100);
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
  expect(exit!.seconds).toBeLessThan(2.5);
  expect(exit!.code).toBe(143);
  expect(c.output().stdout).toMatch(/second signal: exiting now/);
}, 60_000);
