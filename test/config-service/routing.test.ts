/**
 * Weighted splits and failover (docs/spec-format.md "Splits and failover") through the config
 * service: apply → export → apply changes nothing, the rendered services say what the spec says,
 * history and rollback carry the new fields, the database refuses invalid rows written by hand
 * (and the removal of a service a split still names), hostile variants are refused with the field
 * named and nothing written.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { sql } from '../../src/db/connect.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ValidationError } from '../../src/config-service/errors.js';
import { rowCounts } from './helpers.js';
import { expectRefused } from './http-cases.js';
import { MATCHING_HOSTILE, ROUTING_HOSTILE, baseMatching, baseRouting } from './routing-cases.js';

let t: TestDatabase;
let svc: TraefikConfigService;

beforeAll(async () => {
  t = await createTestDatabase();
  svc = new TraefikConfigService(t.db, { actor: 'routing', configDir: '/cfg' });
});
afterAll(async () => {
  await t?.drop();
});

/** The Traefik services (or routers) rendered into `services/<file>.yml` of project `name`. */
async function renderedServices(name: string, file: string, kind: 'services' | 'routers' = 'services'): Promise<Record<string, any>> {
  const p = await svc.preview(name);
  expect(p.problems).toEqual([]);
  const f = p.files.find((x) => x.path === `dynamic/${name}/services/${file}.yml`);
  return parse(f!.content).http[kind];
}

describe('splits and failover', () => {
  it('apply → export → apply changes nothing, and the services say what the spec says', async () => {
    expect((await svc.apply(baseRouting())).changes.length).toBeGreaterThan(0);
    const exported = await svc.exportSpec('routing');
    expect((await svc.apply(parse(exported.yaml))).changes).toEqual([]);
    const routes = parse(exported.yaml).domains[0].routes;
    expect(routes[0].split).toEqual(baseRouting().domains[0].routes[0].split);
    expect(routes[1].failover).toEqual({ service: 'backup', port: 9001 });
    const services = await renderedServices('routing', 'web');
    const [weightedName] = Object.entries(services).find(([, v]) => v.weighted)!;
    expect(services[weightedName].weighted).toEqual({
      services: [
        { name: `${weightedName}_split-0`, weight: 90 },
        { name: `${weightedName}_split-1`, weight: 10 },
      ],
    });
    expect(services[`${weightedName}_split-0`].loadBalancer.servers).toEqual([{ url: 'http://web.routing.internal:8080' }]);
    expect(services[`${weightedName}_split-1`].loadBalancer.servers).toEqual([{ url: 'http://canary.routing.internal:8081' }]);
    const [failoverName] = Object.entries(services).find(([, v]) => v.failover)!;
    expect(services[failoverName].failover).toEqual({ service: `${failoverName}_primary`, fallback: `${failoverName}_fallback` });
    expect(services[`${failoverName}_primary`].loadBalancer).toMatchObject({
      servers: [{ url: 'http://web.routing.internal:9000' }],
      healthCheck: { path: '/healthz', interval: '5s' },
    });
    expect(services[`${failoverName}_fallback`].loadBalancer.servers).toEqual([{ url: 'http://backup.routing.internal:9001' }]);
  });

  it('history names the changed split; rollback restores it', async () => {
    const [{ id: before }] = await t.db.query(sql`SELECT max(id) AS id FROM audit_log`);
    const changed = baseRouting();
    changed.domains[0].routes[0].split[0].weight = 50;
    changed.domains[0].routes[0].split[1].weight = 50;
    await svc.apply(changed);
    const { entries } = await svc.history('routing', { limit: 1 });
    expect(entries[0]!.summary).toMatch(/split .*90.* → .*50/);
    await svc.rollback('routing', String(before));
    expect(parse((await svc.exportSpec('routing')).yaml).domains[0].routes[0].split).toEqual(baseRouting().domains[0].routes[0].split);
  });

  it('the database refuses a weight of -1, a split with servers, failover without a health check (raw SQL)', async () => {
    const bad = [
      [
        sql`UPDATE route_configs SET split = '[{"service": "web", "weight": -1}, {"service": "web"}]' WHERE path_rule = '/'`,
        'route_configs_split_format',
      ],
      [
        sql`UPDATE route_configs SET split = '[{"service": "web\`) || Host(\`x"}, {"service": "web"}]' WHERE path_rule = '/'`,
        'route_configs_split_format',
      ],
      [sql`UPDATE route_configs SET servers = '[{"host": "a.example"}]' WHERE path_rule = '/'`, 'route_configs_split_alone'],
      [sql`UPDATE route_configs SET health_check = NULL WHERE path_rule = '/api'`, 'route_configs_failover_health_check'],
    ] as const;
    for (const [query, constraint] of bad) await expect(t.db.query(query)).rejects.toMatchObject({ constraint });
  });

  it('the database refuses, at commit, a split naming a missing service and removing a service a split names', async () => {
    await expect(
      t.db.query(sql`UPDATE route_configs SET split = '[{"service": "web"}, {"service": "ghost"}]' WHERE path_rule = '/'`),
    ).rejects.toMatchObject({ constraint: 'route_configs_split_services_exist' });
    await expect(t.db.query(sql`DELETE FROM services WHERE name = 'web-canary'`)).rejects.toMatchObject({
      constraint: 'route_configs_split_services_exist',
    });
    await expect(t.db.query(sql`UPDATE services SET name = 'old-backup' WHERE name = 'backup'`)).rejects.toMatchObject({
      constraint: 'route_configs_split_services_exist',
    });
  });
});

