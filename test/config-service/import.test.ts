/**
 * `import DIR` against the real database: a realistic hand-written directory (everything mappable
 * lands and renders; the rest is reported item by item) and Traefik's reference file (nothing maps;
 * every object is reported). Dry runs write nothing; existing projects are never touched.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { inProcess } from '../helpers/in-process.js';
import { parseRule, sanitizeName } from '../../src/config-service/import-map.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { loadProjects } from '../../src/db/load.js';
import { renderProject } from '../../src/render/project.js';
import { enabledProviders } from '../../src/render/providers.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { reset, rowCounts } from './helpers.js';
import { DNS_SETTINGS } from '../helpers/dns-resolver.js';
import { tempDir } from '../helpers/temp-dir.js';

let t: TestDatabase;
let svc: TraefikConfigService;
const HAND = fileURLToPath(new URL('../fixtures/import/handwritten/', import.meta.url));
const REF = fileURLToPath(new URL('../fixtures/import/reference/', import.meta.url));

beforeAll(async () => {
  t = await createTestDatabase();
  // The hand-written files use a middleware of Traefik's Kubernetes CRD provider.
  svc = new TraefikConfigService(t.db, { actor: 'import', providers: enabledProviders(null, ['kubernetescrd']) });
});
afterAll(async () => {
  await t.drop();
});
beforeEach(async () => {
  await reset(t.db);
});

describe('rule parsing', () => {
  it.each([
    ['Host(`a.example`)', { host: 'a.example', path: '/' }],
    ['Host("a.example")', { host: 'a.example', path: '/' }],
    ['Host(`a.example`) && PathPrefix(`/api`)', { host: 'a.example', path: '/api' }],
    ['(PathPrefix(`/ghost`) && Host(`b.example`))', { host: 'b.example', path: '/ghost' }],
    ['( Host(`a.example`) ) && ( PathPrefix(`/x&&y`) )', { host: 'a.example', path: '/x&&y' }],
    ['Host(`a.example`) && PathPrefix(`/!x`)', { host: 'a.example', path: '/!x' }],
    ['HostRegexp(`.+`)', null],
    ['Host(`*.example.com`) && PathPrefix(`/x`)', { host: '*.example.com', path: '/x' }],
    ['HostRegexp(`^[a-z0-9-]+\\.example\\.com$`)', { host: '*.example.com', path: '/' }],
    ['HostRegexp(`^[a-z0-9-]+\\.example\\.com`)', null],
    ['HostRegexp(`^.+\\.example\\.com$`)', null],
    ['Host(`a`) || Host(`b`)', null],
    ['!Host(`a`)', null],
    // Match types (docs/spec-format.md "Matching requests").
    ['Host(`a`) && Path(`/x`)', { host: 'a', path: '/x', match: 'exact' }],
    ['Host(`a`) && PathPrefix(`/x`) && Method(`GET`)', { host: 'a', path: '/x', methods: ['GET'] }],
    ['Host(`a`) && PathRegexp(`^/v[0-9]+/`)', { host: 'a', path: '^/v[0-9]+/', match: 'regex' }],
    [
      'Host(`a`) && Header(`X-A`, `1`) && (Method(`GET`) || Method(`POST`))',
      { host: 'a', path: '/', headers: { 'X-A': '1' }, methods: ['GET', 'POST'] },
    ],
    ['Host(`a`) && Path(`/x`) && Path(`/y`)', null],
    ['Host(`a`) && (Method(`GET`) || Path(`/y`))', null],
    ['Host(`a`) && Headers(`X-A`, `1`)', null],
    ['(Host(`a`)) && (Host(`b`))', null],
    ['foobar', null],
  ])('%s', (rule, want) => expect(parseRule(rule)).toEqual(want));

  it('project names are sanitized to the directory-name pattern', () => {
    expect(sanitizeName('apps/My_Blog.yml'.replace('/', '-'))).toBe('apps-my-blog');
    expect(sanitizeName('../../etc.yaml')).toBe('etc');
    expect(sanitizeName('___.yml')).toBe('imported');
    expect(sanitizeName('x'.repeat(80))).toHaveLength(63);
  });
});

describe('a hand-written directory', () => {
  it('dry run: reports what would be imported and writes nothing', async () => {
    const before = await rowCounts(t.db);
    const o = await svc.importDirectory(HAND, { dryRun: true });
    expect(o.projects.map((p) => p.name)).toEqual(['apps-blog', 'gitea', 'legacy', 'nextcloud', 'unmappable']);
    expect(await rowCounts(t.db)).toEqual(before);
  });

  it('imports everything mappable, renders valid files, and reports every other item with its reason', async () => {
    const o = await svc.importDirectory(HAND, { prefix: 'imp-' });
    const summary = Object.fromEntries(o.projects.map((p) => [p.name, [p.services, p.domains, p.routes]]));
    expect(summary).toEqual({
      'imp-apps-blog': [1, 1, 2],
      'imp-gitea': [1, 1, 2],
      'imp-legacy': [1, 2, 2],
      'imp-nextcloud': [1, 2, 2],
      'imp-unmappable': [2, 3, 3],
    });
    const note = (item: string) => o.notes.find((n) => n.item === item || n.item.endsWith(`.${item}`));
    const skipped = o.notes.filter((n) => n.status === 'skipped').map((n) => `${n.file}: ${n.item}`);
    for (const item of [
      'old.toml: (file)',
      'templated.yml: (file)',
      'unmappable.yml: http.routers.regex',
      'unmappable.yml: http.routers.by-header',
      'unmappable.yml: http.routers.either',
      'unmappable.yml: http.routers.weighted',
      'unmappable.yml: http.routers.geo',
      'unmappable.yml: http.routers.errors',
      'unmappable.yml: http.routers.missing-mw',
      'unmappable.yml: http.routers.dashboard',
      'unmappable.yml: http.routers.docker-svc',
      'unmappable.yml: http.services.orphan',
      'unmappable.yml: tcp.routers.postgres',
      'unmappable.yml: udp.routers.dns',
      'unmappable.yml: tls.options.modern',
      'middlewares.yml: http.middlewares.unused-strip',
      'legacy.yml: tls.certificates[1]',
      'gitea.yml: http.routers.gitea-metrics',
      'nextcloud.yml: http.routers.nextcloud-http',
    ])
      expect(skipped, item).toContain(item);
    expect(note('gitea-metrics')!.reason).toMatch(/X-Retries: must be string/);
    expect(note('weighted')!.reason).toMatch(/weighted service/);
    expect(note('geo')!.reason).toMatch(/plugin/);
    expect(
      o.notes
        .filter((n) => n.status === 'adjusted')
        .map((n) => n.reason)
        .join('\n'),
    ).toMatch(/stored in punycode as "xn--bcher-kva\.example\.org"[\s\S]*/);
    const adjusted = o.notes
      .filter((n) => n.status === 'adjusted')
      .map((n) => `${n.item}: ${n.reason}`)
      .join('\n');
    for (const want of [
      /blog: host "Blog\.Example\.org" stored in lower case/,
      /ipWhiteList \(Traefik v2 name\) stored as ipAllowList/,
      /chain web-chain expanded/,
      /priority 10 not kept/,
      /healthCheck\.mode ignored/,
    ])
      expect(adjusted).toMatch(want);

    // What landed renders, with the details that were mapped.
    const states = await loadProjects(t.db);
    for (const s of states) expect(renderProject(s, { configDir: '/app/traefik-configs' }).problems, s.name).toEqual([]);
    const spec = (name: string) => svc.exportSpec(name).then((e) => parse(e.yaml));
    const blog = await spec('imp-apps-blog');
    expect(blog.domains[0]).toMatchObject({ domain: 'example.org', subdomain: 'blog', ssl: true, provider: 'letsencrypt' });
    expect(blog.domains[0].routes.find((r: any) => r.path === '/ghost').middleware).toEqual([
      { ipAllowList: { sourceRange: ['192.168.10.0/24'] } },
      { basicAuth: { users: ['admin:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/'] } },
    ]);
    expect(blog.domains[0].routes[0]).toMatchObject({
      targetUrl: 'https://blog-backend.internal:8443',
      targetPort: 8443,
      sticky: { cookie: { name: 'blog' } },
    });
    // Several servers (docs/spec-format.md "Load balancing") are mapped with their URLs.
    const pool = (await spec('imp-unmappable')).domains.find((d: any) => d.subdomain === 't');
    expect(pool.routes[0]).toMatchObject({ servers: [{ url: 'http://pool-1:8080' }, { url: 'http://pool-2:8080' }], targetPort: 8080 });
    const nextcloud = await spec('imp-nextcloud');
    expect(nextcloud.domains.find((d: any) => d.subdomain === 'cloud').routes[0]).toMatchObject({
      service: 'nextcloud',
      targetPort: 80,
      healthCheck: { path: '/status.php', interval: '30s', timeout: '5s' },
      middleware: [
        { headers: { frameDeny: true, browserXssFilter: true, stsSeconds: 31536000, customResponseHeaders: { 'X-Powered-By': '' } } },
        { compress: {} },
      ],
    });
    const gitea = await spec('imp-gitea');
    expect(gitea.domains[0]).toMatchObject({ ssl: true });
    expect(gitea.domains[0].provider).toBeUndefined();
    expect(gitea.domains[0].routes.find((r: any) => r.path === '/api').middleware).toEqual([
      { rateLimit: { average: 50, burst: 100 } },
      { ref: 'auth@kubernetescrd' },
    ]);
    const legacy = await spec('imp-legacy');
    expect(legacy.domains.map((d: any) => [d.provider, Object.keys(d.certificate)])).toEqual([
      ['custom', ['fingerprint']],
      ['custom', ['fingerprint']],
    ]);
    expect(legacy.services[0]).toEqual({ name: 'legacy', host: '10.0.0.15' });

    // Importing again touches nothing: the projects exist.
    const before = await rowCounts(t.db);
    const again = await svc.importDirectory(HAND, { prefix: 'imp-' });
    expect(again.projects).toEqual([]);
    expect(again.notes.filter((n) => /already exists/.test(n.reason))).toHaveLength(5);
    expect(await rowCounts(t.db)).toEqual(before);
  });

  it('--project puts everything in one project', async () => {
    const o = await svc.importDirectory(HAND, { project: 'legacy-proxy' });
    expect(o.projects).toMatchObject([{ name: 'legacy-proxy', routes: 11 }]);
  });

  it('reports its progress: every project checked, then every project written, ending at done = total', async () => {
    const seen: string[] = [];
    const o = await svc.importDirectory(HAND, {
      prefix: 'imp-',
      onProgress: (phase, done, total) => seen.push(`${phase} ${done}/${total}`),
    });
    const checked = seen.filter((s) => s.startsWith('checked'));
    const written = seen.filter((s) => s.startsWith('written'));
    expect(o.projects.length).toBeGreaterThan(1);
    // Checked: one call before each project of the directory, then the end; written: likewise for those imported.
    expect(checked.at(-1)).toBe(`checked ${checked.length - 1}/${checked.length - 1}`);
    expect(written).toEqual([...o.projects.keys(), o.projects.length].map((i) => `written ${i}/${o.projects.length}`));
    expect(seen.indexOf(written[0]!)).toBe(checked.length);
  });

  it('a route whose middleware names a provider Traefik does not run is not imported, with the reason', async () => {
    const strict = new TraefikConfigService(t.db, { actor: 'import' });
    const o = await strict.importDirectory(HAND, { project: 'legacy-proxy' });
    // 10: the two-servers router imports too since routes have several servers (docs/spec-format.md "Load balancing"),
    // and the exact-path router since routes match exact paths ("Matching requests").
    expect(o.projects).toMatchObject([{ name: 'legacy-proxy', routes: 10 }]);
    expect(o.notes.map((n) => n.reason).join('\n')).toMatch(
      /"auth@kubernetescrd" names the provider "kubernetescrd", which Traefik does not run/,
    );
  });

  it('the CLI prints the projects and every item not imported; --strict exits 1', async () => {
    const { code, stdout } = await inProcess(['import', HAND, '--dry-run', '--strict'], {
      DATABASE_URL: t.url,
      TRAEFIK_EXTRA_PROVIDERS: 'kubernetescrd',
    });
    expect(code).toBe(1);
    expect(stdout).toMatch(/^\(dry run\) would import project gitea: 1 service\(s\), 1 domain\(s\), 2 route\(s\)$/m);
    expect(stdout).toMatch(/^not imported \(\d+\):$/m);
    expect(stdout).toMatch(/^ {2}unmappable\.yml: http\.routers\.regex: rule "HostRegexp/m);
    expect(stdout).not.toContain('PRIVATE KEY');
    expect((await rowCounts(t.db)).projects).toBe(0);
  });
});

