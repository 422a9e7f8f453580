/**
 * Two real controllers (in-process sidecars) on ONE PostgreSQL database, each with its own config
 * root and its own Lease leadership against ONE in-test Kubernetes API server, with
 * controller-runtime's timings (15 s lease, 10 s renew deadline, 2 s retry) on the real clock.
 *
 * Each replica connects as its own PostgreSQL role, so a statement trigger can tell which
 * replica ran the leader-only housekeeping (pruneOld's DELETE FROM drift_events).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { sql } from '../../src/db/connect.js';
import { silentLogger } from '../../src/log.js';
import { clusterIntegration } from '../../src/k8s/cluster.js';
import type { LeaseLeader } from '../../src/k8s/lease.js';
import { admin, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertDomain, insertProject, insertRoute, insertService, seedSample } from '../helpers/seed.js';
import { reconciles, startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';
import { expectWithin, timed } from '../helpers/timing.js';
import { startFakeApiServer, type FakeApiServer } from './fake-api-server.js';

const NS = 'edge';
const KEY = `${NS}/traefik-sync`;
const suffix = randomBytes(4).toString('hex');

let t: TestDatabase;
let server: FakeApiServer;
const roles = new Map<string, string>();
let running: Replica[] = [];
let sampler: NodeJS.Timeout | undefined;
let maxLeaders = 0;

interface Replica {
  readonly pod: string;
  readonly role: string;
  readonly s: TestSidecar;
  readonly leadership: LeaseLeader;
}

beforeAll(async () => {
  t = await createTestDatabase();
  server = await startFakeApiServer();
  await seedSample(t.db);
  await t.db.query(sql`
    CREATE TABLE prune_log (replica text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE FUNCTION log_prune() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO prune_log (replica) VALUES (current_user); RETURN NULL; END $$;
    CREATE TRIGGER drift_events_pruned AFTER DELETE ON drift_events FOR EACH STATEMENT EXECUTE FUNCTION log_prune();`);
});

afterAll(async () => {
  await server.close();
  await t.drop();
  for (const role of roles.values()) await admin(`DROP ROLE IF EXISTS ${role}`);
});

afterEach(async () => {
  clearInterval(sampler);
  await Promise.all(running.map((r) => r.s.stop()));
  running = [];
  server.leases.clear();
  await t.db.query(sql`TRUNCATE prune_log`);
});

/** A database URL logging in as a role of this replica's own (same privileges as the owner's tables). */
async function roleUrl(pod: string): Promise<{ url: string; role: string }> {
  let role = roles.get(pod);
  if (!role) {
    role = `tsync_${pod.replace(/\W/g, '_')}_${suffix}`;
    await admin(`CREATE ROLE ${role} LOGIN PASSWORD 'replica-pw'`);
    await t.db.query(
      sql.__dangerous__rawValue(
        `GRANT USAGE ON SCHEMA public TO ${role}; GRANT ALL ON ALL TABLES IN SCHEMA public TO ${role}; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${role};`,
      ),
    );
    roles.set(pod, role);
  }
  const url = new URL(t.url);
  url.username = role;
  url.password = 'replica-pw';
  return { url: url.toString(), role };
}

async function replica(pod: string, releaseOnStop = true): Promise<Replica> {
  const { url, role } = await roleUrl(pod);
  const config = loadConfig({ 'database-url': url }, { POD_NAME: pod, POD_NAMESPACE: NS });
  const cluster = await clusterIntegration(config, silentLogger, url, { kubeConfig: server.kubeConfig(`token-${pod}`, NS), releaseOnStop });
  expect(cluster.mode).toBe('kubernetes');
  let leadership: LeaseLeader | undefined;
  const s = await startTestSidecar(
    url,
    {},
    {
      replicaId: pod,
      events: cluster.events,
      housekeepingEveryMs: 200, // leader-only pruning on (almost) every tick
      leadership: (onChange) => (leadership = cluster.leadership(onChange) as LeaseLeader),
    },
  );
  const r = { pod, role, s, leadership: leadership! };
  running.push(r);
  return r;
}

