/**
 * Property tests for the renderer: random *valid* desired states always render to schema-valid,
 * collision-free, fully escaped, deterministic files; random *hostile* rows never reach a file.
 */
import { canonicalHost, internalHostKind } from '../../src/address.js';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from 'yaml';
import type { Domain, MiddlewareSpec, ProjectState, Route, Service } from '../../src/model.js';
import { UNSAFE_CHARS } from '../../src/render/middleware.js';
import { pathRuleProblem, renderProject, type RenderedProject } from '../../src/render/project.js';
import { unescapeGoTemplate } from '../../src/render/serialize.js';
import { crossCheck, schemaProblemsDynamic } from '../../src/render/validate.js';
import { CERT_PEM, KEY_PEM } from '../helpers/seed.js';

const CONFIG_DIR = '/app/traefik-configs';
/** Runs per property; raise with PROPERTY_RUNS=5000 for a deeper search. */
const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 150);

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Characters the database allows in path_rule / target_url (route_configs_path_rule_format). */
const SAFE_PATH_CHARS = [...'!#$%&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz|~'];
/** Characters that stress YAML quoting and Go-template escaping. */
const NASTY_CHARS = [
  '{',
  '}',
  '{{',
  '}}',
  '`',
  '"',
  "'",
  '\\',
  ':',
  '#',
  ' ',
  '-',
  '$',
  '%',
  '&',
  '*',
  '!',
  '|',
  '>',
  '\n',
  '\t',
  'é',
  '║',
  'a',
  'Z',
  '0',
];

/** Not a spelling of an address inside the pod ("0" is 0.0.0.0, "127.1" is 127.0.0.1): the renderer refuses those as upstreams (render/targets.ts). */
const external = (h: string) => {
  const c = canonicalHost(h);
  return c === null || internalHostKind(c) === null;
};
const nameArb = fc
  .stringMatching(NAME)
  .filter((n) => n.length <= 63)
  .filter(external);
/** A host label, short so that the hostile fixtures below (long labels) can never collide with it. */
const labelArb = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const hostArb = fc
  .array(labelArb, { minLength: 1, maxLength: 3 })
  .map((ls) => ls.join('.'))
  .filter(external);
const safePathArb = fc.oneof(
  fc.constant('/'),
  fc
    .array(fc.constantFrom(...SAFE_PATH_CHARS), { minLength: 1, maxLength: 20 })
    .map((cs) => `/${cs.join('')}`)
    .filter((p) => pathRuleProblem(p) === null),
);
/** What the renderer refuses (control characters, line separators, Traefik's list separator "║"). */
const noControlChars = (v: string) => !UNSAFE_CHARS.test(v) && !v.includes('║');
const nastyStringArb = fc
  .oneof(
    fc.string({ maxLength: 30 }),
    fc.string({ unit: 'grapheme', maxLength: 10 }),
    fc.string({ unit: 'binary-ascii', maxLength: 10 }),
    fc.array(fc.constantFrom(...NASTY_CHARS), { maxLength: 20 }).map((cs) => cs.join('')),
    fc.constantFrom('{{ env "DATABASE_URL" }}', '{{"{{"}}', '}}{{', '{{{', '}}}', '`) || Host(`evil`', 'it\'s "quoted"'),
  )
  .filter(noControlChars);
const headerNameArb = fc.stringMatching(/^X-[A-Za-z0-9-]{1,12}$/);
// HTTP drops white space around header values, so the renderer refuses values that start or end with it.
const headersMapArb = fc.dictionary(
  headerNameArb,
  nastyStringArb.filter((v) => !/^[ \t]|[ \t]$/.test(v)),
  { minKeys: 1, maxKeys: 3 },
);

/** Inline middleware types of Traefik v3 with valid options, plus external references. */
const middlewareArb: fc.Arbitrary<MiddlewareSpec> = fc.oneof(
  fc.array(safePathArb, { minLength: 1, maxLength: 3 }).map((prefixes) => ({ stripPrefix: { prefixes } })),
  fc
    .record({ customRequestHeaders: headersMapArb, customResponseHeaders: headersMapArb }, { requiredKeys: ['customRequestHeaders'] })
    .map((h) => ({ headers: h })),
  fc
    .array(fc.tuple(fc.nat(255), fc.nat(255), fc.integer({ min: 8, max: 32 })), { minLength: 1, maxLength: 3 })
    .map((rs) => ({ ipAllowList: { sourceRange: rs.map(([a, b, bits]) => `${a}.${b}.0.0/${bits}`) } })),
  fc.record({ average: fc.integer({ min: 1, max: 10_000 }), burst: fc.integer({ min: 1, max: 10_000 }) }).map((o) => ({ rateLimit: o })),
  fc.constant({ compress: {} }),
  fc.boolean().map((permanent) => ({ redirectScheme: { scheme: 'https', permanent } })),
  fc
    .tuple(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/), fc.constantFrom('docker', 'kubernetescrd', 'internal', 'consul'))
    .map(([n, p]) => ({ ref: `${n}@${p}` })),
);

