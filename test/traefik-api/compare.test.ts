/**
 * The comparison of what was written with what Traefik's API reports (src/traefik-api/views.ts,
 * verify.ts), on objects as Traefik 3.7.15 reported them for the written ones (durations
 * normalised, defaults added, zero values omitted, middlewares qualified), and the streamed list
 * reader (json-stream.ts).
 */
import { describe, expect, it } from 'vitest';
import { JsonArraySplitter } from '../../src/traefik-api/json-stream.js';
import { expectationOf, LiveState, type Objects, type ProjectLive } from '../../src/traefik-api/state.js';
import { difference } from '../../src/traefik-api/verify.js';
import { Digest, uncovered } from '../../src/traefik-api/views.js';
import type { ApiObject, Kind } from '../../src/traefik-api/client.js';
import type { ProjectResult } from '../../src/reconcile/sync-service.js';

const written: Objects = {
  routers: [
    [
      'blog_web_aaa',
      {
        entryPoints: ['websecure'],
        middlewares: ['blog_web_aaa_0-rateLimit', 'auth@kubernetescrd', 'blog_web_aaa_2-retry'],
        priority: 10004,
        rule: 'Host(`blog.test`) && PathPrefix(`/api`)',
        service: 'blog_web_aaa',
        tls: { certResolver: 'letsencrypt' },
      },
    ],
  ],
  services: [
    [
      'blog_web_aaa',
      {
        loadBalancer: {
          servers: [{ url: 'http://127.0.0.1:9/' }],
          passHostHeader: true,
          healthCheck: { path: '/health', interval: '1m30s' },
        },
      },
    ],
  ],
  middlewares: [
    ['blog_web_aaa_0-rateLimit', { rateLimit: { average: 100, period: '1m', burst: 50, sourceCriterion: { requestHost: true } } }],
    ['blog_web_aaa_2-retry', { retry: { attempts: 3, initialInterval: 100 } }],
  ],
};

/** What Traefik 3.7.15's lists answered for those (bookkeeping fields included). */
const served: Record<Kind, ApiObject[]> = {
  routers: [
    {
      name: 'blog_web_aaa@file',
      provider: 'file',
      entryPoints: ['websecure'],
      middlewares: ['blog_web_aaa_0-rateLimit@file', 'auth@kubernetescrd', 'blog_web_aaa_2-retry@file'],
      service: 'blog_web_aaa',
      rule: 'Host(`blog.test`) && PathPrefix(`/api`)',
      priority: 10004,
      tls: { options: 'default', certResolver: 'letsencrypt' },
      observability: { accessLogs: true, metrics: true, tracing: true, traceVerbosity: 'minimal' },
      status: 'enabled',
      using: ['websecure'],
      priorityStr: '10004',
    },
  ],
  services: [
    {
      name: 'blog_web_aaa@file',
      provider: 'file',
      type: 'loadbalancer',
      loadBalancer: {
        servers: [{ url: 'http://127.0.0.1:9/' }],
        strategy: 'wrr',
        healthCheck: { mode: 'http', path: '/health', interval: '1m30s', timeout: '5s', followRedirects: true },
        passHostHeader: true,
        responseForwarding: { flushInterval: '100ms' },
      },
      status: 'enabled',
      usedBy: ['blog_web_aaa@file'],
      serverStatus: { 'http://127.0.0.1:9/': 'UP' },
    },
  ],
  middlewares: [
    {
      name: 'blog_web_aaa_0-rateLimit@file',
      rateLimit: { average: 100, period: '1m0s', burst: 50, sourceCriterion: { requestHost: true } },
      status: 'enabled',
      usedBy: ['blog_web_aaa@file'],
      type: 'ratelimit',
    },
    {
      name: 'blog_web_aaa_2-retry@file',
      retry: { attempts: 3, initialInterval: '1m40s', maxRequestBodyBytes: 2097152 },
      status: 'enabled',
      type: 'retry',
    },
  ],
};

function project(objects: Objects): ProjectLive {
  const { exp, json } = expectationOf(objects);
  return {
    id: 'p',
    name: 'blog',
    exp,
    version: 1,
    full: json,
    pending: { since: 0, observe: true, shrank: false },
    verified: false,
    loaded: false,
    mismatch: null,
    errors: [],
    shadows: [],
  };
}

function theirs(objs: Record<Kind, ApiObject[]>, full = true) {
  const digests = { routers: new Digest(), services: new Digest(), middlewares: new Digest() };
  const objects = { routers: new Map(), services: new Map(), middlewares: new Map() } as Record<Kind, Map<string, ApiObject>>;
  for (const kind of ['routers', 'services', 'middlewares'] as const) {
    for (const o of objs[kind]) {
      digests[kind].add(kind, o.name.replace(/@file$/, ''), o);
      objects[kind].set(o.name.replace(/@file$/, ''), o);
    }
  }
  return { digests, objects: full ? objects : null };
}

const edit = (kind: Kind, i: number, change: (o: any) => void): Record<Kind, ApiObject[]> => {
  const copy = structuredClone(served);
  change(copy[kind][i]);
  return copy;
};

