import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { sql } from '../../src/db/connect.js';
import { databaseForFile, emptyTables } from '../helpers/db.js';
import { tool } from '../helpers/requires.js';
import { insertDomain, insertProject, insertRoute, insertService, seedSample } from '../helpers/seed.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';
import { expectWithin, timed } from '../helpers/timing.js';

const t = databaseForFile();
/** Skipped without promtool, failed in CI (test/helpers/requires.ts). */
const promtool = tool('promtool', 'Debian: apt-get install -y prometheus');
let s: TestSidecar | undefined;

afterEach(async () => {
  await s?.stop();
  s = undefined;
  await emptyTables(t.db);
});

const read = (p: string) => readFile(path.join(s!.root, p), 'utf8').catch(() => null);

describe('traefik-sync run', () => {
  it('applies SQL changes through NOTIFY: create, update only the affected file, delete the project', async () => {
    await seedSample(t.db); // other projects, so one deletion is not a mass delete
    s = await startTestSidecar(t.url, { interval: '1h' }); // only NOTIFY can bring the changes below
    await waitFor(async () => (await s!.get('/readyz')).status === 200);
    const before = await s.metric('traefik_sync_change_apply_seconds_count');

    const id = await insertProject(t.db, 'live');
    const svc = await insertService(t.db, id, 'app');
    const dom = await insertDomain(t.db, id, { domain: 'live.example', ssl: false });
    // About a second on a quiet machine (a few ms of debounce, one pass); more only as the load allows.
    const appeared = await timed(async () => {
      await insertRoute(t.db, dom, svc, { path: '/', port: 5000 });
      await waitFor(async () => (await read('dynamic/live/services/app.yml'))?.includes('http://app:5000'), 15_000, 5);
    });
    expectWithin(appeared, 'a new route reaching its file through NOTIFY', 0, 1000, 1500);
    const route = (await t.db.query(sql`SELECT id FROM route_configs WHERE domain_config_id = ${dom}`))[0]!.id as string;
    await waitFor(async () => (await read('dynamic/live/domains.yml')) !== null, 15_000, 5); // written last in a pass

    const domainsBefore = await stat(path.join(s.root, 'dynamic/live/domains.yml'));
    const shopBefore = await stat(path.join(s.root, 'dynamic/shop/services/api.yml'));
    await t.db.query(sql`UPDATE route_configs SET target_port = 5001 WHERE id = ${route}`);
    await waitFor(async () => (await read('dynamic/live/services/app.yml'))?.includes('http://app:5001'), 15_000, 5);
    expect((await stat(path.join(s.root, 'dynamic/live/domains.yml'))).ino).toBe(domainsBefore.ino);
    expect((await stat(path.join(s.root, 'dynamic/shop/services/api.yml'))).ino).toBe(shopBefore.ino);

    await t.db.query(sql`DELETE FROM projects WHERE id = ${id}`);
    await waitFor(() => !existsSync(path.join(s!.root, 'dynamic/live')), 15_000, 5);
    expect(existsSync(path.join(s.root, 'dynamic/shop/services/api.yml'))).toBe(true);
    await waitFor(async () => (await s!.metric('traefik_sync_change_apply_seconds_count')) >= before + 2);
  });

  it('detects hand edits, deletions and additions by file events (no timer) and repairs them', async () => {
    await seedSample(t.db);
    s = await startTestSidecar(t.url, { interval: '1h' }); // drift must be seen by file events, not the timer
    await waitFor(async () => (await s!.get('/readyz')).status === 200);
    const web = 'dynamic/shop/services/web.yml';
    const original = (await read(web))!;
    await writeFile(path.join(s.root, web), original.replace('8080', '6666'));
    await waitFor(async () => (await read(web)) === original, 15_000);
    await rm(path.join(s.root, 'dynamic/shop/middleware.yml'));
    await waitFor(async () => (await read('dynamic/shop/middleware.yml')) !== null, 15_000);
    // A hand-made file that copies our header but not its body (an intact copy would just be stale).
    await writeFile(path.join(s.root, 'dynamic/shop/services/rogue.yml'), original.replace(/8080/g, '8181'));
    await waitFor(async () => (await read('dynamic/shop/services/rogue.yml')) === null, 15_000);

    // Counters move after the pass records its results, a moment after the file operation.
    for (const kind of ['modified', 'missing', 'unexpected']) {
      await waitFor(async () => (await s!.metric('traefik_sync_drift_detected_total', { kind })) === 1, 15_000);
    }
    const rows = await waitFor(async () => {
      const r = await t.db.query(sql`SELECT file_path, kind, repaired, replica_id FROM drift_events ORDER BY id`);
      return r.length === 3 ? r : null;
    });
    expect(rows!.map((r) => [r.file_path, r.kind, r.repaired])).toEqual([
      [web, 'modified', true],
      ['dynamic/shop/middleware.yml', 'missing', true],
      ['dynamic/shop/services/rogue.yml', 'unexpected', true],
    ]);
    expect(new Set(rows!.map((r) => r.replica_id)).size).toBe(1);
  });

  it('watches the folders of a project created after start: a hand edit there is repaired (by its file event)', async () => {
    await seedSample(t.db);
    s = await startTestSidecar(t.url, { interval: '1h' }); // no full pass after start: only file events can see it
    await waitFor(async () => (await s!.get('/readyz')).status === 200);
    const id = await insertProject(t.db, 'late');
    const svc = await insertService(t.db, id, 'app');
    const dom = await insertDomain(t.db, id, { domain: 'late.example', ssl: false });
    await insertRoute(t.db, dom, svc, { path: '/', port: 5000 });
    const file = 'dynamic/late/services/app.yml';
    await waitFor(async () => (await read(file))?.includes('http://app:5000'), 15_000, 5);
    await waitFor(async () => (await read('dynamic/late/domains.yml')) !== null, 15_000, 5);
    const original = (await read(file))!;
    await writeFile(path.join(s.root, file), original.replace('5000', '6666'));
    await waitFor(async () => (await read(file)) === original, 15_000);
    await rm(path.join(s.root, 'dynamic/late/domains.yml'));
    await waitFor(async () => (await read('dynamic/late/domains.yml')) !== null, 15_000);
    expect(await s.metric('traefik_sync_drift_detected_total', { kind: 'modified' })).toBe(1);
  });

  it('ignores NOTIFY payloads that are not project ids, and the changes around them still apply', async () => {
    const ids = await seedSample(t.db);
    s = await startTestSidecar(t.url);
    await waitFor(async () => (await s!.get('/readyz')).status === 200);
    const errorsBefore = await s.metric('traefik_sync_reconcile_total', { result: 'error' });
    // 36 characters that look like a UUID to a loose pattern but fail PostgreSQL's ::uuid cast;
    // in a batch with a real project it would fail the whole pass.
    await t.db.query(sql`SELECT pg_notify('traefik_sync', '------------------------------------')`);
    await t.db.query(sql`SELECT pg_notify('traefik_sync', 'not a project')`);
    await t.db.query(sql`UPDATE route_configs SET target_port = 3002 WHERE id = ${ids.shopApiRoute}`);
    await waitFor(async () => (await read('dynamic/shop/services/api.yml'))?.includes('http://api:3002'), 15_000, 5);
    expect(await s.metric('traefik_sync_reconcile_total', { result: 'error' })).toBe(errorsBefore);
  });

  it('report mode leaves drift in place and shows it in metrics and status', async () => {
    await seedSample(t.db);
    s = await startTestSidecar(t.url, { 'drift-mode': 'report', interval: '1h' }); // only the file event can find the edit
    await waitFor(async () => (await s!.get('/readyz')).status === 200);
    const web = 'dynamic/shop/services/web.yml';
    const edited = (await read(web))!.replace('8080', '6666');
    await writeFile(path.join(s.root, web), edited);
    await waitFor(async () => (await s!.metric('traefik_sync_drift_files', { kind: 'modified' })) === 1, 15_000);
    expect(await read(web)).toBe(edited);
    const status = (await s.get('/api/v1/status')).json();
    expect(status.drift).toEqual([{ path: web, kind: 'modified' }]);
    const shop = Object.values(status.projects).find((p: any) => p.name === 'shop') as any;
    expect(shop.inSync).toBe(false);
  });

  it('coalesces 1,000 updates to one project into a handful of reconciles; the last state wins', async () => {
    const id = await insertProject(t.db, 'burst');
    const svc = await insertService(t.db, id, 'app');
    const dom = await insertDomain(t.db, id, { domain: 'burst.example', ssl: false });
    const route = await insertRoute(t.db, dom, svc, { port: 1000 });
    s = await startTestSidecar(t.url, { interval: '30s' });
    await waitFor(async () => (await s!.get('/readyz')).status === 200);
    const count = async () =>
      (await s!.metric('traefik_sync_reconcile_total', { result: 'success' })) +
      (await s!.metric('traefik_sync_reconcile_total', { result: 'noop' }));
    const before = await count();
    // 1,000 commits in a burst, each with its NOTIFY: committed server-side without waiting for the
    // WAL flush, so the burst is fast whatever the load on the machine running the test (a client
    // loop slowed by load would space the commits out, and each would rightly get its own pass).
    const burstMs = await t.db.task(async (c) => {
      await c.query(sql`SET synchronous_commit = off`);
      await c.query(sql`SELECT set_config('tsync.route', ${route}, false)`);
      const [{ at: from }] = await c.query(sql`SELECT clock_timestamp() AS at`);
      await c.query(
        sql.__dangerous__rawValue(`DO $$ BEGIN FOR i IN 1..1000 LOOP
        UPDATE route_configs SET target_port = 1000 + i WHERE id = current_setting('tsync.route')::uuid; COMMIT; END LOOP; END $$`),
      );
      const [{ at: to }] = await c.query(sql`SELECT clock_timestamp() AS at`);
      return (to as Date).getTime() - (from as Date).getTime();
    });
    await waitFor(async () => (await read('dynamic/burst/services/app.yml'))?.includes('http://app:2000'), 15_000);
    await s.controller.idle();
    const reconciles = (await count()) - before;
    // Under 100 for a burst of up to a second (it takes ~0.2 s on a quiet machine); a machine so
    // loaded that PostgreSQL spreads the commits over longer rightly runs more passes: 100 a second.
    // One pass per commit (no coalescing) would be 1,000.
    const bound = 100 * Math.max(1, burstMs / 1000);
    expect(reconciles, `${reconciles} reconciles for 1,000 commits over ${burstMs} ms`).toBeLessThan(Math.min(bound, 999));
    expect(reconciles).toBeGreaterThan(0);
  });

  it('TRUNCATE domain_configs CASCADE deletes nothing and the guard metric counts it', async () => {
    await seedSample(t.db);
    s = await startTestSidecar(t.url, { interval: '30s' });
    await waitFor(async () => (await s!.get('/readyz')).status === 200);
    const snapshot = await read('dynamic/shop/services/api.yml');
    await t.db.query(sql`TRUNCATE domain_configs CASCADE`);
    await waitFor(async () => (await s!.metric('traefik_sync_delete_guard_blocked_total')) >= 1, 15_000);
    expect(await read('dynamic/shop/services/api.yml')).toBe(snapshot);
    const status = (await s.get('/api/v1/status')).json();
    expect(status.deleteGuardBlocked).toBe(true);
    expect(status.lastError).toMatch(/delete guard/);
  });

  it('a renewed certificate moves the expiry gauge without a restart (the alert clears)', async () => {
    await seedSample(t.db);
    s = await startTestSidecar(t.url, { interval: '30s' }); // no full pass after start: a project pass must do it
    const gauge = () => s!.metric('traefik_sync_certificate_not_after_timestamp_seconds', { domain: 'secure.shop.example' });
    await waitFor(async () => (await gauge()) === Date.parse('2036-01-01T00:00:00Z') / 1000);
    await t.db.query(sql`UPDATE certificates SET not_after = '2037-06-01T00:00:00Z'`);
    await waitFor(async () => (await gauge()) === Date.parse('2037-06-01T00:00:00Z') / 1000, 10_000);
  });

  it('serves probes, status and metrics with every docs/contract.md §6 name', async () => {
    await seedSample(t.db);
    s = await startTestSidecar(t.url);
    expect((await s.get('/healthz')).status).toBe(200);
    await waitFor(async () => (await s!.get('/readyz')).status === 200);
    const status = (await s.get('/api/v1/status')).json();
    expect(status).toMatchObject({ ready: true, databaseUp: true });
    expect(
      Object.values(status.projects)
        .map((p: any) => p.name)
        .sort(),
    ).toEqual(['blog', 'empty', 'shop']);
    await waitFor(async () => (await s!.metric('traefik_sync_listen_connected')) === 1);
    await waitFor(async () => (await s!.metric('traefik_sync_is_leader')) === 1, 5000);
    const text = (await s.get('/metrics')).text;
    for (const name of [
      'traefik_sync_reconcile_total',
      'traefik_sync_reconcile_duration_seconds',
      'traefik_sync_files_written_total',
      'traefik_sync_drift_files',
      'traefik_sync_drift_detected_total',
      'traefik_sync_projects_failed',
      'traefik_sync_last_success_timestamp_seconds',
      'traefik_sync_change_apply_seconds',
      'traefik_sync_db_up',
      'traefik_sync_listen_connected',
      'traefik_sync_queue_depth',
      'traefik_sync_is_leader',
      'traefik_sync_delete_guard_blocked_total',
      'traefik_sync_certificate_not_after_timestamp_seconds',
      'traefik_sync_volume_free_bytes',
      'traefik_sync_db_query_duration_seconds',
      'traefik_sync_traefik_restart_needed',
      'process_cpu_seconds_total',
    ])
      expect(text, name).toContain(`# TYPE ${name} `);
    await waitFor(
      async () =>
        (await s!.metric('traefik_sync_certificate_not_after_timestamp_seconds', { domain: 'secure.shop.example' })) ===
        Date.parse('2036-01-01T00:00:00Z') / 1000,
    );
    // The status row is written about once a second, not on every pass.
    const rows = await waitFor(async () => {
      const r = await t.db.query(sql`SELECT replica_id, last_success_at FROM sync_replicas`);
      return r.length ? r : null;
    }, 15_000);
    expect(rows).toHaveLength(1);
    expect(rows![0].last_success_at).toBeInstanceOf(Date);
    expect(text).toMatch(/traefik_sync_db_query_duration_seconds_count\{query="load_projects"\} [1-9]/);
    expect(text).not.toContain('test-secret-pw');
  });

  promtool.it('serves metrics that pass `promtool check metrics`', async () => {
    await seedSample(t.db);
    s = await startTestSidecar(t.url);
    await waitFor(async () => (await s!.get('/readyz')).status === 200);
    const text = (await s.get('/metrics')).text;
    expect(text).toContain('# TYPE traefik_sync_reconcile_total counter');
    execFileSync(promtool.path!, ['check', 'metrics'], { input: text, stdio: ['pipe', 'pipe', 'pipe'] });
  });
});
