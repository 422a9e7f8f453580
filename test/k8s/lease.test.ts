/**
 * LeaseLeader against the in-test API server, on a fake clock: controller-runtime's timings
 * (15 s lease, 10 s renew deadline, 2 s retry) run in milliseconds of real time.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { checkTimings, LeaseLeader, type LeaseLeaderOptions } from '../../src/k8s/lease.js';
import { waitFor } from '../helpers/sidecar.js';
import { FakeClock } from './fake-clock.js';
import { startFakeApiServer, type FakeApiServer } from './fake-api-server.js';

const NS = 'edge';
const KEY = `${NS}/traefik-sync`;
const LEASE_PATH = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`;

let server: FakeApiServer;
let clock: FakeClock;
let leaders: LeaseLeader[];
let cut: Set<string>;
/** Replicas that believe they lead, counted from onChange; and the most ever at once. */
let holders: number;
let maxHolders: number;

beforeEach(async () => {
  server = await startFakeApiServer();
  clock = new FakeClock();
  leaders = [];
  cut = new Set();
  holders = 0;
  maxHolders = 0;
});

afterEach(async () => {
  for (const token of cut) server.heal(token);
  await Promise.all(leaders.map((l) => l.stop()));
  await server.close();
});

function candidate(identity: string, extra: Partial<LeaseLeaderOptions> = {}): LeaseLeader {
  const leader = new LeaseLeader({
    kubeConfig: server.kubeConfig(identity, NS),
    namespace: NS,
    identity,
    log: silentLogger,
    timers: clock,
    random: () => 0,
    onChange: (on) => {
      holders += on ? 1 : -1;
      maxHolders = Math.max(maxHolders, holders);
    },
    ...extra,
  });
  leaders.push(leader);
  tokenOf.set(leader, identity);
  return leader;
}

const byToken = (token: string) => server.requests.filter((r) => r.token === token);
const writes = (token: string) => byToken(token).filter((r) => r.method !== 'GET');
const lease = () => server.leases.get(KEY)!;
const partition = (token: string) => {
  cut.add(token);
  server.partition(token);
};

/** Let every attempt in flight finish (partitioned replicas' calls hang until their deadline). */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await Promise.all(leaders.filter((l) => !cut.has(tokenOf.get(l)!)).map((l) => l.idle()));
    await new Promise((r) => setImmediate(r));
  }
}
const tokenOf = new Map<LeaseLeader, string>();

/** Advance fake time in steps; at every step at most one replica may consider itself leader. */
async function run(ms: number, step = 100): Promise<void> {
  for (let t = 0; t === 0 || t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await settle();
    expect(leaders.filter((l) => l.isLeader).length).toBeLessThanOrEqual(1);
  }
}

function start(...ids: string[]): LeaseLeader[] {
  return ids.map((id) => {
    const l = candidate(id);
    l.start();
    return l;
  });
}

