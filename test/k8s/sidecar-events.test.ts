/**
 * Kubernetes Events from a real controller (in-process sidecar, real PostgreSQL) in Kubernetes
 * mode against the in-test API server: drift becomes a DriftDetected Event on the pod, and a
 * drift storm costs a handful of API calls.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { clusterIntegration } from '../../src/k8s/cluster.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertDomain, insertProject, insertRoute, insertService, seedSample } from '../helpers/seed.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';
import { startFakeApiServer, type FakeApiServer } from './fake-api-server.js';

const NS = 'edge';
const POD = 'traefik-5f7c9-abcde';

let t: TestDatabase;
let server: FakeApiServer;
let s: TestSidecar | undefined;

beforeAll(async () => {
  t = await createTestDatabase();
  server = await startFakeApiServer();
  await seedSample(t.db);
  for (let i = 0; i < 20; i++) {
    const p = await insertProject(t.db, `storm-${i}`);
    const svc = await insertService(t.db, p, 'app');
    const dom = await insertDomain(t.db, p, { domain: `storm-${i}.example`, ssl: false });
    await insertRoute(t.db, dom, svc, { path: '/', port: 7000 });
  }
});
afterAll(async () => {
  await server.close();
  await t.drop();
});
afterEach(async () => {
  await s?.stop();
  s = undefined;
  server.events.clear();
  server.requests.length = 0;
});

async function sidecar(): Promise<TestSidecar> {
  const config = loadConfig({ 'database-url': t.url }, { POD_NAME: POD, POD_NAMESPACE: NS });
  const cluster = await clusterIntegration(config, silentLogger, t.url, {
    kubeConfig: server.kubeConfig('pod-token', NS),
    podUid: 'pod-uid-1',
  });
  s = await startTestSidecar(t.url, {}, { replicaId: POD, leadership: cluster.leadership, events: cluster.events });
  await waitFor(async () => (await s!.get('/readyz')).status === 200, 10_000);
  return s;
}

const eventCalls = () => server.requests.filter((r) => r.path.startsWith(`/api/v1/namespaces/${NS}/events`));
const driftEvents = () => [...server.events.values()].filter((e) => e.reason === 'DriftDetected');

async function driftTotal(sc: TestSidecar): Promise<number> {
  const text = (await sc.get('/metrics')).text;
  return [...text.matchAll(/^traefik_sync_drift_detected_total\{[^}]*\} (\S+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

describe('Kubernetes Events from the controller', () => {
  it('a hand edit of a managed file becomes a DriftDetected Warning Event on the pod', async () => {
    const sc = await sidecar();
    const file = path.join(sc.root, 'dynamic/shop/middleware.yml');
    await writeFile(file, `${await readFile(file, 'utf8')}\n# hand edit\n`);
    await waitFor(() => driftEvents().length > 0, 10_000);
    const [ev] = driftEvents();
    expect(ev).toMatchObject({
      type: 'Warning',
      involvedObject: { kind: 'Pod', name: POD, namespace: NS, uid: 'pod-uid-1' },
      source: { component: 'traefik-sync' },
      count: 1,
    });
    expect(ev!.message).toContain('dynamic/shop/middleware.yml modified');
  });

  it('a drift storm (every dynamic file removed) costs at most 10 API calls at once; the rest arrive combined, counted', async () => {
    const sc = await sidecar();
    const files = (await readdir(path.join(sc.root, 'dynamic'), { recursive: true })).filter((f) => f.endsWith('.yml'));
    expect(files.length).toBeGreaterThanOrEqual(50);
    const stormAt = Date.now();
    const before = eventCalls().length;
    await Promise.all(files.map((f) => rm(path.join(sc.root, 'dynamic', f), { force: true })));
    await waitFor(async () => (await driftTotal(sc)) >= 50, 15_000);
    // The rest waits for a token (one per 10 s) and arrives as one combined Event with its count.
    await waitFor(() => driftEvents().some((e) => e.message.startsWith('(combined from similar events): ')), 30_000, 100);
    // However slow this machine: by any moment, at most the burst of 10 plus one call per 10 s
    // since the storm began (the server logs each call when it arrives, after it was sent).
    const calls = eventCalls().slice(before);
    console.log(`drift storm: ${await driftTotal(sc)} drift occurrences → ${calls.length} Event API calls`);
    calls.forEach((c, i) =>
      expect(i + 1, `call ${i + 1}, ${c.at - stormAt} ms after the storm`).toBeLessThanOrEqual(10 + Math.floor((c.at - stormAt) / 10_000)),
    );
    expect(calls.filter((c) => c.at - stormAt < 10_000).length).toBeLessThanOrEqual(10);
    expect(calls.length).toBeGreaterThan(1);
    const counted = driftEvents().reduce((n, e) => n + e.count, 0);
    expect(counted).toBeGreaterThanOrEqual(50);
    expect(counted).toBeLessThanOrEqual(await driftTotal(sc));
  }, 40_000);
});
