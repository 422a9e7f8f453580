/**
 * The delete guard end to end: the real controller (`run`, in-process) on a real PostgreSQL, each
 * change arriving as it really does (NOTIFY per project; the projects of one statement reconciled
 * together). Every scenario is built to land exactly at, or one over, MAX_DELETE_FRACTION (0.5) on
 * one half while staying under the other (counts in guard-volume.ts). Refused: nothing on the
 * volume changes, `traefik_sync_delete_guard_blocked_total` counts it, the status says why.
 * Each test waits for the pass's outcome (the counter moves, or the files go), never a fixed time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { routerCount } from '../../src/render/serialize.js';
import { databaseForFile, emptyTables } from '../helpers/db.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';
import { changedPaths, snapshotTree } from '../reliability/support.js';
import { customDomains, deleteProjects, dropRoutes, dropSomeRoutes, emptyProjects, routed } from './guard-volume.js';

const t = databaseForFile();
let s: TestSidecar | undefined;
afterEach(async () => {
  await s?.stop();
  s = undefined;
  await emptyTables(t.db);
});

const MINUTE = 60_000;

/** Start the controller on the database as it is; resolves after its first full pass. */
async function start(now?: () => number): Promise<TestSidecar> {
  s = await startTestSidecar(t.url, { interval: '30s' }, now ? { now } : {});
  await waitFor(async () => s!.controller.synced, 15_000);
  await s.controller.idle();
  expect(await blocked()).toBe(0);
  return s;
}

const blocked = () => s!.metric('traefik_sync_delete_guard_blocked_total');
const gone = (rel: string) => !existsSync(path.join(s!.root, rel));
const routersIn = async (rel: string) => routerCount(await readFile(path.join(s!.root, rel), 'utf8'));

/**
 * Make `change` and wait for the pass it causes: refused (the guard's counter moves) or applied
 * (`applied()` holds). Returns which, and the tree before and after.
 */
async function outcome(change: () => Promise<void>, applied: () => boolean | Promise<boolean>) {
  const before = await snapshotTree(s!.root);
  const count = await blocked();
  await change();
  await waitFor(async () => (await blocked()) > count || (await applied()), 15_000);
  await s!.controller.idle();
  const after = await snapshotTree(s!.root);
  return { refused: (await blocked()) > count, changed: changedPaths(before, after), total: Object.keys(before).length };
}

/** A refusal: nothing changed on the volume, and the status names the guard. */
async function expectRefused(o: Awaited<ReturnType<typeof outcome>>, files: number): Promise<void> {
  expect(o.total).toBe(files);
  expect({ refused: o.refused, changed: o.changed }).toEqual({ refused: true, changed: [] });
  const status = s!.controller.status();
  expect(status.deleteGuardBlocked).toBe(true);
  expect(String(status.lastError)).toMatch(/^delete guard: the pass would delete/);
}

describe('the file half at the boundary (no router removed)', () => {
  it('deleting 4 empty projects, exactly 8 of 16 files, goes through', async () => {
    await routed(t.db, 'keep', 4); // 3 files, 4 routers
    await emptyProjects(t.db, 'e', 6); // 12 files: 16 with static/traefik.yml
    await start();
    const names = ['e-0', 'e-1', 'e-2', 'e-3'];
    const o = await outcome(
      () => deleteProjects(t.db, names),
      () => names.every((n) => gone(`dynamic/${n}`)),
    );
    expect(o.total).toBe(16);
    expect({ refused: o.refused, removed: o.changed.length }).toEqual({ refused: false, removed: 8 });
  });

  it('deleting 4 empty projects, 8 of 14 files (one over half), is refused: files over, routers under', async () => {
    await routed(t.db, 'keep', 4);
    await emptyProjects(t.db, 'e', 5); // 14 files
    await start();
    const names = ['e-0', 'e-1', 'e-2', 'e-3'];
    const o = await outcome(
      () => deleteProjects(t.db, names),
      () => names.some((n) => gone(`dynamic/${n}`)),
    );
    await expectRefused(o, 14);
    expect(s!.controller.status().lastError).toMatch(/delete 8 of 14 managed files and 0 of 4 routers/);
  });
});

