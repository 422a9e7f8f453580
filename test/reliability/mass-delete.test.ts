/**
 * Promise (docs/contract.md §4, README "Delete guard"): a pass that would remove more than MAX_DELETE_FRACTION
 * of the managed files, or of the routers they define, is refused — nothing on the volume changes,
 * `traefik_sync_delete_guard_blocked_total` counts it and /api/v1/status says why. A truncated
 * table, a wrong database or an empty result therefore never wipes Traefik's config; deleting ONE
 * project (a tombstoned row DELETE) still goes through.
 *
 * test/controller/controller.test.ts already checks one file and the metric after TRUNCATE domain_configs;
 * here every scenario compares the whole tree byte for byte on a volume of 100+ files, with a
 * running controller (`run`, in-process) that sees each change the way it really arrives
 * (NOTIFY per project for row deletes, '*' for TRUNCATE, a fresh process for a wrong database).
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { seedBench } from '../../src/bench/seed.js';
import { sql } from '../../src/db/connect.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedSample } from '../helpers/seed.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';
import { changedPaths, report, snapshotTree } from './support.js';

const PROJECTS = 20; // + 3 sample projects ⇒ 114 files
/** Registers clean-up for the test that owns a resource (tests below run side by side). */
type Done = (fn: () => Promise<void>) => void;

async function database(done: Done): Promise<TestDatabase> {
  const t = await createTestDatabase();
  done(async () => {
    await t.drop().catch(() => {});
  });
  return t;
}

async function seeded(done: Done): Promise<TestDatabase> {
  const t = await database(done);
  await t.db.tx((tx) => seedBench(tx, PROJECTS));
  await seedSample(t.db);
  return t;
}

async function sidecar(done: Done, url: string, root?: string): Promise<TestSidecar> {
  const s = await startTestSidecar(url, { interval: '1s', ...(root ? { 'config-dir': root } : {}) });
  done(async () => {
    await s.stop().catch(() => {});
  });
  await waitFor(async () => (await s.get('/readyz')).status === 200 || (await s.get('/api/v1/status')).json().deleteGuardBlocked, 15_000);
  return s;
}

/**
 * After the fault, wait for the guard to refuse a pass, and then another (a retry or a periodic
 * check coming back to it), then check: the tree is byte-identical, the guard counted, the status
 * names the guard.
 */
async function expectGuardHolds(s: TestSidecar, before: Record<string, string>, label: string): Promise<void> {
  await waitFor(async () => (await s.metric('traefik_sync_delete_guard_blocked_total')) >= 2, 30_000);
  await s.controller.idle();
  const after = await snapshotTree(s.root);
  const changed = changedPaths(before, after);
  const status = (await s.get('/api/v1/status')).json();
  const counted = await s.metric('traefik_sync_delete_guard_blocked_total');
  report(
    `mass delete: ${label}: ${changed.length} of ${Object.keys(before).length} files changed or removed, ` +
      `guard blocked ${counted} pass(es), status.lastError ${JSON.stringify(status.lastError)?.slice(0, 140)}`,
  );
  expect(changed, `${label}: files changed`).toEqual([]);
  expect(counted).toBeGreaterThanOrEqual(2);
  expect(status.deleteGuardBlocked).toBe(true);
  expect(String(status.lastError)).toMatch(/delete guard/);
}

