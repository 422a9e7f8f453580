/**
 * "Traefik restart needed" (src/reconcile/static-restart.ts): Traefik reads static/traefik.yml
 * only at start, so a pass that changes it — here a project taking an ACME resolver the static
 * config did not have — is reported by the sync report, the metric, the log (once), the
 * /api/v1/status snapshot, until the file is again what Traefik started with or the controller
 * (with its pod) restarts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { sql } from '../../src/db/connect.js';
import { silentLogger } from '../../src/log.js';
import { ReplicaState } from '../../src/controller/replica-state.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { StaticRestartTracker } from '../../src/reconcile/static-restart.js';
import { TraefikSyncService } from '../../src/reconcile/sync-service.js';
import { databaseForFile, emptyTables } from '../helpers/db.js';
import { seedSample, type SampleIds } from '../helpers/seed.js';
import { tempDir } from '../helpers/temp-dir.js';
import { captureLog } from '../reliability/support.js';

const t = databaseForFile();
let root: string;
let ids: SampleIds;

const service = () => new TraefikSyncService({ db: t.db, root, driftMode: 'repair', maxDeleteFraction: 0.5, log: silentLogger });
const setProvider = (provider: string | null) =>
  t.db.query(sql`UPDATE domain_configs SET ssl_provider = ${provider} WHERE project_id = ${ids.blog}`);

beforeEach(async () => {
  await emptyTables(t.db);
  root = await tempDir('tsync-restart-');
  ids = await seedSample(t.db);
});

describe('the tracker', () => {
  it('needed from the first differing file until the file is back; changed only when the answer changes', () => {
    const r = new StaticRestartTracker();
    r.atStart('sha256:a');
    r.atStart('sha256:ignored');
    expect(r.observe('sha256:a', new Date(1000))).toMatchObject({ needed: false, changed: false, since: null });
    expect(r.observe('sha256:b', new Date(2000))).toMatchObject({ needed: true, changed: true, since: '1970-01-01T00:00:02.000Z' });
    expect(r.observe('sha256:c', new Date(3000))).toMatchObject({ needed: true, changed: false, since: '1970-01-01T00:00:02.000Z' });
    expect(r.observe('sha256:a', new Date(4000))).toMatchObject({ needed: false, changed: true, since: null, reason: null });
  });

  it('with no static file at start, the first one written is what Traefik starts with', () => {
    const r = new StaticRestartTracker();
    r.atStart(null);
    expect(r.observe('sha256:a', new Date(1000)).needed).toBe(false);
    expect(r.observe('sha256:b', new Date(2000)).needed).toBe(true);
  });
});

describe('through the sync service and the replica state', () => {
  it('a new ACME resolver in use changes the static file: restart needed (report, metric, one log line, status) until a restart', async () => {
    const sync = service();
    const first = await sync.syncAllProjects();
    expect(first.traefikRestart).toMatchObject({ needed: false });

    const metrics = createMetrics({ defaultMetrics: false });
    const captured = captureLog('info');
    const state = new ReplicaState({ db: t.db, metrics, log: captured.log, replicaId: 'restart-test' });
    await state.recordPass(first, 0);
    const gauge = async () => (await metrics.traefikRestartNeeded.get()).values[0]?.value;
    expect(await gauge()).toBe(0);

    await setProvider('zerossl');
    const changed = await sync.syncProjectConfigs(ids.blog);
    expect(changed.traefikRestart).toMatchObject({ needed: true, changed: true, reason: expect.stringMatching(/restart Traefik/) });
    await state.recordPass(changed);
    // Later passes leave the static file as it is: still needed, logged once.
    const again = await sync.syncAllProjects();
    expect(again.traefikRestart).toMatchObject({ needed: true, changed: false, since: changed.traefikRestart!.since });
    await state.recordPass(again, 0);
    expect(await gauge()).toBe(1);
    expect(state.snapshot().traefikRestart).toEqual({
      needed: true,
      since: changed.traefikRestart!.since,
      reason: changed.traefikRestart!.reason,
    });
    expect(captured.text().match(/Traefik restart needed/g)).toHaveLength(1);

    // The pod restarts (Traefik with it): the file on the volume is what Traefik now runs.
    expect((await service().syncAllProjects()).traefikRestart).toMatchObject({ needed: false });

    // Without a restart, going back to the resolvers Traefik started with clears it too.
    await setProvider(null);
    const back = await sync.syncAllProjects();
    expect(back.traefikRestart).toMatchObject({ needed: false, changed: true });
    await state.recordPass(back, 0);
    expect(await gauge()).toBe(0);
    expect(captured.text()).toMatch(/Traefik restart no longer needed/);
  });
});