const healthCheckArb = fc.record(
  {
    path: safePathArb,
    interval: fc.constantFrom('5s', '10s', '1m'),
    timeout: fc.constantFrom('1s', '3s'),
    scheme: fc.constantFrom('http', 'https'),
    port: fc.integer({ min: 1, max: 65535 }),
    hostname: hostArb,
    headers: headersMapArb,
    followRedirects: fc.boolean(),
  },
  { requiredKeys: [] },
);

interface RouteShape {
  service: number;
  path: string;
  priority: number;
  port: number;
  url: string | null;
  middleware: MiddlewareSpec[] | null;
  healthCheck: Record<string, unknown> | null;
  active: boolean;
}
interface DomainShape {
  host: string;
  ssl: boolean;
  provider: 'none' | 'acme' | 'custom';
  active: boolean;
  routes: RouteShape[];
}
interface ProjectShape {
  name: string;
  services: Array<{ name: string; host: string | null }>;
  domains: DomainShape[];
}

const routeArb: fc.Arbitrary<RouteShape> = fc.record({
  service: fc.nat(),
  path: safePathArb,
  priority: fc.integer({ min: 0, max: 1_000_000 }),
  port: fc.integer({ min: 1, max: 65535 }),
  url: fc.option(
    fc
      .tuple(fc.constantFrom('http', 'https', 'h2c'), hostArb, fc.option(fc.integer({ min: 1, max: 65535 })), fc.option(safePathArb))
      .map(([s, h, p, path]) => `${s}://${h}${p === null ? '' : `:${p}`}${path ?? ''}`),
  ),
  middleware: fc.option(fc.array(middlewareArb, { maxLength: 4 })),
  healthCheck: fc.option(healthCheckArb),
  active: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
});

const domainArb: fc.Arbitrary<DomainShape> = fc.record({
  host: hostArb,
  ssl: fc.boolean(),
  provider: fc.constantFrom('none', 'acme', 'custom'),
  active: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  routes: fc.array(routeArb, { maxLength: 3 }),
});

const projectArb: fc.Arbitrary<ProjectShape> = fc.record({
  name: nameArb,
  services: fc.uniqueArray(fc.record({ name: nameArb, host: fc.option(hostArb) }), { selector: (s) => s.name, minLength: 1, maxLength: 3 }),
  domains: fc.array(domainArb, { maxLength: 3 }),
});

/** Upper bound of ids one state needs: projects + services + domains + certificates + routes. */
const MAX_IDS = 3 + 3 * 3 + 3 * 3 * 2 + 3 * 3 * 3;

/**
 * Ids are random UUIDs, distinct in their first 12 hex digits (object names carry that short id;
 * see the separate short-id test at the end of this file for what happens otherwise).
 */
const idPoolArb = fc.uniqueArray(fc.uuid({ version: 4 }), {
  selector: (u) => u.replace(/-/g, '').slice(0, 12),
  minLength: MAX_IDS,
  maxLength: MAX_IDS,
});