/** Sample every 5 ms: never more than one replica may consider itself leader. */
function sampleLeaders(): void {
  maxLeaders = 0;
  sampler = setInterval(() => {
    maxLeaders = Math.max(maxLeaders, running.filter((r) => r.leadership.isLeader).length);
  }, 5);
}

async function leaderAndFollower(a: Replica, b: Replica): Promise<[Replica, Replica]> {
  await waitFor(async () => {
    const m = [await a.s.metric('traefik_sync_is_leader'), await b.s.metric('traefik_sync_is_leader')];
    return m[0]! + m[1]! === 1;
  }, 10_000);
  return a.leadership.isLeader ? [a, b] : [b, a];
}

/** Total passes a replica has finished (any result). */
const passes = (r: Replica) => reconciles(r.s);

/** NOTIFY '*' (a full resync request) and wait until every replica in `rs` has finished a pass after it. */
async function fullResyncOnBoth(rs: Replica[]): Promise<void> {
  const before = await Promise.all(rs.map(passes));
  await t.db.query(sql`SELECT pg_notify('traefik_sync', '*')`);
  await waitFor(async () => (await Promise.all(rs.map(passes))).every((n, i) => n > before[i]!), 5_000);
}

const prunedBy = async () => (await t.db.query(sql`SELECT replica FROM prune_log`)).map((r) => r.replica as string);
const fileIn = (r: Replica, rel: string) => existsSync(path.join(r.s.root, rel));

async function addProject(name: string): Promise<string> {
  const p = await insertProject(t.db, name);
  const svc = await insertService(t.db, p, 'app');
  const dom = await insertDomain(t.db, p, { domain: `${name}.example`, ssl: false });
  await insertRoute(t.db, dom, svc, { path: '/', port: 7000 });
  return `dynamic/${name}/services/app.yml`;
}

