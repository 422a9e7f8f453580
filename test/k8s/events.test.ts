/** KubeEventSink against the in-test API server, on a fake clock. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';
import { clipBytes, KubeEventSink, type KubeEventSinkOptions } from '../../src/k8s/events.js';
import { FakeClock } from './fake-clock.js';
import { startFakeApiServer, type FakeApiServer } from './fake-api-server.js';

const NS = 'edge';
const POD = 'traefik-7d9c5b6f4-x2x8q';

let server: FakeApiServer;
let clock: FakeClock;
let logs: Array<Record<string, any>>;

beforeEach(async () => {
  server = await startFakeApiServer();
  clock = new FakeClock();
  logs = [];
});
afterEach(async () => {
  await server.close();
});

function sink(extra: Partial<KubeEventSinkOptions> = {}): KubeEventSink {
  const out = new Writable({
    write(chunk, _enc, done) {
      logs.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return new KubeEventSink({
    kubeConfig: server.kubeConfig('tok', NS),
    namespace: NS,
    podName: POD,
    podUid: 'uid-1',
    log: createLogger('info', out),
    timers: clock,
    ...extra,
  });
}

const calls = () => server.requests.filter((r) => r.path.startsWith(`/api/v1/namespaces/${NS}/events`));
const stored = () => [...server.events.values()];

describe('KubeEventSink', () => {
  it('creates a core/v1 Event on the pod with the reason, message, type, source and count 1', async () => {
    const s = sink();
    s.emit('DriftDetected', 'dynamic/shop/services/api.yml modified (repaired)', 'Warning');
    await s.idle();
    expect(calls()).toHaveLength(1);
    const [ev] = stored();
    expect(ev).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace: NS },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: POD, namespace: NS, uid: 'uid-1' },
      reason: 'DriftDetected',
      type: 'Warning',
      message: 'dynamic/shop/services/api.yml modified (repaired)',
      source: { component: 'traefik-sync' },
      reportingComponent: 'traefik-sync',
      reportingInstance: POD,
      count: 1,
    });
    expect(ev!.metadata.name).toMatch(new RegExp(`^${POD}\\.[0-9a-f]+$`));
    expect(Date.parse(ev!.firstTimestamp)).toBe(clock.now());
    expect(ev!.lastTimestamp).toBe(ev!.firstTimestamp);
  });

  it('a repeat within the window patches count and lastTimestamp of the same Event (strategic merge)', async () => {
    const s = sink();
    s.emit('SyncFailed', 'project shop: bad port', 'Warning');
    await s.idle();
    const first = clock.now();
    for (let i = 0; i < 2; i++) {
      clock.advance(60_000);
      s.emit('SyncFailed', 'project shop: bad port', 'Warning');
      await s.idle();
    }
    expect(calls().map((r) => r.method)).toEqual(['POST', 'PATCH', 'PATCH']);
    expect(calls()[1]!.contentType).toBe('application/strategic-merge-patch+json');
    expect(calls()[1]!.body).toMatchObject({ count: 2 });
    const [ev] = stored();
    expect(stored()).toHaveLength(1);
    expect(ev!.count).toBe(3);
    expect(Date.parse(ev!.firstTimestamp)).toBe(first);
    expect(Date.parse(ev!.lastTimestamp)).toBe(clock.now());
  });

  it('a repeat after the window creates a new Event; so does one the server has expired', async () => {
    const s = sink();
    s.emit('SyncRecovered', 'project shop is in sync again');
    await s.idle();
    clock.advance(11 * 60_000);
    s.emit('SyncRecovered', 'project shop is in sync again');
    await s.idle();
    expect(calls().map((r) => r.method)).toEqual(['POST', 'POST']);
    server.events.clear(); // the API server's event TTL
    clock.advance(1_000);
    s.emit('SyncRecovered', 'project shop is in sync again');
    await s.idle();
    expect(
      calls()
        .map((r) => `${r.method} ${r.status}`)
        .slice(2),
    ).toEqual(['PATCH 404', 'POST 201']);
    expect(stored()[0]).toMatchObject({ count: 1, type: 'Normal' });
  });

  it('a burst of 50 identical drift events is one API call with count 50', async () => {
    const s = sink();
    for (let i = 0; i < 50; i++) s.emit('DriftDetected', 'dynamic/shop/domains.yml missing (repaired)', 'Warning');
    await s.idle();
    expect(calls()).toHaveLength(1);
    expect(stored()[0]!.count).toBe(50);
  });

  it('a burst of 50 different drift events: 10 Events at once, the other 40 combined into one when a token frees', async () => {
    const s = sink();
    for (let i = 0; i < 50; i++) s.emit('DriftDetected', `dynamic/p${i}/domains.yml modified (repaired)`, 'Warning');
    await s.idle();
    expect(calls()).toHaveLength(10);
    clock.advance(9_000);
    await s.idle();
    expect(calls()).toHaveLength(10);
    clock.advance(1_000);
    await s.idle();
    expect(calls()).toHaveLength(11);
    const combined = stored().find((e) => e.message.startsWith('(combined from similar events): '))!;
    expect(combined).toMatchObject({ count: 40, message: '(combined from similar events): dynamic/p49/domains.yml modified (repaired)' });
    expect(stored().reduce((n, e) => n + e.count, 0)).toBe(50);
  });

  it('a steady storm for 10 minutes costs at most the burst plus one call per 10 s', async () => {
    const s = sink();
    for (let t = 0; t < 600_000; t += 500) {
      s.emit('DriftDetected', `dynamic/p${t % 7}/domains.yml modified (repaired)`, 'Warning');
      s.emit('SyncFailed', `reconcile failed: attempt ${t}`, 'Warning');
      clock.advance(500);
      await s.idle();
    }
    expect(calls().length).toBeLessThanOrEqual(10 + 60);
    // Once the storm is over the waiting counts drain, a token at a time: nothing is lost.
    for (let t = 0; t < 120_000; t += 10_000) {
      clock.advance(10_000);
      await s.idle();
    }
    expect(stored().reduce((n, e) => n + e.count, 0)).toBe(2 * 1200);
  });

  it('failures are logged as warnings with the event, never thrown', async () => {
    const s = sink();
    server.failWith(500);
    expect(() => s.emit('DeleteGuardBlocked', 'delete guard: refused', 'Warning')).not.toThrow();
    await s.idle();
    const warn = logs.find((l) => l.msg === 'could not write Kubernetes Event');
    expect(warn).toMatchObject({ level: 'warn', reason: 'DeleteGuardBlocked', event: 'delete guard: refused', count: 1 });
    expect(warn!.error).toMatch(/^HTTP 500 InternalError/);
    await server.close();
    server = await startFakeApiServer(); // the old port is closed now: connection refused
    s.emit('DeleteGuardBlocked', 'delete guard: refused again', 'Warning');
    await s.idle();
    expect(logs.filter((l) => l.msg === 'could not write Kubernetes Event')).toHaveLength(2);
  });

  it('messages are redacted and cut to 1024 bytes', async () => {
    const s = sink();
    s.emit('SyncFailed', `reconcile failed: connect postgres://sync:hunter2-secret@db:5432/x ${'é'.repeat(3000)}`, 'Warning');
    await s.idle();
    const [ev] = stored();
    expect(ev!.message).not.toContain('hunter2-secret');
    expect(ev!.message).toContain('postgres://sync:***@db');
    expect(Buffer.byteLength(ev!.message)).toBeLessThanOrEqual(1024);
    expect(ev!.message.endsWith('…')).toBe(true);
  });

  it('a project error quoting credentials (bearer token, password hash, API key in a URL) reaches the Event without them', async () => {
    const s = sink();
    const secrets = ['eyJhbGciOi.payload.sig', '$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/', 'qwerty12345'];
    s.emit(
      'SyncFailed',
      `project shop: header Authorization: Bearer ${secrets[0]}; users[0]: "alice:${secrets[1]}"; address https://auth.example/?api_key=${secrets[2]}`,
      'Warning',
    );
    await s.idle();
    const [ev] = stored();
    for (const secret of secrets) expect(ev!.message).not.toContain(secret);
    expect(ev!.message).toContain('project shop');
  });

  it.each([
    ['short', 10, 'short'],
    ['a'.repeat(20), 10, `${'a'.repeat(7)}…`],
    ['éééééé', 8, 'éé…'],
  ])('clipBytes(%j, %i) = %j', (text, max, want) => {
    expect(clipBytes(text, max)).toBe(want);
  });
});
