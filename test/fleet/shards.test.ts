/**
 * Shards (README "Shards"): replicas started with SHARD render only their shard's projects (the
 * static config is the same everywhere); a project moved to another shard under load is written
 * by every replica of the new shard before any replica of the old shard removes it (after
 * SHARD_DRAIN), and a move to a shard nobody serves is given up after SHARD_HANDOFF_TIMEOUT,
 * reported. The spec format carries the shard through apply, export, history and rollback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { sql } from '../../src/db/connect.js';
import { silentLogger } from '../../src/log.js';
import { TraefikSyncService } from '../../src/reconcile/sync-service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';
import { report, sleep } from '../reliability/support.js';

let t: TestDatabase;
let service: TraefikConfigService;
const replicas: Record<'a1' | 'a2' | 'b1' | 'b2', TestSidecar> = {} as never;
const DRAIN_MS = 1_000;

const spec = (name: string, shard: string, port: number) => ({
  name,
  shard,
  services: [{ name: 'web' }],
  domains: [{ domain: `${name}.example`, ssl: false, routes: [{ path: '/', service: 'web', targetPort: port }] }],
});
const file = (r: TestSidecar, project: string) => path.join(r.root, `dynamic/${project}/services/web.yml`);
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  t = await createTestDatabase();
  service = new TraefikConfigService(t.db, { actor: 'shard-test' });
  for (const [name, shard] of [
    ['alpha', 'a'],
    ['apple', 'a'],
    ['mover', 'a'],
    ['lost', 'a'],
    ['beta', 'b'],
    ['banana', 'b'],
  ] as const)
    await service.apply(spec(name, shard, 8000));
  const flags = (shard: string) => ({ interval: '2s', shard, 'shard-drain': `${DRAIN_MS}ms`, 'shard-handoff-timeout': '4s' });
  for (const name of ['a1', 'a2', 'b1', 'b2'] as const)
    replicas[name] = await startTestSidecar(t.url, flags(name[0]!), { replicaId: name });
  await waitFor(
    async () => (await Promise.all(Object.values(replicas).map((r) => r.get('/readyz')))).every((r) => r.status === 200),
    60_000,
    100,
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(replicas).map((r) => r.stop()));
  await t?.drop();
});

/** What a replica of `shard` would still change on `root` (nothing once it has caught up). */
async function pending(root: string, shard: string): Promise<string[]> {
  const svc = new TraefikSyncService({
    db: t.db,
    root,
    driftMode: 'repair',
    maxDeleteFraction: 1,
    log: silentLogger,
    shard: { name: shard, replicaId: 'preview', drainMs: DRAIN_MS, timeoutMs: 4_000 },
  });
  const p = await svc.preview();
  return [...p.changes.map((c) => `${c.op} ${c.path}`), ...p.failed.map((f) => `failed ${f.projectName}`)];
}