describe("Traefik's reference file", () => {
  it('imports nothing and lists every object in it', async () => {
    const o = await svc.importDirectory(REF);
    expect(o.projects).toEqual([]);
    const ref = parse(await readFile(`${REF}/reference-dynamic.yaml`, 'utf8'));
    const expected: string[] = [];
    for (const proto of ['http', 'tcp', 'udp']) {
      for (const [section, objects] of Object.entries(ref[proto] ?? {}))
        for (const name of Object.keys(objects as object)) expected.push(`${proto}.${section}.${name}`);
    }
    for (const section of ['options', 'stores']) for (const name of Object.keys(ref.tls[section])) expected.push(`tls.${section}.${name}`);
    expected.push('tls.certificates[0]', 'tls.certificates[1]');
    const items = new Set(o.notes.filter((n) => n.status === 'skipped').map((n) => n.item));
    expect(expected.length).toBeGreaterThan(50);
    for (const e of expected) expect(items, e).toContain(e);
    expect(o.notes.find((n) => n.item === 'http.routers.Router0')!.reason).toMatch(/rule "foobar" is not Host/);
    expect((await rowCounts(t.db)).projects).toBe(0);
  });
});

describe('wildcard domains', () => {
  it("traefik-sync's own wildcard routers import back: the HostRegexp as the wildcard, tls.domains as sans, an exact host as its own domain", async () => {
    const dir = await tempDir('tsync-import-wild-');
    const routers = {
      wild: {
        rule: 'HostRegexp(`^[a-z0-9-]+\\.wild\\.example$`)',
        service: 'web',
        entryPoints: ['websecure'],
        tls: { certResolver: 'dns', domains: [{ main: '*.wild.example', sans: ['wild.example'] }] },
      },
      www: { rule: 'Host(`www.wild.example`)', service: 'web', entryPoints: ['websecure'], tls: { certResolver: 'le' } },
      other: {
        rule: 'Host(`*.other.example`)',
        service: 'web',
        tls: { certResolver: 'dns', domains: [{ main: 'x.other.example' }, { main: 'y.other.example' }] },
      },
    };
    const services = { web: { loadBalancer: { servers: [{ url: 'http://web.internal:8080' }] } } };
    await writeFile(path.join(dir, 'wild.yml'), JSON.stringify({ http: { routers, services } }));
    const dns = new TraefikConfigService(t.db, { actor: 'import', traefikStatic: DNS_SETTINGS });
    const o = await dns.importDirectory(dir);
    expect(o.projects.map((p) => [p.name, p.domains, p.routes])).toEqual([['wild', 3, 3]]);
    const spec = parse((await dns.exportSpec('wild')).yaml) as { domains: Array<Record<string, unknown>> };
    const byName = Object.fromEntries(spec.domains.map((d) => [d.domain, d]));
    expect(byName['*.wild.example']).toMatchObject({ provider: 'dns', sans: ['wild.example'] });
    expect(byName['*.wild.example']!.subdomain).toBeUndefined();
    expect(byName['wild.example']).toMatchObject({ subdomain: 'www', provider: 'le' });
    expect(byName['wild.example']!.sans).toBeUndefined();
    expect(byName['*.other.example']).toMatchObject({ provider: 'dns' });
    expect(byName['*.other.example']!.sans).toBeUndefined();
    expect(o.notes.find((n) => n.item === 'http.routers.other')!.reason).toMatch(/tls\.domains ignored \(only one entry whose main/);
  });
});