/** Turn shapes into ProjectStates that satisfy every database constraint. */
function build(shapes: ProjectShape[], ids: string[]): ProjectState[] {
  let next = 0;
  const id = () => ids[next++]!;
  const activeHosts = new Set<string>();
  return shapes.map((ps) => {
    const services: Service[] = ps.services.map((s) => ({ id: id(), name: s.name, host: s.host }));
    const domains: Domain[] = ps.domains.map((ds) => {
      // One active full_domain across all projects (domain_configs_active_full_domain): later
      // claimants become inactive, which also exercises inactive duplicates.
      const active = ds.active && !activeHosts.has(ds.host);
      if (active) activeHosts.add(ds.host);
      const labels = ds.host.split('.');
      const sub = labels.length >= 3 ? labels[0]! : null;
      const domainId = id();
      const activeRules = new Set<string>();
      const routes: Route[] = ds.routes.map((rs) => {
        const isActive = rs.active && !activeRules.has(rs.path); // route_configs_active_rule
        if (isActive) activeRules.add(rs.path);
        return {
          id: id(),
          serviceId: services[rs.service % services.length]!.id,
          pathRule: rs.path,
          priority: rs.priority,
          middleware: rs.middleware,
          targetPort: rs.port,
          targetUrl: rs.url,
          healthCheck: rs.healthCheck,
          isActive,
        };
      });
      return {
        id: domainId,
        domain: sub ? labels.slice(1).join('.') : ds.host,
        subdomain: sub,
        fullDomain: ds.host,
        sslEnabled: ds.ssl,
        sslProvider: ds.provider === 'none' ? null : ds.provider === 'acme' ? 'letsencrypt' : 'custom',
        isActive: active,
        certificate: ds.provider === 'custom' ? { id: id(), certPem: CERT_PEM, keyPem: KEY_PEM, notAfter: null } : null,
        routes,
      };
    });
    return { id: id(), name: ps.name, version: 1, changedAt: null, services, domains };
  });
}

const statesArb: fc.Arbitrary<ProjectState[]> = fc
  .tuple(fc.uniqueArray(projectArb, { selector: (p) => p.name, minLength: 1, maxLength: 3 }), idPoolArb)
  .map(([shapes, ids]) => build(shapes, ids));

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/**
 * A minimal model of Go's text/template lexer for our purposes: outside an action, `{{` opens
 * one. Every `{{` must open an escape action (`{{"<braces>"}}`, which prints the braces literally),
 * and no bare `}}` may remain. Returns the offending offsets.
 */
function unescapedDelimiters(raw: string): number[] {
  const bad: number[] = [];
  let i = 0;
  while (i < raw.length) {
    if (raw.startsWith('{{', i)) {
      // An escape action prints a run of braces literally: {{"<braces>"}}.
      const esc = /\{\{"[{}]+"\}\}/y;
      esc.lastIndex = i;
      const m = esc.exec(raw);
      if (!m) {
        bad.push(i);
        i += 2;
        continue;
      }
      i += m[0].length;
    } else if (raw.startsWith('}}', i)) {
      bad.push(i);
      i += 2;
    } else {
      i++;
    }
  }
  return bad;
}

function isExternal(ref: string): boolean {
  return ref.includes('@') && !ref.endsWith('@file');
}

function render(states: ProjectState[]): RenderedProject[] {
  return states.map((s) => renderProject(s, { configDir: CONFIG_DIR }));
}

/** Services and routes in reverse order. */
const reversed = (s: ProjectState): ProjectState => ({
  ...s,
  services: [...s.services].reverse(),
  domains: [...s.domains].reverse().map((d) => ({ ...d, routes: [...d.routes].reverse() })),
});

/**
 * Domains in the order src/db/load.ts reads them (full_domain, id). The renderer lists
 * tls.certificates in domain order, so domain order is part of its input; the loader fixes it.
 */
const loadOrder = (s: ProjectState): ProjectState => ({
  ...s,
  domains: [...s.domains].sort((a, b) => (a.fullDomain < b.fullDomain ? -1 : a.fullDomain > b.fullDomain ? 1 : a.id < b.id ? -1 : 1)),
});

