/** Choosing the cluster integration: Lease + Events in Kubernetes, advisory lock + log otherwise. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { AdvisoryLockLeader } from '../../src/db/leader.js';
import { createLogger } from '../../src/log.js';
import { clusterIntegration, discoverKubeConfig, podUidFromToken } from '../../src/k8s/cluster.js';
import { LeaseLeader } from '../../src/k8s/lease.js';
import { waitFor } from '../helpers/sidecar.js';
import { startFakeApiServer, type FakeApiServer } from './fake-api-server.js';

const DB = 'postgres://sync@127.0.0.1:1/none';
let server: FakeApiServer;
let logs: Array<Record<string, any>>;
let dir: string;

const log = () =>
  createLogger(
    'info',
    new Writable({
      write(chunk, _e, done) {
        logs.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  );
const config = (env: Record<string, string> = {}) => loadConfig({ 'database-url': DB }, env);

beforeEach(async () => {
  server = await startFakeApiServer();
  logs = [];
  dir = await mkdtemp(path.join(tmpdir(), 'tsync-k8s-'));
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('clusterIntegration', () => {
  it('is standalone (advisory lock, events to the log) without POD_NAME and POD_NAMESPACE, and says why', async () => {
    const c = await clusterIntegration(config(), log(), DB, { kubeConfig: server.kubeConfig() });
    expect(c.mode).toBe('standalone');
    expect(c.leadership(() => {})).toBeInstanceOf(AdvisoryLockLeader);
    c.events.emit('DriftDetected', 'dynamic/a/domains.yml missing', 'Warning');
    expect(logs.find((l) => l.msg === 'event')).toMatchObject({
      reason: 'DriftDetected',
      type: 'Warning',
      event: 'dynamic/a/domains.yml missing',
    });
    expect(logs[0]).toMatchObject({ cluster: 'standalone', reason: 'POD_NAME and POD_NAMESPACE not set' });
    expect(server.requests).toEqual([]);
  });

  it('is standalone when the pod settings are set but no credentials exist', async () => {
    const c = await clusterIntegration(config({ POD_NAME: 'p', POD_NAMESPACE: 'ns' }), log(), DB, { kubeConfig: null });
    expect(c.mode).toBe('standalone');
    expect(logs[0]).toMatchObject({ cluster: 'standalone', reason: 'no Kubernetes credentials found' });
  });

  it('in Kubernetes leads by the traefik-sync Lease in POD_NAMESPACE as POD_NAME and writes Events on the pod', async () => {
    const c = await clusterIntegration(config({ POD_NAME: 'traefik-abc', POD_NAMESPACE: 'edge' }), log(), DB, {
      kubeConfig: server.kubeConfig('t', 'other'),
      podUid: 'u-1',
    });
    expect(c.mode).toBe('kubernetes');
    expect(logs[0]).toMatchObject({
      cluster: 'kubernetes',
      server: server.url,
      lease: 'edge/traefik-sync',
      identity: 'traefik-abc',
      podUid: 'u-1',
    });
    let leading = false;
    const leader = c.leadership((on) => {
      leading = on;
    });
    expect(leader).toBeInstanceOf(LeaseLeader);
    leader.start();
    await waitFor(() => leading, 2_000, 5);
    expect(server.leases.get('edge/traefik-sync')?.spec.holderIdentity).toBe('traefik-abc');
    c.events.emit('SyncRecovered', 'project shop is in sync again');
    await waitFor(() => server.events.size > 0, 2_000, 5);
    const [ev] = server.events.values();
    expect(ev).toMatchObject({
      involvedObject: { kind: 'Pod', name: 'traefik-abc', namespace: 'edge', uid: 'u-1' },
      reason: 'SyncRecovered',
      type: 'Normal',
    });
    await leader.stop();
    expect(server.leases.get('edge/traefik-sync')?.spec.holderIdentity).toBeUndefined();
  });

  it('discovers credentials from KUBECONFIG, and finds none without a kubeconfig or service account', async () => {
    const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
    try {
      const file = path.join(dir, 'config');
      await writeFile(
        file,
        [
          'apiVersion: v1',
          'kind: Config',
          'current-context: fake',
          'clusters: [{name: fake, cluster: {server: "http://127.0.0.1:6443"}}]',
          'users: [{name: u, user: {token: abc}}]',
          'contexts: [{name: fake, context: {cluster: fake, user: u}}]',
        ].join('\n'),
      );
      process.env.KUBECONFIG = file;
      expect((await discoverKubeConfig(log()))?.getCurrentCluster()?.server).toBe('http://127.0.0.1:6443');
      delete process.env.KUBECONFIG;
      process.env.HOME = dir; // no ~/.kube/config there
      if (!existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) expect(await discoverKubeConfig(log())).toBeNull();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it.each([
    ['this pod', { 'kubernetes.io': { pod: { name: 'traefik-abc', uid: 'u-42' } } }, 'u-42'],
    ['another pod', { 'kubernetes.io': { pod: { name: 'other', uid: 'u-1' } } }, undefined],
    ['a legacy token without pod claims', { sub: 'system:serviceaccount:edge:traefik-sync' }, undefined],
  ])('reads the pod UID from a projected service-account token of %s', async (_what, claims, want) => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const token = path.join(dir, 'token');
    await writeFile(token, `${b64({ alg: 'RS256' })}.${b64(claims)}.signature`);
    expect(podUidFromToken(token, 'traefik-abc')).toBe(want);
    expect(podUidFromToken(path.join(dir, 'missing'), 'traefik-abc')).toBeUndefined();
  });
});