describe('sharded replicas', () => {
  it("render only their shard's projects, the same static config, and say which shard they serve", async () => {
    for (const [name, r] of Object.entries(replicas)) {
      const shard = name[0]!;
      for (const project of ['alpha', 'apple', 'mover', 'beta', 'banana'])
        expect(await exists(file(r, project)), `${name} ${project}`).toBe(
          project.startsWith(shard) || (shard === 'a' && project === 'mover'),
        );
      expect(await pending(r.root, shard)).toEqual([]);
      const status = (await r.get('/api/v1/status')).json();
      expect(status.shard).toBe(shard);
      expect(
        Object.values(status.projects as Record<string, { name: string }>)
          .map((p) => p.name)
          .sort(),
      ).toEqual(shard === 'a' ? ['alpha', 'apple', 'lost', 'mover'] : ['banana', 'beta']);
      expect(await r.metric('traefik_sync_shard_info', { shard })).toBe(1);
    }
    const statics = await Promise.all(Object.values(replicas).map((r) => readFile(path.join(r.root, 'static/traefik.yml'), 'utf8')));
    // Identical but for the file provider's directory (each test volume has its own path).
    const normalized = statics.map((s, i) => s.replaceAll(Object.values(replicas)[i]!.root, 'ROOT').replace(/^# checksum: .*$/m, ''));
    expect(normalized.slice(1)).toEqual([normalized[0], normalized[0], normalized[0]]);
  });

  it('a project moved from shard a to b under load: every b replica has it before any a replica removes it', async () => {
    // Load: changes to projects of both shards and to the project being moved, all along.
    let stopped = false;
    let commits = 0;
    const load = (async () => {
      const targets = [
        ['alpha', 'a'],
        ['beta', 'b'],
        ['mover', null], // no shard in its spec: applying it does not move it back
        ['banana', 'b'],
      ] as const;
      for (let i = 0; !stopped; i++) {
        const [name, shard] = targets[i % targets.length]!;
        const s = spec(name, shard ?? 'a', 9000 + i);
        await service.apply(shard === null ? { ...s, shard: undefined } : s);
        commits++;
      }
    })();
    // Where the project's file is, on each replica, every few milliseconds.
    const appeared = new Map<string, number>();
    const removed = new Map<string, number>();
    let bothAbsent = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const now = Date.now();
        const present = Object.fromEntries(
          await Promise.all(Object.entries(replicas).map(async ([n, r]) => [n, await exists(file(r, 'mover'))] as const)),
        );
        for (const [n, p] of Object.entries(present)) {
          if (n.startsWith('b') && p && !appeared.has(n)) appeared.set(n, now);
          if (n.startsWith('a') && !p && !removed.has(n)) removed.set(n, now);
        }
        if (!Object.values(present).some(Boolean)) bothAbsent++;
        await sleep(5);
      }
    })();
    await sleep(500);
    const [project] = await t.db.query(sql`SELECT id FROM projects WHERE name = 'mover'`);
    const movedAt = Date.now();
    await service.updateProject(project!.id as string, { shard: 'b' });
    await waitFor(() => removed.size === 2 && appeared.size === 2, 30_000, 20);
    stopped = true;
    await load;
    watching = false;
    await watcher;
    const lastAppeared = Math.max(...appeared.values());
    const firstRemoved = Math.min(...removed.values());
    report(
      `shard move under load (${commits} commits meanwhile): on every b replica ${lastAppeared - movedAt} ms after the move, removed from the first a replica ${firstRemoved - movedAt} ms after it`,
    );
    expect(firstRemoved).toBeGreaterThan(lastAppeared);
    expect(firstRemoved - lastAppeared).toBeGreaterThanOrEqual(DRAIN_MS - 100);
    expect(bothAbsent).toBe(0);
    const [h] = await t.db.query(sql`SELECT from_shard, to_shard FROM shard_handoffs WHERE project_id = ${project!.id}`);
    expect(h).toMatchObject({ from_shard: 'a', to_shard: 'b' });
    const writers = await t.db.query(sql`SELECT replica_id FROM shard_handoff_writes WHERE project_id = ${project!.id} ORDER BY 1`);
    expect(writers.map((w) => w.replica_id)).toEqual(['b1', 'b2']);
    // Both sides end where the database says: b has the project's latest state, a none of it.
    await waitFor(
      async () => (await Promise.all(Object.entries(replicas).map(([n, r]) => pending(r.root, n[0]!)))).every((p) => p.length === 0),
      30_000,
      250,
    );
  }, 90_000);

  it('a project moved to a shard no replica serves is removed after SHARD_HANDOFF_TIMEOUT, and that is reported', async () => {
    const [project] = await t.db.query(sql`SELECT id FROM projects WHERE name = 'lost'`);
    await service.updateProject(project!.id as string, { shard: 'c' });
    const a = replicas.a1;
    await waitFor(
      async () =>
        ((await a.get('/api/v1/status')).json().shardHandoffs.waiting as Array<{ project: string }>).some((h) => h.project === 'lost'),
      10_000,
      50,
    );
    expect(await exists(file(a, 'lost'))).toBe(true);
    await waitFor(async () => !(await exists(file(a, 'lost'))), 20_000, 50);
    // Reported once the pass that removed it has finished.
    const status = await waitFor(async () => {
      const st = (await a.get('/api/v1/status')).json();
      return st.shardHandoffs.timedOut >= 1 ? st : null;
    }, 10_000);
    expect(status.shardHandoffs.waiting).toEqual([]);
  }, 40_000);
});

describe('the spec format', () => {
  it('carries the shard: apply, export round trip, history, rollback', async () => {
    await service.apply(spec('roundtrip', 'edge-eu', 7000));
    const [row] = await t.db.query(sql`SELECT shard FROM projects WHERE name = 'roundtrip'`);
    expect(row?.shard).toBe('edge-eu');
    const exported = (await service.exportSpec('roundtrip')).yaml;
    expect(exported).toContain('shard: edge-eu');
    const { parse } = await import('yaml');
    expect((await service.apply(parse(exported), { dryRun: true })).changes).toEqual([]);
    const [{ id: before }] = await t.db.query(sql`SELECT max(id) AS id FROM audit_log`);
    await service.apply(spec('roundtrip', 'edge-us', 7000));
    const history = await service.history('roundtrip', { limit: 5 });
    expect(history.entries[0]!.summary).toContain('shard "edge-eu" → "edge-us"');
    await service.rollback('roundtrip', String(before));
    const [after] = await t.db.query(sql`SELECT shard FROM projects WHERE name = 'roundtrip'`);
    expect(after?.shard).toBe('edge-eu');
    // Omitted: the project stays in its shard.
    await service.apply({ ...spec('roundtrip', 'x', 7000), shard: undefined });
    expect((await t.db.query(sql`SELECT shard FROM projects WHERE name = 'roundtrip'`))[0]?.shard).toBe('edge-eu');
    await expect(service.apply(spec('roundtrip', 'Bad_Shard', 7000))).rejects.toThrow(/shard: expected a shard name/);
  });
});
