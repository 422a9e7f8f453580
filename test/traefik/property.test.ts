/**
 * Property, judged by a real Traefik: random valid projects (odd names, deep and punycode domains,
 * every path character the config service allows, priorities, TLS with ACME resolvers, middleware
 * chains with awkward values, health checks), created through the config service, are all loaded
 * by Traefik without an error, and every route is answered by its own backend (a loopback server
 * per route) with the request it was sent — or refused as its chain says (an ipAllowList that
 * excludes the client). 4 batches of 50 projects in the newest Traefik (PROPERTY_TRAEFIK_RUNS), 1 in
 * the oldest (PROPERTY_TRAEFIK_OLDEST_RUNS).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { mapLimit } from '../../src/util.js';
import { waitFor } from '../helpers/sidecar.js';
import { traefikForSuite } from '../helpers/traefik.js';
import { type Reply } from './backends.js';
import { startStack, traefikErrors, waitForDisk, type Stack } from './stack.js';

const BATCHES = Number(process.env.PROPERTY_TRAEFIK_RUNS ?? 4);
/** The oldest Traefik tested gets one batch (it routes the same way; its run is for its parser). */
const OLDEST_BATCHES = Number(process.env.PROPERTY_TRAEFIK_OLDEST_RUNS ?? 1);
const PER_BATCH = 50;

const USER = 'prop';
const PASSWORD = 'secret pw';
const SHA_USER = `${USER}:{SHA}${createHash('sha1').update(PASSWORD).digest('base64')}`;
const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

const label = fc.oneof(
  fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/),
  fc.constantFrom('xn--bcher-kva', 'a'.repeat(63), '0', '9-9', 'xn--80ak6aa92e'),
);
const pathChar = fc.constantFrom(...'abcxyzABZ0189-._~!$&()*+,;=:@[]'.split(''));
const segment = fc
  .array(pathChar, { minLength: 1, maxLength: 6 })
  .map((cs) => cs.join(''))
  .filter((s) => s !== '.' && s !== '..');
const path = fc.oneof(
  { weight: 1, arbitrary: fc.constant('/') },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.array(segment, { minLength: 1, maxLength: 3 }), fc.boolean())
      .map(([ss, slash]) => `/${ss.join('/')}${slash ? '/' : ''}`),
  },
);
/** Header values that are fine over HTTP but awkward in YAML and templates. */
const headerValue = fc.oneof(
  fc.stringMatching(/^[!-~]([ -~]{0,14}[!-~])?$/).filter((v) => !v.includes('{{') && !v.includes('}}')),
  fc.constantFrom(
    'yes',
    'null',
    '0x1F',
    '1e3',
    '~',
    '- a',
    ': x',
    "it's",
    '"q"',
    '#',
    '&a',
    '*b',
    '!t',
    '%',
    '@',
    '`x`',
    'é ü 日本',
    '$1 ${x}',
  ),
);
const headerName = fc.stringMatching(/^X-[A-Za-z0-9][A-Za-z0-9_.~-]{0,10}$/);

