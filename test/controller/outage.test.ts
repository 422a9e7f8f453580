/**
 * Keep last good: PostgreSQL stopped under a running controller → nothing on disk changes,
 * /readyz stays 200, traefik_sync_db_up 0; restarted → LISTEN re-established and a change
 * committed afterwards is applied. Uses a PostgreSQL server of its own, so it can stop it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, sql, type ConnectionPool } from '../../src/db/connect.js';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/demo/embedded-postgres.js';
import { migrate } from '../../src/db/migrate.js';
import { seedSample, type SampleIds } from '../helpers/seed.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';
import { captureLog, moreLogLines, TICK_WHILE_DOWN } from '../reliability/support.js';

let dir: string;
let server: EmbeddedServer;
let db: ConnectionPool;
let s: TestSidecar;
let ids: SampleIds;
const logs = captureLog('warn');

async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else out[r] = `${(await stat(path.join(root, r))).ino}:${await readFile(path.join(root, r), 'utf8')}`;
    }
  };
  await walk('');
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tsync-outage-'));
  await chmod(dir, 0o755);
  server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), password: 'outage-pw', postgresFlags: ['-c', 'fsync=off'] });
  db = connect(server.url, { poolSize: 2 });
  await migrate(db);
  ids = await seedSample(db);
});

afterAll(async () => {
  await s?.stop();
  await db?.dispose();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('database outage', () => {
  it('keeps the last good files while PostgreSQL is down and catches up after', async () => {
    s = await startTestSidecar(server.url, { interval: '1s' }, { log: logs.log });
    await waitFor(async () => (await s.get('/readyz')).status === 200, 10_000);
    await waitFor(async () => (await s.metric('traefik_sync_listen_connected')) === 1);
    const before = await snapshot(s.root);

    await server.stop();
    await waitFor(async () => (await s.metric('traefik_sync_db_up')) === 0, 10_000);
    await waitFor(async () => (await s.metric('traefik_sync_listen_connected')) === 0, 10_000);
    await moreLogLines(logs, TICK_WHILE_DOWN, 3); // several resync intervals while down
    expect((await s.get('/readyz')).status).toBe(200);
    expect((await s.get('/healthz')).status).toBe(200);
    expect(await snapshot(s.root)).toEqual(before);
    expect((await s.get('/api/v1/status')).json().databaseUp).toBe(false);

    server = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'pg'),
      port: server.port,
      password: 'outage-pw',
      postgresFlags: ['-c', 'fsync=off'],
    });
    await waitFor(async () => (await s.metric('traefik_sync_listen_connected')) === 1, 20_000, 100);
    expect(await s.metric('traefik_sync_db_up')).toBe(1); // it answered LISTEN: up now, not at the next tick
    await waitFor(
      async () => {
        try {
          await db.query(sql`UPDATE route_configs SET target_port = 3999 WHERE id = ${ids.shopApiRoute}`);
          return true;
        } catch {
          return false; // the pool's old connections died with the server
        }
      },
      10_000,
      100,
    );
    await waitFor(
      async () => (await readFile(path.join(s.root, 'dynamic/shop/services/api.yml'), 'utf8')).includes('http://api:3999'),
      5000,
    );
    await waitFor(async () => (await s.metric('traefik_sync_db_up')) === 1, 5000);
  }, 90_000);

  it('stops on SIGTERM (sidecar.stop) within seconds when PostgreSQL went away just before', async () => {
    await waitFor(async () => (await s.metric('traefik_sync_listen_connected')) === 1, 20_000, 100);
    await db.query(sql`UPDATE route_configs SET target_port = 3998 WHERE id = ${ids.shopApiRoute}`); // a pass in flight, maybe
    await server.stop();
    const t0 = Date.now();
    const stopped = await Promise.race([s.stop().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
    expect({ stopped, withinMs: stopped ? Date.now() - t0 < 15_000 : false }).toEqual({ stopped: true, withinMs: true });
  }, 60_000);

  it('restarted while PostgreSQL is down: ready from the config a previous run left on the volume (an empty volume is not)', async () => {
    const before = await snapshot(s.root);
    const restarted = await startTestSidecar(server.url, { 'config-dir': s.root, interval: '1s' });
    const emptyLogs = captureLog('warn');
    const empty = await startTestSidecar(server.url, { interval: '1s' }, { log: emptyLogs.log });
    try {
      await waitFor(async () => (await restarted.get('/readyz')).status === 200, 5_000);
      expect((await restarted.get('/api/v1/status')).json()).toMatchObject({ ready: true, readySource: 'volume', databaseUp: false });
      await moreLogLines(emptyLogs, TICK_WHILE_DOWN, 2); // its first pass failed, and two checks since
      expect((await empty.get('/readyz')).status).toBe(503);
      expect((await empty.get('/api/v1/status')).json()).toMatchObject({ ready: false, readySource: null });
      expect(await snapshot(s.root)).toEqual(before);

      server = await startEmbeddedPostgres({
        dataDir: path.join(dir, 'pg'),
        port: server.port,
        password: 'outage-pw',
        postgresFlags: ['-c', 'fsync=off'],
      });
      await waitFor(async () => (await restarted.get('/api/v1/status')).json().readySource === 'sync', 20_000, 100);
      await waitFor(async () => (await empty.get('/readyz')).status === 200, 20_000, 100);
    } finally {
      await restarted.stop();
      await empty.stop();
    }
  }, 90_000);
});