describe('the router half at the boundary (files under)', () => {
  const volume = async () => {
    await routed(t.db, 'big', 10); // 3 files, 10 routers in services/app.yml
    await emptyProjects(t.db, 'e', 6); // 16 files in all
    await start();
  };
  const app = 'dynamic/big/services/app.yml';

  it('dropping 5 of 10 routes (the file is rewritten) goes through', async () => {
    await volume();
    const o = await outcome(
      () => dropSomeRoutes(t.db, 'big', 5),
      async () => (await routersIn(app)) === 5,
    );
    expect({ refused: o.refused, changed: o.changed }).toEqual({ refused: false, changed: [app] });
  });

  it('dropping 6 of 10 routes, no file removed, is refused', async () => {
    await volume();
    const o = await outcome(
      () => dropSomeRoutes(t.db, 'big', 6),
      async () => (await routersIn(app)) === 4,
    );
    await expectRefused(o, 16);
    expect(s!.controller.status().lastError).toMatch(/delete 0 of 16 managed files and 6 of 10 routers/);
  });

  it('dropping every route (1 of 16 files, 10 of 10 routers) is refused', async () => {
    await volume();
    const o = await outcome(
      () => dropRoutes(t.db, 'big'),
      () => gone(app),
    );
    await expectRefused(o, 16);
  });
});

describe('removals add up over the 10-minute window (injected clock)', () => {
  it('six single-route projects emptied one at a time go through; a seventh at 9 min 59 s is refused, an eighth after 10 min is not', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    for (let i = 0; i < 12; i++) await routed(t.db, `p${i}`, 1); // 37 files, 12 routers
    await start(() => now);
    const service = (i: number) => `dynamic/p${i}/services/app.yml`;
    for (let i = 0; i < 6; i++) {
      const o = await outcome(
        () => dropRoutes(t.db, `p${i}`),
        () => gone(service(i)),
      );
      expect({ pass: i + 1, refused: o.refused, changed: o.changed }).toEqual({ pass: i + 1, refused: false, changed: [service(i)] });
    }
    now += 9 * MINUTE + 59_000;
    const seventh = await outcome(
      () => dropRoutes(t.db, 'p6'),
      () => gone(service(6)),
    );
    await expectRefused(seventh, 31);
    expect(s!.controller.status().lastError).toMatch(/delete 7 of 37 managed files and 7 of 12 routers/);
    now += 1001; // the first six are now more than 10 minutes old
    const eighth = await outcome(
      () => dropRoutes(t.db, 'p7'),
      () => gone(service(7)),
    );
    expect({ refused: eighth.refused, changed: eighth.changed }).toEqual({ refused: false, changed: [service(7)] });
  });
});

describe('one deleted project versus several', () => {
  // "big": 3 files + 4 certificates and keys = 11 files, 8 routes + 4 redirect routers; two
  // single-route projects: 6 files, 2 routers. 18 files, 14 routers in all.
  const volume = async () => {
    const big = await routed(t.db, 'big', 8);
    await customDomains(t.db, big, 'big', 4);
    await routed(t.db, 'small-a', 1);
    await routed(t.db, 'small-b', 1);
    await start();
  };

  it('deleting ONE project holding 11 of 18 files and 12 of 14 routers goes through, and is not held against the next pass', async () => {
    await volume();
    const o = await outcome(
      () => deleteProjects(t.db, ['big']),
      () => gone('dynamic/big') && gone('ssl/keys/c3.big.example.key'),
    );
    expect(o.total).toBe(18);
    expect({ refused: o.refused, removed: o.changed.length }).toEqual({ refused: false, removed: 11 });
    // Its removals do not count in the window either: emptying small-a right after (1 of the 7
    // files left, 1 of 2 routers) goes through.
    const next = await outcome(
      () => dropRoutes(t.db, 'small-a'),
      () => gone('dynamic/small-a/services/app.yml'),
    );
    expect({ refused: next.refused, changed: next.changed }).toEqual({ refused: false, changed: ['dynamic/small-a/services/app.yml'] });
  });

  it('deleting it together with another project (14 of 18 files) in one statement is refused', async () => {
    await volume();
    const o = await outcome(
      () => deleteProjects(t.db, ['big', 'small-a']),
      () => gone('dynamic/big'),
    );
    await expectRefused(o, 18);
  });

  it('deleting two small projects together (6 of 18 files, 2 of 14 routers) goes through', async () => {
    await volume();
    const o = await outcome(
      () => deleteProjects(t.db, ['small-a', 'small-b']),
      () => gone('dynamic/small-a') && gone('dynamic/small-b'),
    );
    expect({ refused: o.refused, removed: o.changed.length }).toEqual({ refused: false, removed: 6 });
  });
});