describe('match types', () => {
  it('apply → export → apply changes nothing, and each route gets its own rule and priority', async () => {
    await svc.apply(baseMatching());
    const exported = await svc.exportSpec('matching');
    expect((await svc.apply(parse(exported.yaml))).changes).toEqual([]);
    // Routes of one path come out ordered by id: compare them by port.
    const byTargetPort = (rs: Array<Record<string, any>>) => [...rs].sort((a, b) => a.targetPort - b.targetPort);
    expect(byTargetPort(parse(exported.yaml).domains[0].routes)).toEqual(baseMatching().domains[0].routes);
    const routers = Object.values((await renderedServices('matching', 'web', 'routers')) as Record<string, any>);
    const rules = routers.map((r) => [r.rule, r.priority]).sort((a, b) => b[1] - a[1]);
    expect(rules.map(([rule]) => rule)).toEqual([
      // The longer pattern first, then the exact path, then conditions, then the plain prefix.
      'Host(`matching.example.org`) && PathRegexp(`^/api/v[0-9]+/users$`)',
      'Host(`matching.example.org`) && Path(`/api`)',
      expect.stringMatching(/PathPrefix\(`\/api`\) && (Header|\(Method)/),
      expect.stringMatching(/PathPrefix\(`\/api`\) && (Header|\(Method)/),
      'Host(`matching.example.org`) && PathPrefix(`/api`)',
    ]);
    expect(rules.map(([rule]) => rule)).toContain('Host(`matching.example.org`) && PathPrefix(`/api`) && Header(`X-Canary`, `1`)');
    expect(rules.map(([rule]) => rule)).toContain(
      'Host(`matching.example.org`) && PathPrefix(`/api`) && (Method(`POST`) || Method(`PUT`))',
    );
  });

  it('the database refuses two active routes with the same rule, a bad regex text and a header name with a backtick (raw SQL)', async () => {
    const [{ id: routeId }] = await t.db.query(sql`SELECT id FROM route_configs WHERE headers IS NOT NULL`);
    await expect(
      t.db.query(sql`INSERT INTO route_configs (domain_config_id, service_id, path_rule, target_port, headers)
                     SELECT domain_config_id, service_id, path_rule, 9999, '{"x-CANARY": "1"}' FROM route_configs WHERE id = ${routeId}`),
    ).rejects.toMatchObject({ constraint: 'route_configs_active_rule' });
    const bad = [
      [sql`UPDATE route_configs SET path_rule = '^/a\`) || Host(\`x' WHERE id = ${routeId}`, 'route_configs_path_rule_format'],
      [
        sql`UPDATE route_configs SET path_match = 'regex', path_rule = '{{ .Env }}' WHERE id = ${routeId}`,
        'route_configs_path_rule_format',
      ],
      [sql`UPDATE route_configs SET headers = '{"X\`": "1"}' WHERE id = ${routeId}`, 'route_configs_headers_format'],
      [sql`UPDATE route_configs SET headers = '{"X-A": "1\`) || Host(\`x"}' WHERE id = ${routeId}`, 'route_configs_headers_format'],
      [sql`UPDATE route_configs SET methods = '["GET", "GET"]' WHERE id = ${routeId}`, 'route_configs_methods_format'],
      [sql`UPDATE route_configs SET path_match = 'glob' WHERE id = ${routeId}`, 'route_configs_path_match_values'],
    ] as const;
    for (const [query, constraint] of bad) await expect(t.db.query(query)).rejects.toMatchObject({ constraint });
  });
});

describe('the service API', () => {
  it('refuses by field, writing nothing: a split naming a missing service, a Go-less regex, a header value with a backtick, the same rule twice', async () => {
    const [{ domain, service }] = await t.db.query(sql`
      SELECT r.domain_config_id AS domain, r.service_id AS service FROM route_configs r
        JOIN domain_configs d ON d.id = r.domain_config_id WHERE d.full_domain = 'matching.example.org' LIMIT 1`);
    const base = { domainConfigId: domain, serviceId: service, targetPort: 7000 };
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ pathRule: '/s', split: [{ service: 'web' }, { service: 'ghost' }] }, 'split', /ghost/],
      [{ pathRule: '^/(?!admin)', pathMatch: 'regex' }, 'pathRule', /does not compile in Go.*lookahead/],
      [{ pathRule: '/h', headers: { 'X-A': '1`) || Host(`evil' } }, 'headers.X-A', /without backticks/],
      [{ pathRule: '/api', methods: ['PUT', 'POST'] }, 'pathRule', /already has a route/],
    ];
    for (const [input, field, says] of cases) {
      const before = await rowCounts(t.db);
      const err = await svc.createRouteConfig({ ...base, ...input } as never).catch((e: unknown) => e);
      expect(err, JSON.stringify(input)).toBeInstanceOf(ValidationError);
      const issue = (err as ValidationError).issues.find((i) => i.path.startsWith(field));
      expect(issue, JSON.stringify((err as ValidationError).issues)).toBeDefined();
      expect(issue!.message).toMatch(says);
      expect(await rowCounts(t.db)).toEqual(before);
    }
  });
});

