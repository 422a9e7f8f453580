/**
 * Promise (docs/contract.md §2, §4; README "Crash safety", per-project isolation): when writes fail — the
 * volume full (ENOSPC) or read-only (EROFS) — the old files stay intact byte for byte, no temp
 * file is left behind, the error is reported (project status, `traefik_sync_projects_failed`, the
 * log), and once space returns the next pass writes everything.
 *
 * The config root is a 2 MiB tmpfs mounted for this file (we are root in CI containers and this
 * sandbox); when mounting is not permitted the tests are skipped with the reason printed, and fail
 * with it in CI (test/helpers/requires.ts; a chmod'ed directory does not stop root, and
 * `chattr +i` cannot make ENOSPC).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { seedBench } from '../../src/bench/seed.js';
import { sql } from '../../src/db/connect.js';
import { takesWrites } from '../../src/fs/atomic.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedSample } from '../helpers/seed.js';
import { requirement } from '../helpers/requires.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';
import { captureLog, changedPaths, leftTempFiles, moreLogLines, pendingChanges, report, snapshotTree, treeProblems } from './support.js';

let base = '';
let mnt = '';
let mounted = false;
/** When the current fault was injected. */
let faultStart = 0;
let t: TestDatabase;
let s: TestSidecar;
const logs = captureLog('info');

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: 'pipe' });
}

/** Whether this machine lets us mount a tmpfs (decided before the tests are collected). */
const tmpfs = requirement(
  'tmpfs mounts (disk-fault tests)',
  (() => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsync-rel-mount-probe-'));
    try {
      sh('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
      sh('umount', [dir]);
      return null;
    } catch (err) {
      return `mount -t tmpfs is not permitted here (${String((err as Error).message).split('\n')[0]})`;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })(),
);

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'tsync-rel-disk-'));
  mnt = path.join(base, 'volume');
  await mkdir(mnt);
  if (tmpfs.missing) return;
  sh('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0755', 'tmpfs', mnt]);
  mounted = true;
  t = await createTestDatabase();
  await seedSample(t.db);
  await t.db.tx((tx) => seedBench(tx, 20));
  s = await startTestSidecar(t.url, { interval: '1s', 'config-dir': mnt }, { log: logs.log });
  await waitFor(async () => (await s.get('/readyz')).status === 200, 15_000);
}, 60_000);

afterAll(async () => {
  await s?.stop();
  await t?.drop();
  if (mounted) {
    try {
      sh('umount', [mnt]);
    } catch {
      sh('umount', ['-l', mnt]); // still busy: detach lazily so the folder can go
    }
  }
  if (base) await rm(base, { recursive: true, force: true });
});

/** Fill the volume with a file outside the managed folders until the filesystem says ENOSPC. */
async function fill(name = 'filler.bin'): Promise<number> {
  const fh = await open(path.join(mnt, name), 'w');
  let bytes = 0;
  try {
    for (;;) {
      await fh.write(Buffer.alloc(16 * 1024, 0x66));
      bytes += 16 * 1024;
    }
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
  } finally {
    await fh.close().catch(() => {});
  }
  return bytes;
}

/**
 * How long until every retry the controller has scheduled since `since` has run (from its
 * "retrying with backoff" log lines: time + retryInMs), plus `marginMs` for the pass itself. Retries back off
 * exponentially (500 ms doubling, ±20 %), so after a few seconds of failures the next one can be
 * 5 s away: a fixed wait would race the schedule.
 */
function untilScheduledRetries(since: number, marginMs: number): number {
  return Math.max(Date.now(), ...scheduledRetries(since).map((r) => r.dueAt)) - Date.now() + marginMs;
}

/** Per project, its latest "retrying with backoff" line logged since `since`: attempt and when the retry is due. */
function scheduledRetries(since: number): Array<{ project: string; attempt: number; dueAt: number }> {
  const latest = new Map<string, { project: string; attempt: number; dueAt: number }>();
  for (const line of logs.text().split('\n')) {
    if (!line.includes('retrying with backoff')) continue;
    const { time, project, attempt, retryInMs } = JSON.parse(line) as { time: string; project: string; attempt: number; retryInMs: number };
    if (Date.parse(time) >= since) latest.set(project, { project, attempt, dueAt: Date.parse(time) + retryInMs });
  }
  return [...latest.values()];
}

async function converged(timeoutMs: number): Promise<boolean> {
  return waitFor(
    async () => {
      const p = await pendingChanges(t.db, mnt);
      return p.changes.length === 0 && p.failed.length === 0;
    },
    timeoutMs,
    250,
  ).then(
    () => true,
    () => false,
  );
}

