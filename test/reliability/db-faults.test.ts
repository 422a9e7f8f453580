/**
 * Promise (docs/contract.md §4 "Keep last good", README "Database down"): database faults never change or
 * tear a file; the controller reconnects (LISTEN re-established, `traefik_sync_listen_connected`
 * 1) and every change committed meanwhile is applied after.
 *
 * On a PostgreSQL of this file's own, under a running controller (in-process `run`) with a
 * 100-project volume: connections killed with pg_terminate_backend in the middle of passes (the
 * pool's and the LISTEN one), every statement failing for a while, the database's own
 * statement_timeout set absurdly low, and PostgreSQL stopped in the middle of a large pass.
 * test/controller/outage.test.ts already covers PostgreSQL stopped while idle; not repeated here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { seedBench } from '../../src/bench/seed.js';
import { connect, sql, type ConnectionPool } from '../../src/db/connect.js';
import { migrate } from '../../src/db/migrate.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';
import {
  SOAK,
  captureLog,
  changedPaths,
  pendingChanges,
  report,
  moreLogLines,
  TICK_WHILE_DOWN,
  snapshotTree,
  startOwnPostgres,
  treeProblems,
  type OwnPostgres,
} from './support.js';

const PROJECTS = SOAK ? 300 : 100;
const ROUNDS = SOAK ? 30 : 4;
const APPS = ['traefik-sync', 'traefik-sync-listen'];

let own: OwnPostgres;
let url: string;
let db: ConnectionPool;
let s: TestSidecar;
const logs = captureLog('info');

/** A plain client on the test's database (its own session settings, never the controller's). */
async function admin(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, application_name: 'fault-injector', statement_timeout: 30_000 });
  await c.connect();
  return c;
}

/** Terminate every backend of the controller; returns how many per application and how many were mid-query. */
async function terminateController(c: pg.Client): Promise<{ pool: number; listen: number; active: number }> {
  const r = await c.query(
    `SELECT application_name AS app, state, pg_terminate_backend(pid) AS ok FROM pg_stat_activity
                            WHERE application_name = ANY($1) AND pid <> pg_backend_pid()`,
    [APPS],
  );
  return {
    pool: r.rows.filter((x) => x.app === 'traefik-sync' && x.ok).length,
    listen: r.rows.filter((x) => x.app === 'traefik-sync-listen' && x.ok).length,
    active: r.rows.filter((x) => x.state === 'active').length,
  };
}

async function converged(timeoutMs = 30_000): Promise<boolean> {
  return waitFor(
    async () => {
      const p = await pendingChanges(db, s.root).catch(() => null);
      return p !== null && p.changes.length === 0 && p.failed.length === 0;
    },
    timeoutMs,
    250,
  ).then(
    () => true,
    () => false,
  );
}

const errors = () => s.metric('traefik_sync_reconcile_total', { result: 'error' });

beforeAll(
  async () => {
    own = await startOwnPostgres('db-faults-pw');
    const boot = new pg.Client({ connectionString: own.server.url });
    await boot.connect();
    await boot.query('CREATE DATABASE faults');
    await boot.end();
    url = own.server.urlFor('faults');
    db = connect(url, { poolSize: 3, applicationName: 'fault-test' });
    await migrate(db);
    await db.tx((tx) => seedBench(tx, PROJECTS));
    s = await startTestSidecar(url, { interval: '1s' }, { log: logs.log });
    await waitFor(async () => (await s.get('/readyz')).status === 200, 30_000);
    await waitFor(async () => (await s.metric('traefik_sync_listen_connected')) === 1, 10_000);
  },
  SOAK ? 300_000 : 120_000,
);

afterAll(async () => {
  await s?.stop();
  await db?.dispose();
  await own?.destroy();
});