type Mw = Record<string, unknown>;
/** Chains that let the request through to the backend (or, with `blocks`, refuse it). */
const middleware: fc.Arbitrary<Mw> = fc.oneof(
  fc.dictionary(headerName, headerValue, { minKeys: 1, maxKeys: 3 }).map((h) => ({ headers: { customRequestHeaders: h } })),
  fc
    .dictionary(headerName, headerValue, { minKeys: 1, maxKeys: 2 })
    .map((h) => ({ headers: { customResponseHeaders: h, frameDeny: true } })),
  fc.constant({ compress: {} }),
  fc.constant({ contentType: {} }),
  fc.integer({ min: 1, max: 3 }).map((attempts) => ({ retry: { attempts, initialInterval: '10ms' } })),
  fc.constant({ circuitBreaker: { expression: 'NetworkErrorRatio() > 0.9 || LatencyAtQuantileMS(99.0) > 60000' } }),
  fc.constant({ buffering: { maxRequestBodyBytes: 1048576, retryExpression: 'IsNetworkError() && Attempts() < 2' } }),
  fc.constant({ rateLimit: { average: 100000, burst: 100000, period: '1s' } }),
  fc.constant({ inFlightReq: { amount: 1000, sourceCriterion: { requestHost: true } } }),
  fc.constant({ ipAllowList: { sourceRange: ['127.0.0.1/32', '::1'] } }),
  fc.constant({ ipAllowList: { sourceRange: ['10.0.0.0/8'], rejectStatusCode: 404 }, blocks: 404 }),
  fc.constant({ ipAllowList: { sourceRange: ['192.0.2.1'] }, blocks: 403 }),
  fc.constant({ basicAuth: { users: [SHA_USER], realm: 'prop erty' } }),
  fc.constant({ grpcWeb: { allowOrigins: ['*'] } }),
  fc.constant({ passTLSClientCert: { pem: true } }),
  fc.constant({ ref: 'dashboard_stripprefix@internal' }),
);
const healthCheck = fc.record(
  {
    path: fc.constant('/health'),
    interval: fc.constantFrom('5s', '10s', '30s'),
    timeout: fc.constantFrom('2s', '3s'),
    method: fc.constantFrom('GET', 'HEAD'),
  },
  { requiredKeys: ['path'] },
);
const route = fc.record({
  path,
  priority: fc.option(fc.constantFrom(0, 1, 2, 7, 1000000), { nil: undefined }),
  middleware: fc.option(fc.array(middleware, { maxLength: 3 }), { nil: undefined, freq: 2 }),
  healthCheck: fc.option(healthCheck, { nil: undefined, freq: 4 }),
  byUrl: fc.boolean(),
});
const domain = fc.record({
  labels: fc.array(label, { minLength: 1, maxLength: 3 }),
  sub: fc.option(label, { nil: undefined }),
  ssl: fc.boolean(),
  provider: fc.constantFrom(undefined, 'letsencrypt', 'zerossl'),
  routes: fc.uniqueArray(route, { minLength: 1, maxLength: 3, selector: (r) => r.path }),
});
const project = fc
  .record({
    name: fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/),
    services: fc.uniqueArray(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?$/), { minLength: 1, maxLength: 3 }),
    domains: fc.uniqueArray(domain, { minLength: 1, maxLength: 3, selector: (d) => [d.sub, ...d.labels].join('.') }),
  })
  // A host name has at most 253 characters (four 63-character labels would pass it).
  .filter((p) => p.domains.every((d) => [...(d.sub ? [d.sub] : []), ...d.labels, p.name, 'test'].join('.').length <= 253));
const batch = fc.uniqueArray(project, { minLength: PER_BATCH, maxLength: PER_BATCH, selector: (p) => p.name });

type Gen = { name: string; services: string[]; domains: Array<Domain> };
type Domain = { labels: string[]; sub?: string; ssl: boolean; provider?: string; routes: Route[] };
type Route = { path: string; priority?: number; middleware?: Mw[]; healthCheck?: Record<string, unknown>; byUrl: boolean };

/** What a request for one route must get. */
interface Expectation {
  readonly host: string;
  readonly rule: string;
  readonly tls: boolean;
  readonly backend: number;
  readonly blocks: number | undefined;
  readonly requestHeaders: Record<string, string>;
  readonly responseHeaders: Record<string, string>;
  readonly healthChecked: boolean;
}