/** Make every project's files change (and grow). */
async function changeEverything(tag: string): Promise<void> {
  await t.db.query(sql`UPDATE route_configs SET target_port = target_port % 60000 + 1`);
  await t.db
    .query(sql`UPDATE route_configs SET middleware = ${JSON.stringify([{ headers: { customRequestHeaders: { 'X-Tag': `${tag} ${'z'.repeat(3000)}` } } }])}::jsonb
                       WHERE path_rule IN ('/', '/api')`);
}

/** Project status entries with an error. */
async function failedProjects(): Promise<Array<{ name: string; lastError: string }>> {
  const st = (await s.get('/api/v1/status')).json();
  return Object.values(st.projects as Record<string, { name: string; lastError: string | null }>)
    .filter((p) => p.lastError)
    .map((p) => ({ name: p.name, lastError: p.lastError! }));
}

/**
 * The fault: changes arrive while writes fail. Checks that the files are byte-identical, no temp
 * file is left, and the failure is reported; returns what was seen.
 */
async function underFault(label: string, code: RegExp, inject: () => Promise<unknown>): Promise<void> {
  expect(await converged(15_000)).toBe(true);
  faultStart = Date.now();
  const before = await snapshotTree(mnt);
  const free = await inject();
  await changeEverything(label);
  await waitFor(async () => (await s.metric('traefik_sync_projects_failed')) > 0, 10_000);
  await moreLogLines(logs, 'writing project files failed', 2); // more passes fail (NOTIFYs, a tick, retries)
  const during = await snapshotTree(mnt);
  const failed = await failedProjects();
  const left = await leftTempFiles(mnt); // a write in flight is not a leftover
  const logged = logs
    .text()
    .split('\n')
    .filter((l) => l.includes('writing project files failed') && code.test(l)).length;
  report(
    `disk faults: ${label}${free !== undefined ? ` (${free} bytes of filler)` : ''}: ${changedPaths(before, during).length} of ${Object.keys(before).length} files changed, ` +
      `${left.length} temp files left, ${failed.length} projects reported failed (e.g. ${JSON.stringify(failed[0]?.lastError)}), ` +
      `traefik_sync_projects_failed ${await s.metric('traefik_sync_projects_failed')}, ${logged} error log lines`,
  );
  expect(changedPaths(before, during)).toEqual([]);
  expect(left).toEqual([]);
  expect(await treeProblems(mnt)).toEqual([]);
  expect(failed.length).toBeGreaterThan(0);
  expect(failed.every((f) => code.test(f.lastError))).toBe(true);
  expect(logged).toBeGreaterThan(0);
}

