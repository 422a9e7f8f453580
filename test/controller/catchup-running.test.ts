/**
 * Intake.catchUp() (after a LISTEN reconnect, or a tick that saw the fingerprint move) must not
 * skip a project whose pass is RUNNING: that pass may have read the project before the missed
 * commit; the project runs once more.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from '../../src/db/connect.js';
import { loadVersions } from '../../src/db/load.js';
import { silentLogger } from '../../src/log.js';
import { Intake } from '../../src/controller/intake.js';
import { PeriodicCheck } from '../../src/controller/periodic-check.js';
import type { ReplicaState } from '../../src/controller/replica-state.js';
import { WorkQueue } from '../../src/queue/work-queue.js';
import { FakeClock } from '../k8s/fake-clock.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertProject } from '../helpers/seed.js';
import { waitFor } from '../helpers/sidecar.js';
import { tempDir } from '../helpers/temp-dir.js';

const flush = () => new Promise((r) => setImmediate(r));

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});

it('a change whose NOTIFY was lost is applied even if the project was mid-pass at catch-up', async () => {
  const x = await insertProject(t.db, 'x');
  const seen = new Map<string, number>();
  const version = async () => (await loadVersions(t.db)).get(x)!;
  seen.set(x, await version());

  let release: (() => void) | undefined;
  const passes: number[] = [];
  const queue = new WorkQueue<string>({
    quietMs: 1,
    maxWaitMs: 5,
    handler: async (keys) => {
      for (const k of keys) {
        const read = await version(); // the pass reads the project's rows ...
        passes.push(read);
        if (passes.length === 1)
          await new Promise<void>((r) => {
            release = r;
          }); // ... and takes a while
        seen.set(k, Math.max(read, seen.get(k) ?? -1));
      }
    },
  });
  const noop = { set() {}, inc() {} };
  // Typed, so that a rename in ReplicaState fails the type check instead of silently changing the test.
  const state: Pick<ReplicaState, 'synced' | 'projectCount' | 'seenVersion' | 'recordIdle'> = {
    synced: true,
    projectCount: 100,
    seenVersion: (id: string) => seen.get(id) ?? -1,
    recordIdle() {},
  };
  const metrics = { queueDepth: noop, volumeFreeBytes: noop } as any;
  const intake = new Intake({ db: t.db, root: '/nonexistent', sync: { projectsListed: 0 } as any, queue, state: state as any, metrics });
  const periodic = new PeriodicCheck({
    db: t.db,
    root: await tempDir('tsync-cu-'),
    sync: { verifyDisk: async () => new Set(), projectsListed: 0 } as any,
    metrics,
    log: silentLogger,
    intervalMs: 60_000,
    queue,
    intake,
    state: state as any,
    watcher: null,
    listener: { ping: async () => true } as any,
    onDatabase: () => {},
  });
  await periodic.tick(); // fingerprint as of now

  queue.add(x); // a pass of x starts (e.g. a file event) and reads x
  await waitFor(() => passes.length === 1 && release !== undefined); // it has read x and is under way
  expect(queue.isRunning(x)).toBe(true);
  // A change to x is committed; its NOTIFY is lost (LISTEN connection silently dead).
  await t.db.query(sql`UPDATE projects SET name = 'x2' WHERE id = ${x}`);
  const committed = await version();
  await periodic.tick(); // fingerprint moved: catch up ... x must not be skipped although it is running
  release!();
  await queue.idle();
  await periodic.tick();
  await queue.idle();
  expect({ lastPassRead: passes.at(-1), seen: seen.get(x) }).toEqual({ lastPassRead: committed, seen: committed });
});

it('running projects are re-run without counting toward a burst, also when the burst becomes a full pass', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) ids.push(await insertProject(t.db, `burst-${i}`));
  const [r0, r1, r2, r3, w, m0] = ids as [string, string, string, string, string, string];
  const others = ids.slice(6);
  /** A queue on a fake clock whose handler holds every batch until the end; `running` are started. */
  const setup = async (running: string[], stale: string[]) => {
    const clock = new FakeClock();
    const releases: Array<() => void> = [];
    const queue = new WorkQueue<string>({
      timers: clock,
      quietMs: 5,
      maxWaitMs: 50,
      batchSize: 10,
      alone: (k) => k === '*',
      handler: () =>
        new Promise<void>((r) => {
          releases.push(r);
        }),
    });
    for (const id of running) queue.add(id);
    clock.advance(5);
    await flush();
    expect(running.every((id) => queue.isRunning(id))).toBe(true);
    const noop = { set() {}, inc() {} };
    const state: Pick<ReplicaState, 'synced' | 'projectCount' | 'seenVersion'> = {
      synced: true,
      projectCount: 100,
      seenVersion: (id: string) => (stale.includes(id) ? -1 : Number.MAX_SAFE_INTEGER),
    };
    const intake = new Intake({
      db: t.db,
      root: '/nonexistent',
      sync: { projectsListed: 0 } as any,
      queue,
      state: state as any,
      metrics: { queueDepth: noop } as any,
    });
    const done = async () => {
      for (;;) {
        const r = releases.shift();
        if (!r) break;
        r();
        await flush();
      }
      await queue.stop();
    };
    return { queue, intake, done };
  };

  // Four running, one waiting (not started: it reads the current rows), one idle: 5 ≥ the burst
  // threshold only if the running ones counted.
  {
    const { queue, intake, done } = await setup([r0, r1, r2, r3], [r0, r1, r2, r3, w, m0]);
    queue.add(w);
    expect(await intake.catchUp()).toBe(5);
    expect(queue.has('*')).toBe(false);
    expect(queue.depth).toBe(6); // r0..r3 due again after their run, w and m0 waiting
    await done();
  }
  // Five idle projects moved: one full pass. It runs beside the running passes and leaves their
  // projects to them (src/reconcile/full-pass.ts), so those still run once more after.
  {
    const { queue, intake, done } = await setup([r0, r1], [r0, r1, r2, r3, w, m0, ...others]);
    expect(await intake.catchUp()).toBe(7);
    expect(queue.has('*')).toBe(true);
    expect(queue.depth).toBe(3); // the full pass, r0 and r1 due again
    await done();
  }
});