describe('comparing what was written with what Traefik serves', () => {
  it('Traefik serving what was written is live, whatever it adds or normalises', () => {
    expect(difference(project(written), theirs(served))).toBeNull();
  });

  it('finds each kind of difference, naming the object', () => {
    const p = project(written);
    expect(difference(p, theirs({ ...served, routers: [] }))).toBe('Traefik serves 0 of the 1 routers written');
    expect(difference(p, theirs(edit('routers', 0, (r) => (r.rule = 'Host(`old.test`)'))))).toBe(
      'router blog_web_aaa@file differs from what was written',
    );
    expect(difference(p, theirs(edit('middlewares', 0, (m) => (m.rateLimit.average = 50))))).toBe(
      'middleware blog_web_aaa_0-rateLimit@file: Traefik has another rateLimit.average',
    );
    expect(difference(p, theirs(edit('middlewares', 1, (m) => (m.retry.initialInterval = '1m39s'))))).toBe(
      'middleware blog_web_aaa_2-retry@file: Traefik has another retry.initialInterval',
    );
    expect(difference(p, theirs(edit('services', 0, (s) => (s.loadBalancer.healthCheck.interval = '30s'))))).toBe(
      'service blog_web_aaa@file: Traefik has another loadBalancer.healthCheck.interval',
    );
    expect(difference(p, theirs(edit('middlewares', 1, (m) => (m.name = 'blog_web_aaa_3-retry@file'))))).toBe(
      'middleware blog_web_aaa_2-retry@file is not served',
    );
  });

  it('without the written objects (only digests kept), the views still find routers, services and middleware names', () => {
    const p = { ...project(written), full: null };
    expect(difference(p, theirs(served, false))).toBeNull();
    expect(
      difference(
        p,
        theirs(
          edit('routers', 0, (r) => (r.middlewares = r.middlewares.slice(1))),
          false,
        ),
      ),
    ).toBe('the routers Traefik serves differ from what was written');
    // Options are not in the views: a changed option needs the written objects.
    expect(
      difference(
        p,
        theirs(
          edit('middlewares', 0, (m) => (m.rateLimit.average = 50)),
          false,
        ),
      ),
    ).toBeNull();
  });

  it('covers: zero values may be absent, durations compare in nanoseconds, arrays in full', () => {
    expect(uncovered({ a: false, b: 0, c: '', d: [], e: {} }, {})).toBeNull();
    expect(uncovered({ period: '1m' }, { period: '1m0s' })).toBeNull();
    expect(uncovered({ period: 90 }, { period: '1m30s' })).toBeNull();
    expect(uncovered({ period: 91 }, { period: '1m30s' })).toBe('period');
    expect(uncovered({ list: ['a', 'b'] }, { list: ['a'] })).toBe('list');
    expect(uncovered({ x: { y: 'v' } }, { x: { y: 'w', z: 1 } })).toBe('x.y');
    expect(uncovered({ followRedirects: false }, { followRedirects: true })).toBe('followRedirects');
  });

  it('digests do not depend on the order objects arrive in', () => {
    const a = new Digest();
    const b = new Digest();
    for (const o of served.middlewares) a.add('middlewares', o.name, o);
    for (const o of [...served.middlewares].reverse()) b.add('middlewares', o.name, o);
    expect(a.toString()).toBe(b.toString());
  });
});

describe('a pass result', () => {
  it('a write makes a change pending from the commit; its confirmation records commit → live', () => {
    const state = new LiveState();
    const documents = new Map([['dynamic/blog/services/web.yml', { http: { routers: Object.fromEntries(written.routers) } }]]);
    state.rendered({ projectId: 'p', projectName: 'blog', version: 3, files: [], documents, problems: [] } as never);
    const result: ProjectResult = {
      projectId: 'p',
      projectName: 'blog',
      status: 'updated',
      created: 1,
      updated: 0,
      deleted: 0,
      drift: [],
      unowned: [],
      problems: [],
      version: 3,
      changedAt: new Date(1000),
      appliedAt: 1050,
    };
    expect(state.passed([result], false, 2000)).toBe(1);
    expect(state.lagSeconds(4000)).toBe(3);
    const p = state.projects.get('p')!;
    expect(state.compared(p, 'Traefik serves 0 of the 1 routers written', 4000)).toBeNull();
    expect(state.compared(p, null, 5000)).toBe(4);
    expect(state.lagSeconds(6000)).toBe(0);
    // A write that only removes objects: they must be seen gone (not only the others present).
    state.rendered({ projectId: 'p', projectName: 'blog', version: 4, files: [], documents: new Map(), problems: [] } as never);
    expect(state.passed([{ ...result, version: 4, created: 0, deleted: 1 }], false, 8000)).toBe(1);
    expect(state.pendingProjects()[0]!.pending).toMatchObject({ shrank: true, observe: true });
    state.compared(p, null, 9000);
    // The same files found in order by a later pass: nothing pending.
    state.rendered({ projectId: 'p', projectName: 'blog', version: 3, files: [], documents, problems: [] } as never);
    expect(state.passed([{ ...result, version: 4, status: 'noop', created: 0 }], true, 10_000)).toBe(0);
    // A full pass that left the project to a project pass running beside it does not forget it
    // (its status would say live: null and Traefik's errors for it would be nobody's).
    state.passed([], true, 11_000, ['p']);
    expect(state.projects.has('p')).toBe(true);
    state.passed([], true, 12_000);
    expect(state.projects.has('p')).toBe(false);
  });
});

describe('a streamed JSON array', () => {
  it('yields each element whatever the chunks, strings with brackets and escapes included', () => {
    const items = [{ a: '[{"}', b: [1, { c: 'x\\"]' }] }, { d: '\\\\' }, {}];
    const text = JSON.stringify(items);
    for (const size of [1, 2, 3, 7, text.length]) {
      const got: unknown[] = [];
      const s = new JsonArraySplitter((t) => got.push(JSON.parse(t)));
      for (let i = 0; i < text.length; i += size) s.feed(text.slice(i, i + size));
      expect(got).toEqual(items);
      expect(s.done).toBe(true);
    }
    expect(() => new JsonArraySplitter(() => {}).feed('{"a":1}')).toThrow('expected a JSON array');
  });
});
