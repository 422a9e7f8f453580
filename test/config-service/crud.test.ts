/**
 * The row-level API of TraefikConfigService against the real database: CRUD on projects,
 * services, domains, routes and certificates; hostile inputs refused by field with nothing
 * written; actor attribution; preview; the synced check without a controller.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sql } from '../../src/db/connect.js';
import { NotFoundError, ValidationError } from '../../src/config-service/errors.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { enabledProviders } from '../../src/render/providers.js';
import { parseInternalTargets } from '../../src/address.js';
import { SyncTimeoutError } from '../../src/config-service/sync-check.js';
import { UserError } from '../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { CERT_PEM, KEY_PEM } from '../helpers/seed.js';
import { reset, rowCounts } from './helpers.js';

const ROTATED_CERT = readFileSync(new URL('../fixtures/config-service/rotated.crt', import.meta.url), 'utf8');
const ROTATED_KEY = readFileSync(new URL('../fixtures/config-service/rotated.key', import.meta.url), 'utf8');
const OTHER_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let t: TestDatabase;
let svc: TraefikConfigService;
let ids: { project: string; service: string; domain: string; route: string; other: string };

beforeAll(async () => {
  t = await createTestDatabase();
  svc = new TraefikConfigService(t.db, { actor: 'alice@example' });
});
afterAll(async () => {
  await t.drop();
});
beforeEach(async () => {
  await reset(t.db);
  const project = (await svc.createProject({ name: 'shop' })).id;
  const service = (await svc.createService({ projectId: project, name: 'api', host: 'api.internal' })).id;
  const domain = (await svc.createDomainConfig({ projectId: project, domain: 'shop.example', sslProvider: 'letsencrypt' })).id;
  const route = (await svc.createRouteConfig({ domainConfigId: domain, serviceId: service, pathRule: '/api', targetPort: 3000 })).id;
  const other = (await svc.createProject({ name: 'other' })).id;
  await svc.createDomainConfig({ projectId: other, domain: 'taken.example', sslEnabled: false });
  ids = { project, service, domain, route, other };
});

describe('CRUD', () => {
  it('creates rows with defaults, reads them back, and attributes every change to the actor', async () => {
    const cfg = await svc.getProjectConfigs(ids.project);
    expect(cfg.project.name).toBe('shop');
    expect(cfg.services.map((s) => [s.name, s.host])).toEqual([['api', 'api.internal']]);
    expect(cfg.domains[0]).toMatchObject({
      fullDomain: 'shop.example',
      sslEnabled: true,
      sslProvider: 'letsencrypt',
      isActive: true,
      certificate: null,
    });
    expect(cfg.domains[0]!.routes[0]).toMatchObject({ pathRule: '/api', priority: 1, targetPort: 3000, middleware: null, isActive: true });
    expect((await svc.listProjectDomains(ids.project)).map((d) => d.fullDomain)).toEqual(['shop.example']);
    expect((await svc.listServiceRoutes(ids.service)).map((r) => r.id)).toEqual([ids.route]);
    const actors = await t.db.query(sql`SELECT DISTINCT actor FROM audit_log`);
    expect(actors.map((a) => a.actor)).toEqual(['alice@example']);
  });

  it('updates only the given fields and deletes with cascade to routes', async () => {
    const r = await svc.updateRouteConfig(ids.route, { targetPort: 3001, middleware: [{ stripPrefix: { prefixes: ['/api'] } }] });
    expect(r).toMatchObject({ targetPort: 3001, pathRule: '/api', middleware: [{ stripPrefix: { prefixes: ['/api'] } }] });
    const d = await svc.updateDomainConfig(ids.domain, { subdomain: 'www' });
    expect(d).toMatchObject({ fullDomain: 'www.shop.example', sslProvider: 'letsencrypt' });
    const s = await svc.updateService(ids.service, { host: null });
    expect(s.host).toBeNull();
    const p = await svc.updateProject(ids.project, { name: 'shop2' });
    expect(p.name).toBe('shop2');
    await svc.deleteService(ids.service);
    expect(await svc.listServiceRoutes(ids.service)).toEqual([]);
    await svc.deleteDomainConfig(ids.domain);
    await svc.deleteProject(ids.project);
    expect((await rowCounts(t.db)).projects).toBe(1);
  });

  it('an update that changes nothing writes nothing (no audit entry)', async () => {
    const before = await rowCounts(t.db);
    await svc.updateRouteConfig(ids.route, { targetPort: 3000 });
    await svc.updateDomainConfig(ids.domain, {});
    expect(await rowCounts(t.db)).toEqual(before);
  });

  it('stores a custom certificate with its domain, rotates it, and never returns the key', async () => {
    const d = await svc.createDomainConfig({
      projectId: ids.project,
      domain: 'shop.example',
      subdomain: 'secure',
      sslProvider: 'custom',
      certificate: { certPem: CERT_PEM, keyPem: KEY_PEM },
    });
    const cfg = await svc.getProjectConfigs(ids.project);
    const cert = cfg.domains.find((x) => x.id === d.id)!.certificate!;
    expect(cert.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(cert.notAfter?.getUTCFullYear()).toBe(2036);
    expect(JSON.stringify(cfg)).not.toContain('PRIVATE KEY');
    const preview = await svc.preview('shop');
    expect(preview.files.find((f) => f.path === 'ssl/keys/secure.shop.example.key')!.content).toBe('(private key, not shown)\n');
    expect(JSON.stringify(preview)).not.toContain('PRIVATE KEY');
    const rotated = await svc.updateCertificate(cert.id, { certPem: ROTATED_CERT, keyPem: ROTATED_KEY });
    expect(rotated.fingerprint).not.toBe(cert.fingerprint);
    await expect(svc.deleteCertificate(cert.id)).rejects.toThrow(/certificate/);
    await svc.updateDomainConfig(d.id, { sslProvider: null, certificate: null });
    expect((await svc.getProjectConfigs(ids.project)).domains.find((x) => x.id === d.id)!.certificate).toBeNull();
    const keys = await t.db.query(sql`SELECT count(*) AS n FROM audit_log WHERE old_row ? 'key_pem' OR new_row ? 'key_pem'`);
    expect(Number(keys[0]!.n)).toBe(0);
  });

  it('unknown ids are NotFoundErrors naming the row', async () => {
    const missing = '00000000-0000-4000-8000-000000000001';
    await expect(svc.updateRouteConfig(missing, { targetPort: 1 })).rejects.toBeInstanceOf(NotFoundError);
    await expect(svc.deleteDomainConfig(missing)).rejects.toThrow(/domain "00000000/);
    await expect(svc.createService({ projectId: missing, name: 'x' })).rejects.toThrow(/projectId: project/);
    await expect(svc.getProjectConfigs('not-a-uuid')).rejects.toThrow(/projectId: expected a UUID/);
  });
});

type Call = (ids: { project: string; service: string; domain: string; route: string; other: string }) => Promise<unknown>;
const CRUD_CASES: Array<{ name: string; call: Call; field: string; says?: RegExp }> = [
  { name: 'project name with traversal', call: () => svc.createProject({ name: '../x' }), field: 'name' },
  { name: 'project name upper case', call: () => svc.createProject({ name: 'Shop' }), field: 'name', says: /lower case/ },
  { name: 'project name empty', call: () => svc.createProject({ name: '' }), field: 'name' },
  { name: 'project name 64 characters', call: () => svc.createProject({ name: 'a'.repeat(64) }), field: 'name' },
  {
    name: 'project name of the wrong type',
    call: () => svc.createProject({ name: 42 as unknown as string }),
    field: 'name',
    says: /expected a string, got 42/,
  },
  { name: 'project name taken', call: () => svc.createProject({ name: 'other' }), field: 'name' },
  { name: 'service name with a slash', call: (i) => svc.createService({ projectId: i.project, name: 'a/b' }), field: 'name' },
  {
    name: 'route to the sidecar itself',
    call: (i) => svc.updateRouteConfig(i.route, { targetUrl: 'http://127.0.0.1:9090' }),
    field: 'targetUrl',
    says: /points at .*ALLOWED_INTERNAL_TARGETS/,
  },
  {
    name: 'route to the metadata service in IPv4-mapped IPv6',
    call: (i) => svc.updateRouteConfig(i.route, { targetUrl: 'http://[::ffff:169.254.169.254]/' }),
    field: 'targetUrl',
    says: /metadata/,
  },
  { name: 'service host localhost', call: (i) => svc.updateService(i.service, { host: 'localhost' }), field: 'host', says: /points at/ },
  {
    name: 'forwardAuth at the pod',
    call: (i) => svc.updateRouteConfig(i.route, { middleware: [{ forwardAuth: { address: 'http://0.0.0.0:9090/' } }] }),
    field: 'middleware[0].forwardAuth.address',
    says: /points at/,
  },
  {
    name: 'service name taken',
    call: (i) => svc.createService({ projectId: i.project, name: 'api' }),
    field: 'name',
    says: /already has a service/,
  },
  {
    name: 'service host with underscore',
    call: (i) => svc.createService({ projectId: i.project, name: 'x', host: 'bad_host' }),
    field: 'host',
  },
  { name: 'projectId not a UUID', call: () => svc.createService({ projectId: "1' OR '1'='1", name: 'x' }), field: 'projectId' },
  {
    name: 'IDN domain',
    call: (i) => svc.createDomainConfig({ projectId: i.project, domain: 'münchen.example' }),
    field: 'domain',
    says: /xn--mnchen-3ya\.example/,
  },
  { name: 'upper-case domain', call: (i) => svc.createDomainConfig({ projectId: i.project, domain: 'EXAMPLE.org' }), field: 'domain' },
  {
    name: 'backtick in a domain',
    call: (i) => svc.createDomainConfig({ projectId: i.project, domain: 'a`b.example' }),
    field: 'domain',
    says: /backtick/,
  },
  {
    name: 'NUL in a subdomain',
    call: (i) => svc.createDomainConfig({ projectId: i.project, domain: 'x.example', subdomain: 'a\u0000' }),
    field: 'subdomain',
    says: /NUL/,
  },
  {
    name: 'domain active in another project',
    call: (i) => svc.createDomainConfig({ projectId: i.project, domain: 'taken.example' }),
    field: 'domain',
    says: /project "other"/,
  },
  {
    name: 'domain moved onto a taken one',
    call: (i) => svc.updateDomainConfig(i.domain, { domain: 'taken.example' }),
    field: 'domain',
    says: /project "other"/,
  },
  {
    name: 'same domain twice in a project',
    call: (i) => svc.createDomainConfig({ projectId: i.project, domain: 'shop.example', isActive: false }),
    field: 'domain',
    says: /already has domain/,
  },
  {
    name: 'resolver name with spaces',
    call: (i) => svc.createDomainConfig({ projectId: i.project, domain: 'y.example', sslProvider: 'a b' }),
    field: 'sslProvider',
  },
  {
    name: 'custom provider without certificate',
    call: (i) => svc.updateDomainConfig(i.domain, { sslProvider: 'custom' }),
    field: 'certificate',
    says: /no certificate/,
  },
  {
    name: 'port 0',
    call: (i) => svc.createRouteConfig({ domainConfigId: i.domain, serviceId: i.service, pathRule: '/x', targetPort: 0 }),
    field: 'targetPort',
    says: /expected 1–65535, got 0/,
  },
  { name: 'port 70000 on update', call: (i) => svc.updateRouteConfig(i.route, { targetPort: 70000 }), field: 'targetPort' },
  {
    name: 'port as a string',
    call: (i) => svc.updateRouteConfig(i.route, { targetPort: '80' as unknown as number }),
    field: 'targetPort',
    says: /"80" \(a string\)/,
  },
  { name: 'path without a slash', call: (i) => svc.updateRouteConfig(i.route, { pathRule: 'api' }), field: 'pathRule' },
  {
    name: 'path taken on the domain',
    call: (i) =>
      svc.createRouteConfig({ domainConfigId: i.domain, serviceId: i.service, pathRule: '/api', targetPort: 1, isActive: false }),
    field: 'pathRule',
  },
  {
    name: 'ipWhiteList',
    call: (i) => svc.updateRouteConfig(i.route, { middleware: [{ ipWhiteList: { sourceRange: ['10.0.0.0/8'] } }] }),
    field: 'middleware[0]',
    says: /ipAllowList/,
  },
  {
    name: 'unknown middleware type',
    call: (i) => svc.updateRouteConfig(i.route, { middleware: [{ plugin: { x: {} } }] }),
    field: 'middleware[0]',
  },
  {
    name: '{{ in a header',
    call: (i) => svc.updateRouteConfig(i.route, { middleware: [{ headers: { customRequestHeaders: { X: '{{ env "PGPASSWORD" }}' } } }] }),
    field: 'middleware[0].headers.customRequestHeaders.X',
  },
  {
    name: 'header of the wrong type (Traefik schema)',
    call: (i) => svc.updateRouteConfig(i.route, { middleware: [{ headers: { customRequestHeaders: { X: ['a'] } } }] }),
    field: 'middleware[0].headers.customRequestHeaders.X',
  },
  {
    name: 'huge health check',
    call: (i) =>
      svc.updateRouteConfig(i.route, {
        healthCheck: { path: '/h', headers: Object.fromEntries(Array.from({ length: 80 }, (_, n) => [`X-${n}`, 'v'.repeat(1000)])) },
      }),
    field: 'healthCheck',
    says: /bytes as JSON/,
  },
  {
    name: 'health check path without slash',
    call: (i) => svc.updateRouteConfig(i.route, { healthCheck: { path: 'h' } }),
    field: 'healthCheck.path',
  },
  {
    name: 'targetUrl of another scheme',
    call: (i) => svc.updateRouteConfig(i.route, { targetUrl: 'file:///etc/passwd' }),
    field: 'targetUrl',
  },
  {
    name: 'service of another project',
    call: async (i) => {
      const s = await svc.createService({ projectId: i.other, name: 'x' });
      return svc.updateRouteConfig(i.route, { serviceId: s.id });
    },
    field: 'serviceId',
    says: /not a service of project "shop"/,
  },
  {
    name: 'unknown field',
    call: (i) => svc.updateRouteConfig(i.route, { port: 80 } as never),
    field: 'port',
    says: /did you mean "targetPort"/,
  },
  {
    name: 'certificate key that does not match',
    call: (i) =>
      svc.createDomainConfig({
        projectId: i.project,
        domain: 'shop.example',
        subdomain: 'secure',
        sslProvider: 'custom',
        certificate: { certPem: CERT_PEM, keyPem: OTHER_KEY },
      }),
    field: 'certificate.keyPem',
    says: /does not belong/,
  },
  {
    name: 'certificate for another domain',
    call: (i) =>
      svc.createDomainConfig({
        projectId: i.project,
        domain: 'shop.example',
        subdomain: 'other',
        sslProvider: 'custom',
        certificate: { certPem: CERT_PEM, keyPem: KEY_PEM },
      }),
    field: 'certificate.certPem',
    says: /does not cover/,
  },
  {
    name: 'certificate that is not PEM',
    call: (i) =>
      svc.createDomainConfig({
        projectId: i.project,
        domain: 'shop.example',
        subdomain: 'secure',
        sslProvider: 'custom',
        certificate: { certPem: 'hello', keyPem: KEY_PEM },
      }),
    field: 'certificate.certPem',
  },
  {
    name: 'certificate on a non-custom domain',
    call: (i) => svc.createCertificate({ domainConfigId: i.domain, certPem: CERT_PEM, keyPem: KEY_PEM }),
    field: 'domainConfigId',
  },
];

describe('ALLOWED_INTERNAL_TARGETS', () => {
  it('a service that allows a named internal target accepts it, and only it', async () => {
    const allowing = new TraefikConfigService(t.db, {
      actor: 'alice@example',
      allowedInternalTargets: parseInternalTargets('127.0.0.1:8081'),
    });
    const r = await allowing.updateRouteConfig(ids.route, { targetUrl: 'http://127.0.0.1:8081' });
    expect(r.targetUrl).toBe('http://127.0.0.1:8081');
    await expect(allowing.updateRouteConfig(ids.route, { targetUrl: 'http://127.0.0.1:9090' })).rejects.toThrow(/targetUrl: .*points at/);
  });
});

describe('hostile API inputs are refused by field and write nothing', () => {
  it.each(CRUD_CASES)('$name', async (c) => {
    const before = await rowCounts(t.db);
    const err = await c.call(ids).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    const lines = err instanceof ValidationError ? err.issues.map((i) => `${i.path}: ${i.message}`) : [(err as Error).message];
    const hit = lines.find((l) => l.startsWith(c.field));
    expect(hit, lines.join('\n')).toBeDefined();
    if (c.says) expect(hit).toMatch(c.says);
    expect(lines.join('\n')).not.toContain('PRIVATE KEY');
    const after = await rowCounts(t.db);
    if (c.name === 'service of another project') {
      after.services -= 1;
      after.audit -= 1;
    }
    expect(after).toEqual(before);
  });

  it('reports every problem of one input at once', async () => {
    const err = await svc
      .createRouteConfig({
        domainConfigId: ids.domain,
        serviceId: 'nope',
        pathRule: 'x',
        targetPort: 0,
        priority: -1,
        middleware: [{ ipWhiteList: {} }],
      })
      .catch((e: ValidationError) => e);
    expect((err as ValidationError).issues.map((i) => i.path).sort()).toEqual([
      'middleware[0]',
      'pathRule',
      'priority',
      'serviceId',
      'targetPort',
    ]);
  });

  it('two projects claiming the same domain at the same time: one wins, the other gets a field error naming it', async () => {
    const a = await svc.createProject({ name: 'race-a' });
    const b = await svc.createProject({ name: 'race-b' });
    const results = await Promise.allSettled([
      svc.createDomainConfig({ projectId: a.id, domain: 'race.example' }),
      svc.createDomainConfig({ projectId: b.id, domain: 'race.example' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(ValidationError);
    expect((lost.reason as ValidationError).issues[0]).toMatchObject({
      path: 'domain',
      message: expect.stringMatching(/"race\.example" is already active in project "race-[ab]"/),
    });
    expect(Number((await t.db.query(sql`SELECT count(*) AS n FROM domain_configs WHERE full_domain = 'race.example'`))[0]!.n)).toBe(1);
  });

  it('refuses an actor that is not one printable line', () => {
    expect(() => new TraefikConfigService(t.db, { actor: 'a\nb' })).toThrow(/actor/);
  });
});

describe('docs/spec-format.md', () => {
  it('its complete example is a valid spec (certificate files aside)', async () => {
    const { parse } = await import('yaml');
    const doc = readFileSync(new URL('../../docs/spec-format.md', import.meta.url), 'utf8');
    const spec = parse(/```yaml\n([\s\S]*?)```/.exec(doc)![1]!);
    const secure = spec.domains.find((d: any) => d.certificate);
    expect(secure.certificate).toEqual({ certFile: 'certs/secure.shop.example.com.crt', keyFile: 'certs/secure.shop.example.com.key' });
    delete secure.certificate;
    secure.provider = 'letsencrypt';
    // Its ref names Traefik's Kubernetes CRD provider, which the example says to list.
    const crd = new TraefikConfigService(t.db, { actor: 'docs', providers: enabledProviders(null, ['kubernetescrd']) });
    const p = await crd.preview('docs-example', { ...spec, name: 'docs-example' });
    expect(p.problems).toEqual([]);
    expect(p.files.length).toBeGreaterThan(3);
  });
});

describe('preview and synced check', () => {
  it('preview renders the current state, or a changed one, writing nothing and masking keys', async () => {
    const now = await svc.preview('shop');
    expect(now.problems).toEqual([]);
    expect(now.files.map((f) => f.path)).toEqual([
      'dynamic/shop/domains.yml',
      'dynamic/shop/middleware.yml',
      'dynamic/shop/services/api.yml',
    ]);
    expect(now.files.every((f) => f.status === 'created')).toBe(true);
    const before = await rowCounts(t.db);
    const spec = (await svc.exportSpec('shop')).yaml;
    const { parse } = await import('yaml');
    const changed = parse(spec);
    changed.domains[0].routes[0].targetPort = 4000;
    const p = await svc.preview('shop', changed);
    expect(p.problems).toEqual([]);
    const api = p.files.find((f) => f.path.endsWith('api.yml'))!;
    expect(api.content).toContain('http://api.internal:4000');
    const bad = await svc.preview('shop', {
      ...changed,
      domains: [{ ...changed.domains[0], routes: [{ ...changed.domains[0].routes[0], targetPort: 0 }] }],
    });
    expect(bad.problems.map((i) => i.path)).toEqual(['domains[0].routes[0].targetPort']);
    expect(bad.files).toEqual([]);
    expect(await rowCounts(t.db)).toEqual(before);
  });

  it('waitForSync times out clearly when no controller writes the files', async () => {
    const err = await svc.waitForSync(ids.project, { timeoutMs: 200, intervalMs: 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyncTimeoutError);
    expect((err as Error).message).toMatch(/not in sync after 200 ms: 3 file\(s\) not yet written/);
  });
});