describe('two controllers, one database, one Lease', () => {
  it('exactly one leads; when it dies the other takes over within the lease duration; leader-only work runs on the leader; both write their own volumes', async () => {
    sampleLeaders();
    const a = await replica('traefik-a', false);
    const b = await replica('traefik-b', false);
    const [leader, follower] = await leaderAndFollower(a, b);
    expect(server.leases.get(KEY)!.spec.holderIdentity).toBe(leader.pod);
    expect(await leader.s.metric('traefik_sync_is_leader')).toBe(1);
    expect(await follower.s.metric('traefik_sync_is_leader')).toBe(0);
    expect((await leader.s.get('/api/v1/status')).json()).toMatchObject({ replica: leader.pod, leader: true });
    expect((await follower.s.get('/api/v1/status')).json()).toMatchObject({ replica: follower.pod, leader: false });

    // A route inserted by SQL reaches BOTH volumes.
    const file = await addProject('twin');
    await waitFor(() => fileIn(leader, file) && fileIn(follower, file), 5_000);
    // The database-side housekeeping (pruneOld, on the timer) runs on the leader only.
    await t.db.query(sql`TRUNCATE prune_log`);
    for (let i = 0; i < 3; i++) await fullResyncOnBoth([leader, follower]);
    await waitFor(async () => (await prunedBy()).length > 0, 15_000);
    // Three more prunes by the leader span two of its 1 s ticks: the follower (same interval ± 10 %,
    // same event loop) has ticked meanwhile, and would have pruned if it did.
    const pruned = (await prunedBy()).length;
    await waitFor(async () => (await prunedBy()).length >= pruned + 3, 15_000);
    expect(new Set(await prunedBy())).toEqual(new Set([leader.role]));

    // Kill the leader (no release: the Lease is left to expire, as after kill -9 or a node loss).
    let lastRenew = 0;
    const takeover = await timed(async () => {
      await leader.s.stop();
      running = running.filter((r) => r !== leader);
      lastRenew = Date.parse(server.leases.get(KEY)!.spec.renewTime);
      expect(server.leases.get(KEY)!.spec.holderIdentity).toBe(leader.pod);
      await waitFor(() => follower.leadership.isLeader, 40_000, 10);
    });
    const tookOverAt = Date.now();
    console.log(`takeover after kill: ${Math.round(takeover.ms)} ms after the kill, ${tookOverAt - lastRenew} ms after the last renewal`);
    expect(tookOverAt - lastRenew).toBeGreaterThanOrEqual(15_000); // never before the lease expired
    // The lease duration plus one jittered retry period, plus what the load delayed the timers by.
    expectWithin(takeover, 'takeover after the leader was killed', 0, 15_000 + 2_400, 1_000);
    expect(server.leases.get(KEY)!.spec).toMatchObject({ holderIdentity: follower.pod, leaseTransitions: 1 });
    await waitFor(async () => (await follower.s.metric('traefik_sync_is_leader')) === 1, 2_000);
    expect((await follower.s.get('/api/v1/status')).json()).toMatchObject({ leader: true });

    // The survivor keeps writing its volume and now does the leader-only work.
    const file2 = await addProject('after');
    await waitFor(() => fileIn(follower, file2), 5_000);
    expect(fileIn(leader, file2)).toBe(false); // the dead replica's volume no longer changes
    await t.db.query(sql`TRUNCATE prune_log`);
    await fullResyncOnBoth([follower]);
    await waitFor(async () => (await prunedBy()).length > 0, 15_000);
    expect(new Set(await prunedBy())).toEqual(new Set([follower.role]));
    expect(maxLeaders).toBe(1);
  }, 60_000);

  it('stopping the leader (SIGTERM) releases the Lease and the other takes over at its next retry', async () => {
    sampleLeaders();
    const a = await replica('traefik-a');
    const b = await replica('traefik-b');
    const [leader, follower] = await leaderAndFollower(a, b);
    await leader.s.stop();
    running = running.filter((r) => r !== leader);
    const takeover = await timed(() => waitFor(() => follower.leadership.isLeader, 30_000, 10));
    console.log(`takeover after release: ${Math.round(takeover.ms)} ms`);
    // One jittered retry period (plus what the load delayed the timers by), not the 15 s lease.
    expectWithin(takeover, 'takeover after the leader released the Lease', 0, 2_400, 1_000);
    expect(server.leases.get(KEY)!.spec).toMatchObject({ holderIdentity: follower.pod, leaseTransitions: 1 });
    const releases = server.requests.filter(
      (r) => r.token === `token-${leader.pod}` && r.method === 'PUT' && !r.body?.spec?.holderIdentity,
    );
    expect(releases).toHaveLength(1);
    expect(releases[0]!.body!.spec.leaseDurationSeconds).toBe(1);
    expect(maxLeaders).toBe(1);
  }, 30_000);

  it('two controllers racing to take over an expired Lease on the same resourceVersion: one wins, the 409 loser follows', async () => {
    server.putLease(NS, {
      metadata: { name: 'traefik-sync' },
      spec: {
        holderIdentity: 'traefik-gone',
        leaseDurationSeconds: 15,
        renewTime: new Date(Date.now() - 60_000).toISOString(),
        leaseTransitions: 2,
      },
    });
    server.holdLeaseReads(2); // both candidates read the same resourceVersion
    sampleLeaders();
    const before = server.requests.length;
    const [a, b] = await Promise.all([replica('traefik-a'), replica('traefik-b')]);
    const [leader, follower] = await leaderAndFollower(a, b);
    const puts = server.requests.slice(before).filter((r) => r.method === 'PUT');
    expect(
      puts
        .slice(0, 2)
        .map((r) => r.status)
        .sort(),
    ).toEqual([200, 409]);
    // Renewals go on (two more by the winner) while the loser keeps trying (twice more): it stays a follower.
    const mark = server.requests.length;
    const by = (r: Replica) => server.requests.slice(mark).filter((q) => q.token === `token-${r.pod}` && q.path.includes('/leases/'));
    await waitFor(() => by(leader).filter((q) => q.method === 'PUT' && q.status === 200).length >= 2 && by(follower).length >= 2, 20_000);
    expect(leader.leadership.isLeader).toBe(true);
    expect(follower.leadership.isLeader).toBe(false);
    expect(server.leases.get(KEY)!.spec).toMatchObject({ holderIdentity: leader.pod, leaseTransitions: 3 });
    expect(maxLeaders).toBe(1);
  }, 30_000);
});