describe('import', () => {
  it('maps weighted and failover services and Path, PathRegexp, Header and Method rules; reports a weighted service it cannot map', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'routing-import-'));
    try {
      await writeFile(
        path.join(dir, 'releases.yml'),
        `http:
  routers:
    canary: { rule: "Host(\`rel.example.org\`)", service: canary }
    api: { rule: "Host(\`rel.example.org\`) && PathPrefix(\`/api\`)", service: api-ha }
    exact: { rule: "Host(\`rel.example.org\`) && Path(\`/api\`)", service: stable }
    users: { rule: "Host(\`rel.example.org\`) && PathRegexp(\`^/u/[0-9]+$\`)", service: stable }
    beta: { rule: "Host(\`rel.example.org\`) && PathPrefix(\`/api\`) && Header(\`X-Beta\`, \`on\`) && (Method(\`GET\`) || Method(\`HEAD\`))", service: stable }
    pooled: { rule: "Host(\`pool.example.org\`)", service: pooled }
  services:
    canary: { weighted: { services: [{ name: stable, weight: 9 }, { name: next, weight: 1 }] } }
    api-ha: { failover: { service: api, fallback: api-backup } }
    api: { loadBalancer: { servers: [{ url: "http://api:3000" }], healthCheck: { path: /healthz, interval: 5s } } }
    api-backup: { loadBalancer: { servers: [{ url: "http://api-backup:3000" }] } }
    stable: { loadBalancer: { servers: [{ url: "http://stable:8080" }] } }
    next: { loadBalancer: { servers: [{ url: "http://next:8081" }] } }
    pooled: { weighted: { services: [{ name: stable }, { name: two }] } }
    two: { loadBalancer: { servers: [{ url: "http://a:1" }, { url: "http://b:2" }] } }
`,
      );
      const o = await svc.importDirectory(dir, { prefix: 'imp-' });
      expect(o.notes.find((n) => n.item === 'http.routers.pooled')?.reason).toMatch(/weighted service "pooled": its service "two" is not/);
      const routes = parse((await svc.exportSpec('imp-releases')).yaml).domains[0].routes;
      const at = (p: string, extra: Record<string, unknown> = {}) =>
        routes.find((r: any) => r.path === p && Object.entries(extra).every(([k, v]) => JSON.stringify(r[k]) === JSON.stringify(v)));
      expect(at('/')).toMatchObject({
        service: 'stable',
        targetPort: 8080,
        split: [
          { service: 'stable', port: 8080, weight: 9 },
          { service: 'next', port: 8081, weight: 1 },
        ],
      });
      expect(at('/api', { match: undefined, headers: undefined })).toMatchObject({
        service: 'api',
        targetPort: 3000,
        healthCheck: { path: '/healthz' },
        failover: { service: 'api-backup', port: 3000 },
      });
      expect(at('/api', { match: 'exact' })).toMatchObject({ service: 'stable' });
      expect(at('^/u/[0-9]+$', { match: 'regex' })).toMatchObject({ service: 'stable' });
      expect(at('/api', { headers: { 'X-Beta': 'on' } })).toMatchObject({ methods: ['GET', 'HEAD'] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('hostile variants', () => {
  for (const c of MATCHING_HOSTILE) {
    it(`refuses ${c.name}, naming ${c.field}, and writes nothing`, () => {
      const spec = baseMatching();
      spec.name = 'hostile-matching';
      return expectRefused(svc, t.db, spec, c);
    });
  }
  for (const c of ROUTING_HOSTILE) {
    it(`refuses ${c.name}, naming ${c.field}, and writes nothing`, () => {
      const spec = baseRouting();
      spec.name = 'hostile-routing';
      return expectRefused(svc, t.db, spec, c);
    });
  }
});