describe('database faults', () => {
  it(
    `connections killed mid-pass (pool and LISTEN), ${ROUNDS} rounds: no torn file, LISTEN back, every committed change applied`,
    async () => {
      const c = await admin();
      const killed = { pool: 0, listen: 0, active: 0, sweeps: 0 };
      let rounds = 0;
      const errorsBefore = await errors();
      try {
        // At least ROUNDS rounds, and more (up to 3×) until a backend has been caught mid-query.
        for (let k = 1; k <= ROUNDS || (killed.active === 0 && k <= ROUNDS * 3); k++) {
          // A change to every project: the controller starts a large pass at once.
          await db.query(sql`UPDATE route_configs SET target_port = ${3000 + k}`);
          // Hunt: kill whichever controller backend is running a statement, as soon as one is.
          const until = Date.now() + 800;
          while (Date.now() < until) {
            const r = await c.query(`SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                    WHERE application_name = 'traefik-sync' AND state = 'active' AND pid <> pg_backend_pid()) x`);
            killed.active += r.rows[0].n;
            killed.pool += r.rows[0].n;
            killed.sweeps++;
          }
          // Then every connection of the controller, idle pool and LISTEN included.
          const r = await terminateController(c);
          killed.pool += r.pool;
          killed.listen += r.listen;
          // Committed while the LISTEN connection is (likely) still down: its NOTIFY is lost.
          await db.query(sql`UPDATE route_configs SET middleware = ${JSON.stringify([{ headers: { customRequestHeaders: { 'X-Round': `${k}` } } }])}::jsonb
                           WHERE path_rule = '/api'`);
          expect(await treeProblems(s.root)).toEqual([]);
          rounds = k;
        }
      } finally {
        await c.end();
      }
      const ok = await converged();
      await waitFor(async () => (await s.metric('traefik_sync_listen_connected')) === 1, 15_000);
      const reconnects = logs
        .text()
        .split('\n')
        .filter((l) => l.includes('LISTEN reconnected')).length;
      const failedPasses = (await errors()) - errorsBefore;
      report(
        `db faults: ${rounds} rounds of pg_terminate_backend during large passes: ${killed.pool} pool and ${killed.listen} LISTEN backends killed ` +
          `(${killed.active} mid-query) in ${killed.sweeps} sweeps; ${failedPasses} passes failed; LISTEN reconnected ${reconnects} times; ` +
          `converged: ${ok}; torn files: 0`,
      );
      expect(ok, JSON.stringify(await pendingChanges(db, s.root)).slice(0, 1500)).toBe(true);
      expect(await treeProblems(s.root)).toEqual([]);
      expect(killed.pool).toBeGreaterThan(0);
      expect(killed.listen).toBeGreaterThan(0);
      expect(killed.active).toBeGreaterThan(0);
      expect(reconnects).toBeGreaterThan(0);
      expect(await s.metric('traefik_sync_listen_connected')).toBe(1);
      expect(await s.metric('traefik_sync_db_up')).toBe(1);
    },
    SOAK ? 900_000 : 120_000,
  );

  it('every statement failing for a while (lock timeouts): no file changes while failing, status says why, all changes applied after', async () => {
    const c = await admin();
    const locker = await admin();
    await converged();
    const before = await snapshotTree(s.root);
    const errorsBefore = await errors();
    try {
      // Every new session of this database gets lock_timeout 1 ms; the controller's connections are
      // recycled so they pick it up; then the table every pass reads is locked.
      await c.query('ALTER DATABASE faults SET lock_timeout = 1');
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE services IN ACCESS EXCLUSIVE MODE');
      await terminateController(c);
      // Committed while every pass fails (these statements do not read services).
      await db.query(sql`UPDATE route_configs SET target_port = 4444 WHERE path_rule = '/'`);
      await db.query(sql`UPDATE route_configs SET middleware = ${JSON.stringify([{ compress: {} }])}::jsonb WHERE path_rule = '/api'`);
      await waitFor(async () => (await errors()) >= errorsBefore + 3, 10_000);
      const seen = await errors();
      await waitFor(async () => (await errors()) >= seen + 2, 30_000); // two more passes fail, and change nothing
      const during = await snapshotTree(s.root);
      const status = (await s.get('/api/v1/status')).json();
      const failing =
        Object.values(status.projects as Record<string, { lastError: string | null }>).filter((p) => p.lastError).length +
        (status.lastError ? 1 : 0);
      const failedPasses = (await errors()) - errorsBefore;
      report(
        `db faults: every statement failing (lock timeout): ${failedPasses} passes failed, ${changedPaths(before, during).length} files changed meanwhile, ` +
          `status lastError ${JSON.stringify(String(status.lastError).slice(0, 120))}, ${failing} failure(s) shown`,
      );
      expect(changedPaths(before, during)).toEqual([]);
      expect(String(status.lastError)).toMatch(/lock timeout/);
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
      await c.query('ALTER DATABASE faults RESET lock_timeout');
      await c.end();
    }
    expect(await converged()).toBe(true);
    expect(Object.values(await snapshotTree(s.root)).filter((f) => f.includes('http://web:4444')).length).toBe(PROJECTS);
  }, 60_000);

  it("the database's own statement_timeout cannot starve the controller: it sets its own at connect", async () => {
    // ALTER DATABASE … SET statement_timeout is the obvious fault to inject, but connect()
    // (src/db/connect.ts) sends statement_timeout=30000 in the startup packet, which outranks
    // database and role defaults — so passes keep working even at 1 ms. The LISTEN client sets
    // none and does get 1 ms; it must survive that too.
    const c = await admin();
    try {
      await c.query('ALTER DATABASE faults SET statement_timeout = 1');
      await terminateController(c);
      await db.query(sql`UPDATE route_configs SET target_port = 4555 WHERE path_rule = '/'`);
      expect(await converged(20_000)).toBe(true);
      await waitFor(async () => (await s.metric('traefik_sync_listen_connected')) === 1, 15_000);
      const set = await c.query(`SELECT array_to_string(setconfig, ',') AS conf FROM pg_db_role_setting
                                  WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = 'faults')`);
      const sessions = await c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ANY($1)`, [APPS]);
      report(
        `db faults: ALTER DATABASE SET ${set.rows[0]?.conf}: passes still succeed (the pool sends statement_timeout 30 s at connect), ` +
          `LISTEN reconnected under 1 ms and stays connected; ${sessions.rows[0].n} controller sessions`,
      );
      expect(set.rows[0]?.conf).toBe('statement_timeout=1');
    } finally {
      await c.query('ALTER DATABASE faults RESET statement_timeout');
      await c.end();
    }
  }, 60_000);

  it('PostgreSQL stopped in the middle of a large pass: files stay whole and unchanged while down; applied after the restart', async () => {
    await converged();
    await db.query(sql`UPDATE route_configs SET target_port = 5000`);
    // Stop as soon as the controller is busy with it (a pass is reading or writing).
    const c = await admin();
    await waitFor(
      async () =>
        (await c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'traefik-sync' AND state = 'active'`))
          .rows[0].n > 0,
      5000,
      2,
    ).catch(() => undefined);
    await c.end().catch(() => {});
    const stoppedAt = Date.now();
    await own.server.stop();
    await waitFor(async () => (await s.metric('traefik_sync_db_up')) === 0, 10_000);
    expect(await treeProblems(s.root)).toEqual([]);
    const down = await snapshotTree(s.root);
    await moreLogLines(logs, TICK_WHILE_DOWN, 2); // two periodic checks (and the retries between them) while it is down
    expect(changedPaths(down, await snapshotTree(s.root))).toEqual([]);
    const partly = Object.values(down).filter((f) => f.includes(':5000')).length;
    expect((await s.get('/readyz')).status).toBe(200);

    await own.restart();
    await db.query(sql`SELECT 1`).catch(() => {}); // the test pool's dead connections are dropped
    await db.query(sql`UPDATE route_configs SET priority = 7 WHERE path_rule = '/api/admin'`);
    await waitFor(async () => (await s.metric('traefik_sync_listen_connected')) === 1, 30_000, 100);
    const ok = await converged(30_000);
    report(
      `db faults: PostgreSQL stopped mid-pass (${partly} files already rewritten when it went down, ${Date.now() - stoppedAt} ms to recover): ` +
        `0 torn, 0 changed while down, converged after restart: ${ok}`,
    );
    expect(ok).toBe(true);
    expect(await treeProblems(s.root)).toEqual([]);
  }, 120_000);
});