describe('disk faults', () => {
  tmpfs.it(
    'ENOSPC (volume full): old files intact, no temp files, the error reported',
    async () => {
      await underFault('ENOSPC', /ENOSPC|no space/i, fill);
    },
    60_000,
  );

  // Regression (fixed: failed projects are retried with backoff). It was: a write failure made
  // the project's result "failed" but the pass does not throw, so the work queue never retries it;
  // the periodic tick re-queues projects only when the database fingerprint moved, and the disk
  // check only looks for files that changed. Input: volume full while every project changes, then
  // the filler removed. Expected: the next pass(es) write everything within a few intervals.
  // Actual: the failed projects stay stale (status failed) until the database changes them again.
  tmpfs.it(
    'ENOSPC: once space returns the next passes write everything, unprompted',
    async () => {
      await rm(path.join(mnt, 'filler.bin'));
      const waitMs = untilScheduledRetries(faultStart, 3000);
      const ok = await converged(waitMs);
      report(
        `disk faults: ENOSPC recovery without a database change, by the scheduled retries (within ${(waitMs / 1000).toFixed(1)} s): ${ok}`,
      );
      expect(ok).toBe(true);
    },
    30_000,
  );

  tmpfs.it(
    'ENOSPC: recovers once space returns and the database changes again',
    async () => {
      await rm(path.join(mnt, 'filler.bin'), { force: true });
      await t.db.query(sql`UPDATE route_configs SET priority = priority + 1`); // a change to every project
      expect(await converged(15_000)).toBe(true);
      await waitFor(async () => (await failedProjects()).length === 0, 5000, 100); // status follows the files within moments
      expect(await treeProblems(mnt)).toEqual([]);
    },
    30_000,
  );

  // A volume full for long: retries have backed off (the 6th is 16 s ± 20 % away, later ones up to
  // 5 minutes). Once a probe write succeeds, the periodic check (every 1 s here) queues them now.
  tmpfs.it(
    'ENOSPC for long: once space returns, the next periodic check writes everything, not the backoff',
    async () => {
      await underFault('ENOSPC (long)', /ENOSPC|no space/i, () => fill());
      // The static config must change too (a new ACME resolver): its write fails as well.
      await t.db.query(sql`UPDATE domain_configs SET ssl_provider = 'zerossl'
                         WHERE id = (SELECT id FROM domain_configs WHERE ssl_enabled AND is_active ORDER BY id LIMIT 1)`);
      await waitFor(
        () =>
          logs
            .text()
            .split('\n')
            .some((l) => l.includes('writing project files failed') && l.includes('"project":null')),
        10_000,
        50,
      );
      // The probe sees the volume as full while less than its 64 KiB is free: with 32 KiB free,
      // write(2) writes what fits and returns no error; the probe must not take that for success.
      const filler = path.join(mnt, 'filler.bin');
      const filler2 = path.join(mnt, 'filler-2.bin');
      let freedAt = 0;
      let nextRetry = 0;
      try {
        await truncate(filler, (await stat(filler)).size - 32 * 1024);
        expect(await takesWrites(mnt)).toBe(false);
        await fill('filler-2.bin');
        // The retries still to come: every logged retry not yet due, of a project or of the full
        // pass ('*'). Not only of the projects the status shows failing: with full passes beside
        // project passes that set moves, and a retry it missed wrote everything before the
        // periodic check could (one that already ran, or was dropped by a success, is in the past).
        const pendingRetries = async () => {
          const now = Date.now();
          return scheduledRetries(faultStart)
            .filter((r) => r.dueAt > now)
            .map((r) => r.dueAt);
        };
        // Wait until every failing project's next retry is more than 6 s away (their 6th: 12.8–19.2 s).
        await waitFor(
          async () => {
            const due = await pendingRetries();
            return due.length > 0 && Math.min(...due) - Date.now() > 6000;
          },
          60_000,
          50,
        );
        const due = await pendingRetries();
        freedAt = Date.now();
        nextRetry = Math.min(...due) - freedAt;
      } finally {
        await rm(filler, { force: true }); // also when failing: the next tests need the space
        await rm(filler2, { force: true });
      }
      const ok = await converged(nextRetry - 1500); // a tick (1 s ± 10 %) and a pass, before any retry is due
      report(
        `disk faults: long ENOSPC: written ${ok ? `${((Date.now() - freedAt) / 1000).toFixed(1)} s` : 'not'} after space returned; the earliest backoff retry was ${(nextRetry / 1000).toFixed(1)} s away`,
      );
      expect(nextRetry).toBeGreaterThan(5500); // else this would not tell the periodic check from the backoff
      expect(ok).toBe(true);
      // The files land before the pass records its results: status follows within moments.
      await waitFor(async () => (await failedProjects()).length === 0, 5000, 100);
      const since = logs
        .text()
        .split('\n')
        .filter((l) => l.includes('the volume takes writes again') && Date.parse(JSON.parse(l).time) >= freedAt);
      // Once per recovery at most. In some fresh-clone CI runs the files were written 0.5 s after
      // the space returned with no such line (every retry minutes away): another path wrote them
      // first, not yet explained; what users see (written at once, not at the backoff) holds.
      expect(since.length).toBeLessThanOrEqual(1);
      expect(await readFile(path.join(mnt, 'static/traefik.yml'), 'utf8')).toContain('zerossl');
    },
    120_000,
  );

  tmpfs.it(
    'EROFS (volume remounted read-only): old files intact, no temp files, the error reported',
    async () => {
      await underFault('EROFS', /EROFS|read-only/i, async () => sh('mount', ['-o', 'remount,ro', mnt]));
    },
    60_000,
  );

  // Regression, as for ENOSPC above (same cause). Input: remount rw after the failures. Expected: written
  // within a few intervals. Actual: stale until the database changes again.
  tmpfs.it(
    'EROFS: once the volume is writable again the next passes write everything, unprompted',
    async () => {
      sh('mount', ['-o', 'remount,rw', mnt]);
      const waitMs = untilScheduledRetries(faultStart, 3000);
      const ok = await converged(waitMs);
      report(
        `disk faults: EROFS recovery without a database change, by the scheduled retries (within ${(waitMs / 1000).toFixed(1)} s): ${ok}`,
      );
      expect(ok).toBe(true);
    },
    30_000,
  );

  tmpfs.it(
    'EROFS: recovers once writable and the database changes again',
    async () => {
      sh('mount', ['-o', 'remount,rw', mnt]);
      await t.db.query(sql`UPDATE route_configs SET priority = priority + 1`);
      expect(await converged(15_000)).toBe(true);
      await waitFor(async () => (await failedProjects()).length === 0, 5000, 100); // status follows the files within moments
      expect(await treeProblems(mnt)).toEqual([]);
    },
    30_000,
  );
});
