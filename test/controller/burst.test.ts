/**
 * A burst of notifications (gathered for 2 ms) becomes one full pass only for a transaction that
 * touched many projects: the delete guard judges such a transaction as a whole. Commits of other
 * transactions that arrive in the same moment get project passes at once. Before, they were
 * folded into the full pass and waited until it reached them: 42 s and 48 s at 10,000 projects in
 * the benchmark (README "Benchmark"), for a change that alone takes milliseconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Intake } from '../../src/controller/intake.js';
import { FULL } from '../../src/controller/keys.js';
import { ReplicaState } from '../../src/controller/replica-state.js';
import { sql } from '../../src/db/connect.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { WorkQueue } from '../../src/queue/work-queue.js';
import { TraefikSyncService } from '../../src/reconcile/sync-service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { tempDir } from '../helpers/temp-dir.js';

let t: TestDatabase;
let ids: string[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  const rows = await t.db.query(sql`INSERT INTO projects (name) SELECT 'p-' || i FROM generate_series(1, 40) i RETURNING id`);
  ids = rows.map((r) => r.id as string);
});
afterAll(async () => {
  await t?.drop();
});

/** An intake whose queue records the batches it would run (nothing is run). */
async function intake() {
  const batches: string[][] = [];
  const queue = new WorkQueue<string>({
    handler: async (keys) => {
      batches.push(keys);
    },
    batchSize: 64,
    alone: (key) => key === FULL,
    quietMs: 1,
    maxWaitMs: 5,
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const state = new ReplicaState({ db: t.db, metrics, log: silentLogger, replicaId: 'burst-test' });
  const root = await tempDir('tsync-burst-');
  const sync = new TraefikSyncService({ db: t.db, root, driftMode: 'repair', maxDeleteFraction: 0.5, log: silentLogger });
  const i = new Intake({ db: t.db, root, sync, queue, state, metrics });
  const settled = async () => {
    await new Promise((r) => setTimeout(r, 50));
    await queue.idle();
    return batches.flat();
  };
  return { i, settled, stop: () => queue.stop() };
}

let n = 0;
/** Change projects (a domain added to each): one transaction for all of `group`. */
const touch = (group: readonly string[]) => {
  const tag = `d${++n}`;
  return t.db.query(sql`INSERT INTO domain_configs (project_id, domain, full_domain)
    SELECT id, ${tag} || '.' || name || '.example', ${tag} || '.' || name || '.example' FROM projects WHERE id = ANY(${[...group]}::uuid[])`);
};

describe('a burst of notifications', () => {
  it('one transaction over many projects is one full pass; a small commit arriving with it gets its own pass', async () => {
    const bulk = ids.slice(0, 20);
    const single = ids[30]!;
    await touch(bulk);
    await touch([single]);
    const { i, settled, stop } = await intake();
    // Delivered together, as after a busy moment of the event loop.
    for (const id of [...bulk, single]) i.notified(id);
    const ran = await settled();
    await stop();
    expect(ran.filter((k) => k === FULL)).toHaveLength(1);
    expect(ran).toContain(single);
    expect(ran.filter((k) => bulk.includes(k))).toEqual([]);
  });

  it('part of a bulk transaction arriving alone is still its full pass (the transaction is counted in the database)', async () => {
    const bulk = ids.slice(0, 20);
    const single = ids[35]!;
    await touch(bulk);
    await touch([single]);
    const { i, settled, stop } = await intake();
    for (const id of [...bulk.slice(0, 2), single]) i.notified(id);
    const ran = await settled();
    await stop();
    expect(ran.filter((k) => k === FULL)).toHaveLength(1);
    expect(ran).toContain(single);
    expect(ran.filter((k) => bulk.includes(k))).toEqual([]);
  });

  it('many small commits arriving together are project passes, not a full pass', async () => {
    const group = ids.slice(0, 12);
    for (const id of group) await touch([id]);
    const { i, settled, stop } = await intake();
    for (const id of group) i.notified(id);
    const ran = await settled();
    await stop();
    expect(ran).not.toContain(FULL);
    expect([...ran].sort()).toEqual([...group].sort());
  });
});
