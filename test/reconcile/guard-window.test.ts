/**
 * The delete guard's window, through the sync service and a real PostgreSQL, on an injected clock:
 * removals applied by earlier passes within 10 minutes (the default) count with each new pass, so
 * a mass removal cannot get through as many small passes (one per project, as NOTIFYs bring
 * them); older ones no longer count. Both halves: routers (each pass drops one project's routes)
 * and files (each pass removes a certificate and its key, which define no routers).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { TraefikSyncService } from '../../src/reconcile/sync-service.js';
import { databaseForFile, emptyTables } from '../helpers/db.js';
import { tempDir } from '../helpers/temp-dir.js';
import { customDomains, dropRoutes, routed, uncustom } from './guard-volume.js';

const MINUTE = 60_000;

const t = databaseForFile();
beforeEach(async () => {
  await emptyTables(t.db);
});

/** A sync service on a fresh volume whose clock moves only when the test says so. */
async function service(): Promise<{ sync: TraefikSyncService; advance: (ms: number) => void }> {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const sync = new TraefikSyncService({
    db: t.db,
    root: await tempDir('tsync-window-'),
    driftMode: 'repair',
    maxDeleteFraction: 0.5,
    log: silentLogger,
    now: () => now, // no guardWindowMs: the default (10 minutes) is what is tested
  });
  return { sync, advance: (ms) => (now += ms) };
}

describe('router removals add up over 10 minutes', () => {
  // 12 projects of 1 route each: 37 files, 12 routers. Each pass drops one project's route (its
  // service file and 1 router): 6 passes remove 6 of 12 routers, the 7th would make it 7 of 12.
  let ids: Record<string, string>;
  beforeEach(async () => {
    ids = {};
    for (let i = 0; i < 12; i++) ids[`p${i}`] = await routed(t.db, `p${i}`, 1);
  });

  const drop = async (sync: TraefikSyncService, i: number) => {
    await dropRoutes(t.db, `p${i}`);
    return sync.syncProjects([ids[`p${i}`]!]);
  };

  it('six passes go through; the seventh, 9 min 59 s after the first, is refused', async () => {
    const { sync, advance } = await service();
    expect((await sync.syncAllProjects()).blocked).toBeNull();
    for (let i = 0; i < 6; i++) expect((await drop(sync, i)).blocked, `pass ${i + 1}`).toBeNull();
    advance(9 * MINUTE + 59_000);
    const r = await drop(sync, 6);
    expect(r.blocked).toMatchObject({ routersRemoved: 7, routersManaged: 12, deletes: 7, managed: 37, limit: 6 });
    expect(r.results.map((x) => x.status)).toEqual(['blocked']);
  });

  it('after 10 minutes the earlier removals no longer count: the seventh goes through', async () => {
    const { sync, advance } = await service();
    await sync.syncAllProjects();
    for (let i = 0; i < 6; i++) await drop(sync, i);
    advance(10 * MINUTE + 1);
    const r = await drop(sync, 6);
    expect(r.blocked).toBeNull();
    expect(r.results[0]).toMatchObject({ status: 'updated', deleted: 1 });
  });

  it('passes more than 10 minutes apart each stand alone: 11 of the 12 routers go, one at a time', async () => {
    const { sync, advance } = await service();
    await sync.syncAllProjects();
    for (let i = 0; i < 11; i++) {
      expect((await drop(sync, i)).blocked, `pass ${i + 1}`).toBeNull();
      advance(10 * MINUTE + 1);
    }
  });
});

describe('file removals add up over 10 minutes', () => {
  // One project with 6 custom-certificate domains (no routes): 2 + 12 files, + static = 15 files.
  // Each pass switches one domain to Let's Encrypt: its certificate and key go (2 files, 0
  // routers; the redirect router stays). 3 passes remove 6 of 15 files; the 4th would make 8 of 15.
  let id: string;
  beforeEach(async () => {
    id = await routed(t.db, 'certs', 0);
    await customDomains(t.db, id, 'certs', 6);
  });

  it('three passes go through; the fourth within the window is refused, after it goes through', async () => {
    const { sync, advance } = await service();
    await sync.syncAllProjects();
    expect(sync.managedFiles).toBe(15);
    for (let i = 0; i < 3; i++) {
      await uncustom(t.db, 'certs', i);
      const r = await sync.syncProjects([id]);
      expect(r.blocked, `pass ${i + 1}`).toBeNull();
      expect(r.results.find((x) => x.projectId === id)).toMatchObject({ deleted: 2 });
    }
    advance(5 * MINUTE);
    await uncustom(t.db, 'certs', 3);
    expect((await sync.syncProjects([id])).blocked).toMatchObject({ deletes: 8, managed: 15, routersRemoved: 0, limit: 7 });
    advance(5 * MINUTE + 1);
    expect((await sync.syncProjects([id])).blocked).toBeNull();
  });
});