// Each scenario has its own database, sidecar and volume: they run side by side.
describe.concurrent('mass delete: the guard holds', () => {
  // Regression: these used to slip through as one small per-project pass per project (fixed:
  // removals add up over a window, and a multi-project burst becomes one full pass).
  for (const fault of [
    'TRUNCATE projects CASCADE',
    'TRUNCATE domain_configs CASCADE',
    'DELETE FROM route_configs',
    'DELETE FROM domain_configs',
    'DELETE FROM services',
  ]) {
    it(`${fault} under a running controller: nothing is deleted, the guard counts and says why`, async ({ onTestFinished }) => {
      const t = await seeded(onTestFinished);
      const s = await sidecar(onTestFinished, t.url);
      const before = await snapshotTree(s.root);
      expect(Object.keys(before).length).toBeGreaterThan(100);
      await t.db.query(sql.__dangerous__rawValue(fault));
      await expectGuardHolds(s, before, fault);
    });
  }

  it('a wrong database (empty but migrated) for the same volume: nothing is deleted', async ({ onTestFinished }) => {
    const t = await seeded(onTestFinished);
    const first = await sidecar(onTestFinished, t.url);
    const before = await snapshotTree(first.root);
    await first.stop();
    const wrong = await database(onTestFinished);
    const s = await sidecar(onTestFinished, wrong.url, first.root);
    await expectGuardHolds(s, before, 'wrong (empty) database');
    // Its own first pass was refused, so it is ready only because the volume holds a finished config
    // (Traefik serves it; taking Traefik out of its Service would turn a refused pass into an outage).
    expect((await s.get('/api/v1/status')).json()).toMatchObject({ ready: true, readySource: 'volume', deleteGuardBlocked: true });
  });

  it('a database where every project exists but has no domains (same ids): nothing is deleted', async ({ onTestFinished }) => {
    const t = await seeded(onTestFinished);
    const first = await sidecar(onTestFinished, t.url);
    const before = await snapshotTree(first.root);
    await first.stop();
    const bare = await database(onTestFinished);
    const rows = await t.db.query(sql`SELECT id, name FROM projects`);
    for (const r of rows) await bare.db.query(sql`INSERT INTO projects (id, name) VALUES (${r.id}, ${r.name})`);
    const s = await sidecar(onTestFinished, bare.url, first.root);
    await expectGuardHolds(s, before, 'projects without domains');
  });

  it('deleting ONE project out of many (tombstoned) goes through, the others stay byte-identical', async ({ onTestFinished }) => {
    const t = await seeded(onTestFinished);
    const s = await sidecar(onTestFinished, t.url);
    const before = await snapshotTree(s.root);
    await t.db.query(sql`DELETE FROM projects WHERE name = 'shop'`);
    await waitFor(() => !existsSync(path.join(s.root, 'dynamic/shop')), 5000);
    await s.controller.idle();
    const after = await snapshotTree(s.root);
    const changed = changedPaths(before, after);
    expect(changed.every((p) => p.startsWith('dynamic/shop/') || p.startsWith('ssl/'))).toBe(true);
    expect(changed.filter((p) => p in after)).toEqual([]); // only removals
    expect(await s.metric('traefik_sync_delete_guard_blocked_total')).toBe(0);
    report(
      `mass delete: one tombstoned project delete went through: ${changed.length} files removed, ${Object.keys(after).length} untouched, guard 0`,
    );
  });

  it('deleting ONE project with `sync --once` semantics (a full pass) also goes through', async ({ onTestFinished }) => {
    const t = await seeded(onTestFinished);
    const s = await sidecar(onTestFinished, t.url);
    await s.stop();
    const before = await snapshotTree(s.root);
    await t.db.query(sql`DELETE FROM projects WHERE name = 'bench-00001'`);
    const again = await sidecar(onTestFinished, t.url, s.root);
    await again.controller.idle();
    const after = await snapshotTree(again.root);
    const changed = changedPaths(before, after);
    expect(changed.length).toBe(5);
    expect(changed.filter((p) => p in after)).toEqual([]); // only removals
    expect(changed.every((p) => p.startsWith('dynamic/bench-00001/'))).toBe(true);
    expect(await again.metric('traefik_sync_delete_guard_blocked_total')).toBe(0);
  });
});

describe('mass delete: explicit deletes of every project', () => {
  // docs/contract.md §4: a pass deleting more than the fraction is refused. Deleting ONE project is exempt
  // (explicit and audited); deleting every project in one statement is a mass removal like any other.
  it('DELETE FROM projects (every row, tombstones) is a mass removal: the guard holds', async ({ onTestFinished }) => {
    const t = await seeded(onTestFinished);
    const s = await sidecar(onTestFinished, t.url);
    const before = await snapshotTree(s.root);
    await t.db.query(sql`DELETE FROM projects`);
    await expectGuardHolds(s, before, 'DELETE FROM projects');
  });

  // The other side of the window (README: "Deleting one project … does not count"): an operator
  // retiring most projects one statement at a time must not be stopped by the guard.
  it('deleting 15 of 23 projects one at a time (separate statements, tombstoned) goes through', async ({ onTestFinished }) => {
    const t = await seeded(onTestFinished);
    const s = await sidecar(onTestFinished, t.url);
    const names = Array.from({ length: 15 }, (_, i) => `bench-${String(i + 1).padStart(5, '0')}`);
    for (const name of names) {
      await t.db.query(sql`DELETE FROM projects WHERE name = ${name}`);
      await waitFor(() => !existsSync(path.join(s.root, 'dynamic', name)), 30_000);
    }
    await s.controller.idle();
    const left = names.filter((n) => existsSync(path.join(s.root, 'dynamic', n)));
    const blocked = await s.metric('traefik_sync_delete_guard_blocked_total');
    report(
      `mass delete: 15 of 23 projects deleted one statement at a time: ${15 - left.length} removed, ${left.length} kept, guard blocked ${blocked} pass(es)`,
    );
    expect(left).toEqual([]);
    expect(blocked).toBe(0);
  }, 60_000);
});