for (const [which, batches] of [
  ['newest', BATCHES],
  ['oldest', OLDEST_BATCHES],
] as const) {
  const binary = traefikForSuite(which);
  describe.skipIf(!binary)(`random valid projects in Traefik ${binary?.version ?? which}`, () => {
    let stack: Stack;
    afterAll(async () => stack?.stop());

    it(`${batches} × ${PER_BATCH} projects: no Traefik error, every route answered by its own backend`, async () => {
      stack = await startStack(binary!);
      let run = 0;
      let routes = 0;
      await fc.assert(
        fc.asyncProperty(batch, async (projects) => {
          run++;
          const expectations: Expectation[] = [];
          const names: string[] = [];
          const ids: string[] = [];
          const specs: unknown[] = [];
          for (const p of projects as Gen[]) {
            const name = `b${run}-${p.name}`.slice(0, 63).replace(/-+$/, '');
            names.push(name);
            const domains = [];
            for (const d of p.domains) {
              const base = `${d.labels.join('.')}.${name}.test`;
              const full = d.sub ? `${d.sub}.${base}` : base;
              const rs = [];
              for (const [i, r] of d.routes.entries()) {
                const backend = await stack.backends.add(`${full}${r.path}`);
                const chain = (r.middleware ?? []).map(({ blocks: _b, ...m }: Mw) => m);
                const first = (r.middleware ?? []).find((m: Mw) => m.blocks !== undefined);
                const headers = (key: string) =>
                  Object.assign(
                    {},
                    ...(r.middleware ?? []).map((m: Mw) => ((m.headers as Record<string, unknown> | undefined)?.[key] ?? {}) as object),
                  );
                rs.push({
                  path: r.path,
                  service: p.services[i % p.services.length]!,
                  targetPort: backend.port,
                  ...(r.byUrl ? { targetUrl: `http://127.0.0.1:${backend.port}` } : {}),
                  ...(r.priority !== undefined ? { priority: r.priority } : {}),
                  ...(chain.length ? { middleware: chain } : {}),
                  ...(r.healthCheck ? { healthCheck: r.healthCheck } : {}),
                });
                expectations.push({
                  host: full,
                  rule: r.path,
                  tls: d.ssl,
                  backend: backend.port,
                  blocks: first?.blocks as number | undefined,
                  requestHeaders: headers('customRequestHeaders'),
                  responseHeaders: headers('customResponseHeaders'),
                  healthChecked: r.healthCheck !== undefined,
                });
              }
              domains.push({
                domain: base,
                ...(d.sub ? { subdomain: d.sub } : {}),
                ssl: d.ssl,
                ...(d.ssl && d.provider ? { provider: d.provider } : {}),
                routes: rs,
              });
            }
            const spec = { name, services: p.services.map((s) => ({ name: s, host: '127.0.0.1' })), domains };
            specs.push(spec);
          }
          // Valid by construction: the config service must accept every one.
          ids.push(...(await mapLimit(specs, 4, async (spec) => (await stack.config.apply(spec)).projectId)));
          await Promise.all(ids.map((id) => stack.config.waitForSync(id, { timeoutMs: 30_000 })));
          const raw = await waitForDisk(stack, 30_000);
          const errors = names.flatMap((n) => traefikErrors(raw, `${n}_`));
          expect(errors, 'objects Traefik reports in error').toEqual([]);

          // The route a request for `rule` reaches: the highest priority among the domain's routes whose path prefixes it.
          const winner = (e: Expectation) => {
            const rivals = expectations.filter((o) => o.host === e.host && (o.rule === '/' || e.rule.startsWith(o.rule)));
            return rivals.sort((a, b) => score(b) - score(a))[0]!;
          };
          const score = (e: Expectation) => (priorities.get(`${e.host}${e.rule}`) ?? 1) * 10000 + e.rule.length;
          const priorities = new Map<string, number>();
          for (const p of projects as Gen[]) {
            for (const d of p.domains) {
              const name = names[(projects as Gen[]).indexOf(p)]!;
              const base = `${d.labels.join('.')}.${name}.test`;
              const full = d.sub ? `${d.sub}.${base}` : base;
              for (const r of d.routes) priorities.set(`${full}${r.path}`, r.priority ?? 1);
            }
          }
          const failures: string[] = [];
          await mapLimit(expectations, 32, async (e) => {
            const want = winner(e);
            let reply: Reply;
            try {
              const send = () => stack.request({ host: e.host, path: e.rule, tls: e.tls, headers: { authorization: AUTH } });
              reply = await send();
              // A health check that timed out on this busy machine marks the server down until its next check passes.
              if (reply.status === 503 && want.healthChecked) {
                await waitFor(async () => (reply = await send()).status !== 503, 40_000, 500).catch(() => {});
              }
            } catch (err) {
              failures.push(`${e.host}${e.rule}: ${String(err)}`);
              return;
            }
            const where = `${e.tls ? 'https' : 'http'}://${e.host}${e.rule}`;
            if (want.blocks !== undefined) {
              if (reply.status !== want.blocks || reply.seen)
                failures.push(`${where}: expected ${want.blocks} from ipAllowList, got ${reply.status}`);
              return;
            }
            if (reply.status !== 200 || reply.seen?.backend === undefined) {
              failures.push(
                `${where}: expected the backend of ${want.host}${want.rule}, got HTTP ${reply.status} ${reply.body.slice(0, 120)}`,
              );
              return;
            }
            if (stack.backends.byPort.get(want.backend)?.name !== reply.seen.backend) {
              failures.push(`${where}: answered by ${reply.seen.backend}, expected ${want.host}${want.rule}`);
            }
            // Node reads header bytes as latin1: compare bytes.
            const bytes = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'latin1').toString('utf8') : v);
            for (const [k, v] of Object.entries(want.requestHeaders)) {
              const got = bytes(reply.seen.headers[k.toLowerCase()]);
              if (v === '' ? got !== undefined : got !== v)
                failures.push(`${where}: request header ${k}: sent ${JSON.stringify(v)}, backend got ${JSON.stringify(got)}`);
            }
            for (const [k, v] of Object.entries(want.responseHeaders)) {
              const got = bytes(reply.headers[k.toLowerCase()]);
              if (v === '' ? got !== undefined : got !== v)
                failures.push(`${where}: response header ${k}: configured ${JSON.stringify(v)}, client got ${JSON.stringify(got)}`);
            }
          });
          routes += expectations.length;
          expect(failures).toEqual([]);
        }),
        { numRuns: batches, endOnFailure: true },
      );
      expect(run).toBe(batches);
      console.log(`traefik property (${binary!.version}): ${batches * PER_BATCH} projects, ${routes} routes, all served`);
    }, 600_000);
  });
}