describe('renderer properties over random valid desired states', () => {
  it('renders without problems into files that parse back to exactly the validated documents', () => {
    fc.assert(
      fc.property(statesArb, (states) => {
        for (const r of render(states)) {
          expect(r.problems).toEqual([]);
          const yml = r.files.filter((f) => f.path.endsWith('.yml'));
          expect(yml.map((f) => f.path).sort()).toEqual([...r.documents.keys()].sort());
          for (const f of yml) {
            const parsed = parse(unescapeGoTemplate(f.content), { uniqueKeys: true }) as unknown;
            expect(parsed, f.path).toEqual(r.documents.get(f.path));
            expect(schemaProblemsDynamic(parsed), f.path).toEqual([]);
          }
          for (const doc of r.documents.values()) expect(schemaProblemsDynamic(doc)).toEqual([]);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('escapes every Go-template delimiter: each "{{" in a file starts a literal-printing action', () => {
    fc.assert(
      fc.property(statesArb, (states) => {
        for (const r of render(states)) {
          for (const f of r.files) expect(unescapedDelimiters(f.content), f.path).toEqual([]);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('names are unique across projects, contain no "@", and every reference resolves', () => {
    fc.assert(
      fc.property(statesArb, (states) => {
        const rendered = render(states);
        expect(crossCheck(rendered).size).toBe(0);
        const owner = new Map<string, string>();
        for (const r of rendered) {
          const services = new Set<string>();
          const middlewares = new Set<string>();
          for (const doc of r.documents.values()) {
            for (const [kind, map] of [
              ['router', doc.http?.routers],
              ['service', doc.http?.services],
              ['middleware', doc.http?.middlewares],
            ] as const) {
              for (const name of Object.keys(map ?? {})) {
                expect(name).not.toContain('@');
                const key = `${kind} ${name}`;
                expect(owner.get(key), `${key} defined twice`).toBeUndefined();
                owner.set(key, r.projectName);
                if (kind === 'service') services.add(name);
                if (kind === 'middleware') middlewares.add(name);
              }
            }
          }
          for (const doc of r.documents.values()) {
            for (const [name, router] of Object.entries(doc.http?.routers ?? {})) {
              const svc = String(router.service);
              expect(services.has(svc) || isExternal(svc), `${name}: service ${svc}`).toBe(true);
              for (const mw of (router.middlewares as string[] | undefined) ?? []) {
                expect(middlewares.has(mw) || isExternal(mw), `${name}: middleware ${mw}`).toBe(true);
              }
            }
          }
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('renders one router per active route and one redirect router per active https domain (nothing silently lost)', () => {
    fc.assert(
      fc.property(statesArb, (states) => {
        const rendered = render(states);
        for (const [i, s] of states.entries()) {
          const r = rendered[i]!;
          const activeDomains = s.domains.filter((d) => d.isActive);
          const wantRoutes = activeDomains.flatMap((d) => d.routes.filter((rt) => rt.isActive));
          let routers = 0;
          for (const [path, doc] of r.documents) if (path.includes('/services/')) routers += Object.keys(doc.http?.routers ?? {}).length;
          expect(routers).toBe(wantRoutes.length);
          const redirects = Object.keys(r.documents.get(`dynamic/${s.name}/domains.yml`)?.http?.routers ?? {}).length;
          expect(redirects).toBe(activeDomains.filter((d) => d.sslEnabled).length);
          const keyFiles = r.files.filter((f) => f.configType === 'key');
          expect(keyFiles.length).toBe(activeDomains.filter((d) => d.sslEnabled && d.sslProvider === 'custom').length);
          for (const k of keyFiles) expect(k.mode).toBe(0o600);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('is deterministic: rendering twice, or with services and routes in another order, gives identical bytes', () => {
    fc.assert(
      fc.property(statesArb, (states) => {
        const bytes = (rs: RenderedProject[]) => rs.map((r) => r.files.map((f) => [f.path, f.content]).sort());
        const a = bytes(render(states));
        expect(bytes(render(states))).toEqual(a);
        expect(bytes(render(states.map((s) => loadOrder(reversed(s)))))).toEqual(bytes(render(states.map(loadOrder))));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Hostile inputs
// ---------------------------------------------------------------------------------------------

interface Hostile {
  readonly label: string;
  readonly route: Partial<Route>;
  /** What the problem message must name. */
  readonly field: RegExp;
}

const HOSTILE_HOST = 'hostile-hostile-hostile.example'; // longer labels than the generator makes
const HOSTILE_SERVICE = 'hostile-service-for-the-property-test';

const middlewareTypeArb = fc
  .stringMatching(/^[a-zA-Z][a-zA-Z0-9]{0,15}$/)
  .filter(
    (t) =>
      ![
        'addPrefix',
        'basicAuth',
        'buffering',
        'circuitBreaker',
        'compress',
        'contentType',
        'digestAuth',
        'forwardAuth',
        'grpcWeb',
        'headers',
        'ipAllowList',
        'inFlightReq',
        'passTLSClientCert',
        'rateLimit',
        'redirectRegex',
        'redirectScheme',
        'replacePath',
        'replacePathRegex',
        'retry',
        'stripPrefix',
        'stripPrefixRegex',
        'ref',
        'ipWhiteList',
      ].includes(t),
  );
const prefixArb = fc.array(fc.constantFrom(...SAFE_PATH_CHARS), { maxLength: 8 }).map((cs) => cs.join(''));
const okChainArb = fc.array(middlewareArb, { maxLength: 2 });

/** Insert `bad` into a chain of valid elements at a random position. */
const chainWith = (bad: fc.Arbitrary<MiddlewareSpec>) =>
  fc.tuple(okChainArb, bad, okChainArb).map(([a, b, c]) => ({ chain: [...a, b, ...c], index: a.length }));

const hostileArb: fc.Arbitrary<Hostile> = fc.oneof(
  fc
    .tuple(prefixArb, fc.constantFrom('`', ' ', '`) || Host(`x', ' && Path(`/'), prefixArb)
    .map(([a, bad, b]) => ({ label: 'path_rule with backtick or space', route: { pathRule: `/${a}${bad}${b}` }, field: /path_rule/ })),
  chainWith(middlewareTypeArb.map((t) => ({ [t]: {} }))).map(({ chain, index }) => ({
    label: 'unknown middleware type',
    route: { middleware: chain },
    field: new RegExp(`middleware\\[${index}\\]: unknown`),
  })),
  chainWith(fc.constant({ ipWhiteList: { sourceRange: ['10.0.0.0/8'] } })).map(({ chain, index }) => ({
    label: 'ipWhiteList',
    route: { middleware: chain },
    field: new RegExp(`middleware\\[${index}\\]: "ipWhiteList"`),
  })),
  chainWith(fc.tuple(middlewareArb, middlewareArb).map(([a, b]) => ({ ...a, ...b, compress: {}, stripPrefix: { prefixes: ['/x'] } }))).map(
    ({ chain, index }) => ({
      label: 'two keys in one element',
      route: { middleware: chain },
      field: new RegExp(`middleware\\[${index}\\]: expected exactly one key`),
    }),
  ),
  chainWith(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/).map((n) => ({ ref: `${n}@file` }))).map(({ chain, index }) => ({
    label: '@file ref',
    route: { middleware: chain },
    field: new RegExp(`middleware\\[${index}\\]\\.ref`),
  })),
);

describe('renderer properties over hostile rows', () => {
  it('a hostile route always yields a problem naming the field, and no file for its project only', () => {
    fc.assert(
      fc.property(statesArb, hostileArb, fc.nat(), (states, hostile, pick) => {
        const victim = pick % states.length;
        const s = states[victim]!;
        const svc: Service = { id: 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeee1', name: HOSTILE_SERVICE, host: null };
        const route: Route = {
          id: 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeee2',
          serviceId: svc.id,
          pathRule: '/hostile',
          priority: 1,
          middleware: null,
          targetPort: 8080,
          targetUrl: null,
          healthCheck: null,
          isActive: true,
          ...hostile.route,
        };
        const dom: Domain = {
          id: 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeee3',
          domain: HOSTILE_HOST,
          subdomain: null,
          fullDomain: HOSTILE_HOST,
          sslEnabled: true,
          sslProvider: null,
          isActive: true,
          certificate: null,
          routes: [route],
        };
        const poisoned = states.map((st, i) =>
          i === victim ? { ...s, services: [...s.services, svc], domains: [...s.domains, dom] } : st,
        );
        const rendered = render(poisoned);
        rendered.forEach((r, i) => {
          if (i === victim) {
            expect(r.files, hostile.label).toEqual([]);
            expect(
              r.problems.some((p) => hostile.field.test(p)),
              `${hostile.label}: ${JSON.stringify(r.problems)}`,
            ).toBe(true);
          } else {
            expect(r.problems).toEqual([]); // per-project isolation: the others still render
            expect(r.files.length).toBeGreaterThan(0);
          }
        });
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Bugs found by these properties, kept as regression tests
// ---------------------------------------------------------------------------------------------

describe('Go-template escaping of a "{" directly before "}}"', () => {
  // src/render/serialize.ts escapeGoTemplate replaces `{{` and `}}` left to right. For the value
  // `{}}` it yields `{{{"}}"}}`: Go's text/template lexer finds `{{` at the first brace, then
  // `{` inside the action ("unrecognized character in action"), so Traefik fails to parse the
  // file, which fails the whole file-provider build (docs/traefik-facts.md §2 items 9, 12). Expected: every `{{`
  // in the file starts `{{"{{"}}` or `{{"}}"}}` (e.g. escape whole runs of braces:
  // `{{"{}}"}}`).
  it('a "{" right before "}}" in a header value still yields only literal-printing actions', () => {
    const state: ProjectState = {
      id: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
      name: 'p',
      version: 1,
      changedAt: null,
      services: [{ id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', name: 'api', host: null }],
      domains: [
        {
          id: 'cccccccc-cccc-4ccc-8ccc-cccccccccccc',
          domain: 'p.example',
          subdomain: null,
          fullDomain: 'p.example',
          sslEnabled: false,
          sslProvider: null,
          isActive: true,
          certificate: null,
          routes: [
            {
              id: 'dddddddd-dddd-4ddd-8ddd-dddddddddddd',
              serviceId: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
              pathRule: '/',
              priority: 1,
              middleware: [{ headers: { customRequestHeaders: { 'X-Json': '{"a":{}}' } } }],
              targetPort: 80,
              targetUrl: null,
              healthCheck: null,
              isActive: true,
            },
          ],
        },
      ],
    };
    const r = renderProject(state, { configDir: CONFIG_DIR });
    expect(r.problems).toEqual([]);
    const mw = r.files.find((f) => f.path === 'dynamic/p/middleware.yml')!;
    expect(unescapedDelimiters(mw.content)).toEqual([]);
  });
});

describe('YAML round trip of a value whose first line is only blanks', () => {
  // src/render/serialize.ts toYaml (yaml 2.9.1 stringify) writes the header value " \n" as
  //   X-Blank: |+
  //        (a line of blanks)
  // without an indentation indicator, so the blank line counts as empty and the value reads back
  // as "\n" (upstream: https://github.com/eemeli/yaml/pull/695). The validated document and the
  // file then disagree. Expected: the file parses back to exactly the validated document (e.g. the
  // renderer rejects control characters in header values, which HTTP forbids anyway, or checks
  // parse(toYaml(doc)) against doc before writing).
  it('a value whose first line is only blanks reads back from the file unchanged', () => {
    const state: ProjectState = {
      id: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
      name: 'p',
      version: 1,
      changedAt: null,
      services: [{ id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', name: 'api', host: null }],
      domains: [
        {
          id: 'cccccccc-cccc-4ccc-8ccc-cccccccccccc',
          domain: 'p.example',
          subdomain: null,
          fullDomain: 'p.example',
          sslEnabled: false,
          sslProvider: null,
          isActive: true,
          certificate: null,
          routes: [
            {
              id: 'dddddddd-dddd-4ddd-8ddd-dddddddddddd',
              serviceId: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
              pathRule: '/',
              priority: 1,
              middleware: [{ headers: { customRequestHeaders: { 'X-Blank': ' \n' } } }],
              targetPort: 80,
              targetUrl: null,
              healthCheck: null,
              isActive: true,
            },
          ],
        },
      ],
    };
    const r = renderProject(state, { configDir: CONFIG_DIR });
    // Either the value is refused with a problem, or the file says exactly what was validated.
    if (r.problems.length) return;
    const mw = r.files.find((f) => f.path === 'dynamic/p/middleware.yml')!;
    expect(parse(unescapeGoTemplate(mw.content), { uniqueKeys: true })).toEqual(r.documents.get('dynamic/p/middleware.yml'));
  });
});

// ---------------------------------------------------------------------------------------------
// Short ids
// ---------------------------------------------------------------------------------------------

describe('object names built from short ids', () => {
  // Router, service and middleware names carry only the first 12 hex digits of the route's UUID
  // (src/render/names.ts shortId). Two routes of the same service whose ids share those digits
  // are distinct, valid rows, yet get the same router name: project.ts assigns
  // `doc.http.routers[name] = router` and the second silently replaces the first. Expected: both
  // routes rendered, or a problem reported. (Fixed: the second takes its full id.)
  it('two routes of one service whose ids share their first 12 hex digits both render (or are reported)', () => {
    const svc: Service = { id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', name: 'api', host: null };
    const mk = (id: string, pathRule: string): Route => ({
      id,
      serviceId: svc.id,
      pathRule,
      priority: 1,
      middleware: null,
      targetPort: 80,
      targetUrl: null,
      healthCheck: null,
      isActive: true,
    });
    const state: ProjectState = {
      id: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
      name: 'p',
      version: 1,
      changedAt: null,
      services: [svc],
      domains: [
        {
          id: 'cccccccc-cccc-4ccc-8ccc-cccccccccccc',
          domain: 'p.example',
          subdomain: null,
          fullDomain: 'p.example',
          sslEnabled: false,
          sslProvider: null,
          isActive: true,
          certificate: null,
          routes: [mk('12345678-9abc-4000-8000-000000000001', '/a'), mk('12345678-9abc-4000-8000-000000000002', '/b')],
        },
      ],
    };
    const r = renderProject(state, { configDir: CONFIG_DIR });
    const routers = Object.keys(r.documents.get('dynamic/p/services/api.yml')?.http?.routers ?? {});
    expect(r.problems.length > 0 || routers.length === 2).toBe(true);
  });
});
