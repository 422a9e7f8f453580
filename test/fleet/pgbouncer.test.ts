/**
 * PgBouncer in transaction pooling mode (README "PgBouncer"): everything that goes through the
 * pool — migrations, the config service's audited writes, every query of the controller — works
 * when consecutive transactions run on different server connections (2 here, shared by all
 * clients), while LISTEN and the leader's advisory lock use the session connection
 * (LISTEN_DATABASE_URL, straight to PostgreSQL). PgBouncer refuses the pool's `statement_timeout`
 * startup parameter; before, that failed every query: the pool now falls back to a pool without it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { seedBench } from '../../src/bench/seed.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { connect, sql, type ConnectionPool } from '../../src/db/connect.js';
import { migrate } from '../../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';
import { pendingChanges, randInt, report } from '../reliability/support.js';
import { requirement } from '../helpers/requires.js';
import { findPgBouncer, startPgBouncer, type PgBouncer } from './pgbouncer.js';

const found = findPgBouncer();
// Skipped with the reason where PgBouncer is not installed; failed in CI (test/helpers/requires.ts).
const pgbouncer = requirement('pgbouncer', found.bin ? null : found.reason);

pgbouncer.describe('through PgBouncer in transaction mode', () => {
  let t: TestDatabase;
  let bouncer: PgBouncer;
  let pooled: ConnectionPool;
  const replicas: TestSidecar[] = [];

  beforeAll(async () => {
    if (pgbouncer.missing) return;
    t = await createTestDatabase({ migrate: false });
    const u = new URL(t.url);
    bouncer = await startPgBouncer(
      found.bin!,
      { port: Number(u.port), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) },
      2,
    );
    pooled = connect(bouncer.via(t.url), { poolSize: 4 });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await pooled?.dispose().catch(() => {});
    await bouncer?.stop();
    await t?.drop();
  });

  it('migrate, the config service and two replicas work through it; changes reach both; one leads', async () => {
    // Migrations: each in its own transaction under a transaction-level lock; two at once are safe.
    const applied = (await Promise.all([migrate(pooled), migrate(pooled)])).flat();
    expect(new Set(applied).size).toBe(applied.length);
    expect(applied).toContain('006_shards.sql');
    await pooled.tx((tx) => seedBench(tx, 20));
    // The config service: actor set per transaction (audit), advisory transaction lock, checks.
    const service = new TraefikConfigService(pooled, { actor: 'bouncer-test' });
    await service.apply({
      name: 'shop',
      services: [{ name: 'web' }],
      domains: [{ domain: 'shop.example', ssl: false, routes: [{ path: '/', service: 'web', targetPort: 8080 }] }],
    });
    const [audit] = await pooled.query(sql`SELECT actor FROM audit_log WHERE table_name = 'projects' ORDER BY id DESC LIMIT 1`);
    expect(audit?.actor).toBe('bouncer-test');

    for (const name of ['pb-1', 'pb-2'])
      replicas.push(await startTestSidecar(bouncer.via(t.url), { interval: '2s', 'listen-database-url': t.url }, { replicaId: name }));
    await waitFor(async () => (await Promise.all(replicas.map((r) => r.get('/readyz')))).every((r) => r.status === 200), 60_000, 100);
    for (const r of replicas) expect((await r.get('/api/v1/status')).json().listenConnected).toBe(true);

    // Changes from 4 writers through PgBouncer reach both replicas (NOTIFY on the session connection).
    const routes = (await pooled.query(sql`SELECT id FROM route_configs`)).map((r) => r.id as string);
    let n = 0;
    const writer = async () => {
      while (n < 200) {
        n++;
        await pooled.query(
          sql`UPDATE route_configs SET target_port = ${randInt(1, 65535)} WHERE id = ${routes[randInt(0, routes.length - 1)]!}`,
        );
      }
    };
    const started = Date.now();
    await Promise.all([writer(), writer(), writer(), writer()]);
    await waitFor(
      async () => {
        for (const r of replicas) {
          const p = await pendingChanges(pooled, r.root);
          if (p.changes.length || p.failed.length) return false;
        }
        return true;
      },
      60_000,
      250,
    );
    report(`pgbouncer: 200 changes through 2 server connections reached both replicas in ${Date.now() - started} ms`);
    await waitFor(
      async () => (await Promise.all(replicas.map((r) => r.get('/api/v1/status')))).filter((s) => s.json().leader).length === 1,
      15_000,
    );
    // The first connection was refused for its startup parameter; everything after went through.
    expect(bouncer.log()).toMatch(/unsupported startup parameter/);
  }, 180_000);
});