describe('LeaseLeader', () => {
  it('creates the Lease when it is absent and leads; a second candidate only reads', async () => {
    const [a] = start('pod-a');
    await run(0);
    await settle();
    expect(a!.isLeader).toBe(true);
    expect(lease().spec).toMatchObject({ holderIdentity: 'pod-a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    expect(Date.parse(lease().spec.renewTime)).toBe(clock.now());
    expect(lease().spec.renewTime).toMatch(/\.\d{6}Z$/); // MicroTime

    const [b] = start('pod-b');
    await run(10_000);
    expect(b!.isLeader).toBe(false);
    expect(writes('pod-b')).toEqual([]);
    expect(byToken('pod-b').every((r) => r.method === 'GET' && r.status === 200)).toBe(true);
  });

  it('renews every retry period while leading, each time on the resourceVersion it wrote', async () => {
    const [a] = start('pod-a');
    await run(0);
    const created = lease().metadata.resourceVersion;
    await run(10_000);
    const renewals = writes('pod-a').filter((r) => r.method === 'PUT');
    expect(renewals).toHaveLength(5);
    expect(renewals.every((r) => r.status === 200)).toBe(true);
    expect(renewals[0]!.body!.metadata.resourceVersion).toBe(created);
    expect(Date.parse(lease().spec.renewTime)).toBe(clock.now());
    expect(lease().spec.leaseTransitions).toBe(0);
    expect(a!.isLeader).toBe(true);
  });

  it("takes over a dead holder's Lease only once renewTime + leaseDurationSeconds has passed, counting the transition", async () => {
    server.putLease(NS, {
      metadata: { name: 'traefik-sync' },
      spec: {
        holderIdentity: 'pod-dead',
        leaseDurationSeconds: 15,
        renewTime: new Date(clock.now() - 5_000).toISOString(),
        leaseTransitions: 3,
      },
    });
    const [a] = start('pod-a');
    await run(9_900);
    expect(a!.isLeader).toBe(false);
    expect(lease().spec.holderIdentity).toBe('pod-dead');
    await run(200);
    expect(a!.isLeader).toBe(true);
    expect(lease().spec).toMatchObject({ holderIdentity: 'pod-a', leaseTransitions: 4 });
    expect(Date.parse(lease().spec.acquireTime)).toBe(Date.parse(lease().spec.renewTime));
  });

  it('two candidates creating the absent Lease at once: one 201, one 409 AlreadyExists, one leader', async () => {
    server.holdLeaseReads(2);
    const [a, b] = start('pod-a', 'pod-b');
    await run(0);
    await run(4_000);
    const creates = server.requests.filter((r) => r.method === 'POST');
    expect(creates.map((r) => r.status).sort()).toEqual([201, 409]);
    expect([a!.isLeader, b!.isLeader].filter(Boolean)).toHaveLength(1);
    expect(maxHolders).toBe(1);
  });

  it('two candidates taking over on the same resourceVersion: the loser gets 409 Conflict and stays a follower', async () => {
    server.putLease(NS, {
      metadata: { name: 'traefik-sync' },
      spec: {
        holderIdentity: 'pod-dead',
        leaseDurationSeconds: 15,
        renewTime: new Date(clock.now() - 60_000).toISOString(),
        leaseTransitions: 7,
      },
    });
    server.holdLeaseReads(2);
    const [a, b] = start('pod-a', 'pod-b');
    await run(0);
    const puts = server.requests.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(2);
    expect(puts[0]!.body!.metadata.resourceVersion).toBe(puts[1]!.body!.metadata.resourceVersion);
    expect(puts.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(lease().spec.leaseTransitions).toBe(8);
    await run(20_000);
    expect([a!.isLeader, b!.isLeader].filter(Boolean)).toHaveLength(1);
    expect(lease().spec.leaseTransitions).toBe(8);
    expect(maxHolders).toBe(1);
  });

  it('repeated deliberately racing takeovers among four replicas never yield two leaders', async () => {
    const all = start('pod-a', 'pod-b', 'pod-c', 'pod-d');
    await run(0);
    let transitions = lease().spec.leaseTransitions;
    for (let round = 0; round < 2; round++) {
      const leader = all.find((l) => l.isLeader)!;
      expect(leader).toBeDefined();
      // Kill the leader without releasing; make every survivor read the same resourceVersion.
      await leader.stop();
      leaders.splice(leaders.indexOf(leader), 1);
      all.splice(all.indexOf(leader), 1);
      const conflictsBefore = server.requests.filter((r) => r.method === 'PUT' && r.status === 409).length;
      server.holdLeaseReads(all.length);
      await run(20_000);
      expect(all.filter((l) => l.isLeader)).toHaveLength(1);
      expect(lease().spec.leaseTransitions).toBe(transitions + 1);
      transitions = lease().spec.leaseTransitions;
      // Every loser of this round's race got 409 Conflict.
      expect(server.requests.filter((r) => r.method === 'PUT' && r.status === 409).length - conflictsBefore).toBe(all.length - 1);
    }
    expect(maxHolders).toBe(1);
  }, 20_000);

  it('steps down when it cannot renew within the renew deadline, before another replica may take over', async () => {
    const [a, b] = start('pod-a', 'pod-b');
    await run(0);
    await run(1_000);
    expect(a!.isLeader).toBe(true);
    const lastRenew = Date.parse(lease().spec.renewTime);
    partition('pod-a');
    let steppedDown = 0;
    let tookOver = 0;
    for (let t = 0; t < 20_000; t += 100) {
      await run(100);
      if (!steppedDown && !a!.isLeader) steppedDown = clock.now();
      if (!tookOver && b!.isLeader) tookOver = clock.now();
    }
    expect(steppedDown - lastRenew).toBeLessThanOrEqual(10_000);
    expect(tookOver - lastRenew).toBeGreaterThanOrEqual(15_000);
    expect(tookOver - lastRenew).toBeLessThanOrEqual(15_000 + 2_000 + 100);
    expect(lease().spec).toMatchObject({ holderIdentity: 'pod-b', leaseTransitions: 1 });
    expect(maxHolders).toBe(1);
    // Back on the network, pod-a sees pod-b's valid lease and stays a follower.
    server.heal('pod-a');
    cut.delete('pod-a');
    await run(10_000);
    expect(a!.isLeader).toBe(false);
    expect(b!.isLeader).toBe(true);
  });

  it('keeps leading through API errors shorter than the renew deadline', async () => {
    const [a] = start('pod-a');
    await run(0);
    server.failWith(500);
    await run(8_000);
    expect(a!.isLeader).toBe(true);
    server.failWith(0);
    await run(2_000);
    expect(a!.isLeader).toBe(true);
    expect(lease().spec.leaseTransitions).toBe(0);
    expect(holders).toBe(1);
  });

  it('releases the Lease on stop, so another replica takes over at its next retry', async () => {
    const [a, b] = start('pod-a', 'pod-b');
    await run(0);
    await run(3_000);
    const transitions = lease().spec.leaseTransitions;
    await a!.stop();
    expect(a!.isLeader).toBe(false);
    expect(lease().spec.holderIdentity).toBeUndefined();
    expect(lease().spec.leaseDurationSeconds).toBe(1);
    expect(lease().spec.leaseTransitions).toBe(transitions);
    const stoppedAt = clock.now();
    let tookOver = 0;
    for (let t = 0; t < 5_000 && !tookOver; t += 100) {
      await run(100);
      if (b!.isLeader) tookOver = clock.now();
    }
    expect(tookOver - stoppedAt).toBeLessThanOrEqual(2_000 * 1.2);
    expect(lease().spec).toMatchObject({ holderIdentity: 'pod-b', leaseTransitions: transitions + 1 });
  });

  it('stop without holding the Lease writes nothing', async () => {
    const [a] = start('pod-a');
    await run(0);
    const [b] = start('pod-b');
    await run(2_000);
    expect(a!.isLeader).toBe(true);
    await b!.stop();
    expect(writes('pod-b')).toEqual([]);
  });

  it('with releaseOnStop false, stop leaves the Lease to expire (like a killed process)', async () => {
    const a = candidate('pod-a', { releaseOnStop: false });
    a.start();
    await run(0);
    expect(a.isLeader).toBe(true);
    const before = writes('pod-a').length;
    await a.stop();
    expect(writes('pod-a')).toHaveLength(before);
    expect(lease().spec.holderIdentity).toBe('pod-a');
    expect(a.isLeader).toBe(false);
  });

  it('stop on an unreachable API server: stops leading at once, gives up releasing after the renew deadline', async () => {
    const [a] = start('pod-a');
    await run(0);
    partition('pod-a');
    const sent = server.requests.length;
    clock.advance(2_000); // the renewal is sent and hangs
    await waitFor(() => server.requests.length > sent);
    expect(server.requests.at(-1)).toMatchObject({ method: 'PUT', status: 0 });
    let stopped = false;
    const stopping = a!.stop().then(() => {
      stopped = true;
    });
    // Time stands still: the release reaches the server and hangs there until the fake clock moves.
    await waitFor(() => server.requests.length > sent + 1 || stopped);
    await new Promise((r) => setImmediate(r));
    expect(server.requests.at(-1)).toMatchObject({ method: 'PUT', status: 0 });
    expect(a!.isLeader).toBe(false);
    expect(holders).toBe(0);
    expect(stopped).toBe(false); // the release is waiting for an answer
    clock.advance(10_000);
    await stopping;
    expect(lease().spec.holderIdentity).toBe('pod-a'); // left to expire
  });

  it.each([
    [{ leaseDurationMs: 15_500, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }, /whole number of seconds/],
    [{ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }, /greater than the renew deadline/],
    [{ leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }, /retry period/],
  ])('rejects inconsistent timings %j', (timings, message) => {
    expect(() => checkTimings(timings)).toThrow(message);
  });
});
