/**
 * Failover (README "Failover"): the database behind the URL is stopped and another server takes
 * its place — a copy of its data (a promoted standby), or an older copy (a restored backup, whose
 * change versions are lower than those the replicas have seen). Three replicas of the real
 * controller keep serving their files, report honestly while the database is gone (db_up 0,
 * listen_connected 0, status), reconnect, and end with every change of the new server on disk:
 * none lost from a write burst running across the switch, none skipped because its version is
 * lower than one seen on the old server.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { seedBench } from '../../src/bench/seed.js';
import { connect, sql, type ConnectionPool } from '../../src/db/connect.js';
import { migrate } from '../../src/db/migrate.js';
import { freePort, startEmbeddedPostgres, type EmbeddedServer } from '../../src/demo/embedded-postgres.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';
import { pendingChanges, report, sleep } from '../reliability/support.js';
import { switchProxy, type SwitchProxy } from './switch-proxy.js';

const PASSWORD = 'failover-pw';
const FLAGS = ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=100'];

let dir: string;
let server: EmbeddedServer;
let proxy: SwitchProxy;
/** The application's pool, through the proxy (as the replicas are). */
let app: ConnectionPool;
const replicas: TestSidecar[] = [];

/** Start a server on the data directory `name` under `dir` (created the first time). */
const start = (name: string, port?: number) =>
  startEmbeddedPostgres({ dataDir: path.join(dir, name), password: PASSWORD, postgresFlags: FLAGS, ...(port ? { port } : {}) });

/** A copy of a (stopped) server's data directory: a standby's, or a backup's. */
const copy = (from: string, to: string) => execFileSync('cp', ['-a', path.join(dir, from), path.join(dir, to)]);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tsync-failover-'));
  await chmod(dir, 0o755); // the server runs as `postgres` when we are root
  server = await start('a');
  const db = connect(server.url, { poolSize: 2 });
  await migrate(db);
  await db.tx((tx) => seedBench(tx, 20));
  await db.dispose();
  proxy = await switchProxy(server.port);
  app = connect(proxy.via(server.url), { poolSize: 4 });
  for (const name of ['r1', 'r2', 'r3'])
    replicas.push(await startTestSidecar(proxy.via(server.url), { interval: '2s' }, { replicaId: name }));
  await waitFor(async () => (await Promise.all(replicas.map((r) => r.get('/readyz')))).every((r) => r.status === 200), 60_000, 100);
}, 120_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await app?.dispose().catch(() => {});
  await proxy?.close();
  await server?.stop().catch(() => {});
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Every replica's files equal what the current server holds. */
async function allConverged(timeoutMs: number): Promise<void> {
  const direct = connect(server.url, { poolSize: 2 });
  try {
    await waitFor(
      async () => {
        for (const r of replicas) {
          const p = await pendingChanges(direct, r.root);
          if (p.changes.length || p.failed.length) return false;
        }
        return true;
      },
      timeoutMs,
      250,
    );
  } finally {
    await direct.dispose();
  }
}

/** The database is gone: every replica says so, and keeps serving its files. */
async function allReportDown(): Promise<void> {
  await waitFor(
    async () => {
      for (const r of replicas) {
        if ((await r.metric('traefik_sync_db_up')) !== 0 || (await r.metric('traefik_sync_listen_connected')) !== 0) return false;
        const s = (await r.get('/api/v1/status')).json();
        if (s.databaseUp !== false || s.listenConnected !== false) return false;
        if ((await r.get('/readyz')).status !== 200) throw new Error(`${s.replica} stopped serving while the database was gone`);
      }
      return true;
    },
    30_000,
    100,
  );
}

/** Writers updating their own routes until stopped, each retrying a write until it commits; returns the commits. */
function writeBurst(routes: string[], writers = 4): { stop: () => Promise<number> } {
  let stopped = false;
  let commits = 0;
  const loops = Array.from({ length: writers }, async (_, w) => {
    const mine = routes.filter((_, i) => i % writers === w);
    for (let n = 0; !stopped; n++) {
      const id = mine[n % mine.length]!;
      const port = 10_000 + ((n * 7 + w) % 50_000);
      for (;;) {
        try {
          await app.query(sql`UPDATE route_configs SET target_port = ${port} WHERE id = ${id}`);
          commits++;
          break;
        } catch {
          await sleep(100); // the server is gone or switching: the same write again
        }
      }
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return commits;
    },
  };
}

it('a primary switch in the middle of a write burst: every replica keeps serving, says the database is down, reconnects, and loses no change', async () => {
  const routes = (await app.query(sql`SELECT id FROM route_configs ORDER BY id`)).map((r) => r.id as string);
  const burst = writeBurst(routes);
  await sleep(1_500);
  // The primary goes away (a clean stop: every commit acknowledged so far is in its data), and a
  // standby holding the same data is promoted at another address.
  await server.stop();
  const stoppedAt = Date.now();
  await allReportDown();
  copy('a', 'b');
  server = await start('b', await freePort());
  proxy.switchTo(server.port);
  const switchedAt = Date.now();
  await sleep(3_000); // the burst goes on against the new primary
  const commits = await burst.stop();
  await allConverged(60_000);
  report(
    `failover: ${commits} commits across the switch; down for ${switchedAt - stoppedAt} ms; all 3 replicas converged ${Date.now() - switchedAt} ms after the switch`,
  );
  // The files may converge through the periodic check before the LISTEN session is back; it
  // reconnects as soon as the pool finds the database up (not after its backoff).
  for (const r of replicas) {
    expect(await r.metric('traefik_sync_db_up')).toBe(1);
    await waitFor(async () => (await r.metric('traefik_sync_listen_connected')) === 1, 15_000, 100);
  }
}, 180_000);

it('switched to a restored backup (lower versions): changes made there while the replicas reconnect are applied, and so is what the backup lacks', async () => {
  // A backup of the current primary, taken now.
  await server.stop();
  copy('b', 'backup');
  server = await start('b', server.port);
  await allConverged(60_000);
  // Changes the backup will not have (their versions go past every version in it).
  const routes = (await app.query(sql`SELECT r.id FROM route_configs r ORDER BY r.id LIMIT 10`)).map((r) => r.id as string);
  for (const id of routes) await app.query(sql`UPDATE route_configs SET target_port = 4444, priority = 7 WHERE id = ${id}`);
  await allConverged(30_000);
  // The primary is lost; the backup is restored at another address. While the replicas are still
  // reconnecting, a change is made there: its NOTIFY reaches nobody, and its version is lower than
  // the ones the replicas saw on the lost primary.
  await server.stop();
  server = await start('backup', await freePort());
  proxy.switchTo(server.port);
  const direct = connect(server.url, { poolSize: 1 });
  await direct.query(sql`UPDATE route_configs SET target_port = 5555 WHERE id = ${routes.at(-1)!}`);
  const [{ v }] = await direct.query(sql`SELECT max(version) AS v FROM project_versions`);
  await direct.dispose();
  await allConverged(60_000);
  report(`restored backup: highest version there ${v}; every replica now equals the backup plus the change made after the switch`);
}, 180_000);
