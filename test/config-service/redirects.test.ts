/**
 * Domain redirects through the config service (docs/spec-format.md "Domain redirects"): apply →
 * export → apply changes nothing, the rendered routers and middleware say what the spec says,
 * history and rollback carry the redirect, the database refuses invalid rows written by hand
 * (format, routes on a redirecting domain, loops across projects), redirect routers of Traefik
 * files import as redirects, and hostile variants are refused with the field named and nothing written.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ValidationError } from '../../src/config-service/errors.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { sql } from '../../src/db/connect.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { rowCounts } from './helpers.js';
import { expectRefused } from './http-cases.js';
import { REDIRECT_HOSTILE, redirectSpec } from './redirect-cases.js';

let t: TestDatabase;
let svc: TraefikConfigService;

beforeAll(async () => {
  t = await createTestDatabase();
  svc = new TraefikConfigService(t.db, { actor: 'redirects', configDir: '/cfg' });
});
afterAll(async () => {
  await t?.drop();
});

/** Full domain → redirect (or null) of an exported spec. */
function redirects(yaml: string): Record<string, unknown> {
  const domains = parse(yaml).domains as Array<{ domain: string; subdomain?: string; redirect?: unknown }>;
  return Object.fromEntries(domains.map((d) => [d.subdomain ? `${d.subdomain}.${d.domain}` : d.domain, d.redirect ?? null]));
}

/** The refusal of `spec` (a ValidationError), and that nothing was written. */
async function refused(spec: unknown): Promise<ValidationError> {
  const before = await rowCounts(t.db);
  const err = await svc.apply(spec).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ValidationError);
  expect(await rowCounts(t.db)).toEqual(before);
  return err as ValidationError;
}

describe('domain redirects', () => {
  it('apply → export → apply changes nothing; routers and middleware redirect with path and query', async () => {
    await svc.apply(redirectSpec());
    const exported = await svc.exportSpec('moved');
    expect(redirects(exported.yaml)).toEqual({
      'www.moved.example': { to: 'moved.example' },
      'moved.example': null,
      'old-moved.example': { to: 'moved.example', scheme: 'https', permanent: false },
    });
    expect((await svc.apply(parse(exported.yaml))).changes).toEqual([]);
    const p = await svc.preview('moved');
    expect(p.problems).toEqual([]);
    const domains = parse(p.files.find((f) => f.path === 'dynamic/moved/domains.yml')!.content);
    const middlewares = parse(p.files.find((f) => f.path === 'dynamic/moved/middleware.yml')!.content).http.middlewares;
    const routers = Object.values(domains.http.routers) as any[];
    const www = routers.filter((r) => r.rule === 'Host(`www.moved.example`)');
    expect(www.map((r) => r.entryPoints[0]).sort()).toEqual(['web', 'websecure']);
    expect(www.every((r) => r.service === 'noop@internal')).toBe(true);
    expect(www.find((r) => r.tls)!.tls).toEqual({ certResolver: 'letsencrypt' });
    expect(middlewares[www[0].middlewares[0]].redirectRegex).toEqual({
      regex: '^(https?)://www\\.moved\\.example(:[0-9]+)?(.*)$',
      replacement: '${1}://moved.example${2}${3}',
      permanent: true,
    });
    const old = routers.filter((r) => r.rule === 'Host(`old-moved.example`)');
    expect(old.map((r) => r.entryPoints)).toEqual([['web']]);
    expect(middlewares[old[0].middlewares[0]].redirectRegex).toMatchObject({
      replacement: 'https://moved.example${3}',
      permanent: false,
    });
  });

  it('history names the redirect; rollback restores it', async () => {
    const [{ id: before }] = await t.db.query(sql`SELECT max(id) AS id FROM audit_log`);
    const changed = redirectSpec();
    changed.domains[0].redirect = { to: 'moved.example', scheme: 'https' };
    await svc.apply(changed);
    const { entries } = await svc.history('moved', { limit: 1 });
    expect(entries[0]!.summary).toMatch(/redirect .* → .*https/);
    await svc.rollback('moved', String(before));
    expect(redirects((await svc.exportSpec('moved')).yaml)['www.moved.example']).toEqual({ to: 'moved.example' });
  });

  it('the database refuses a bad redirect, routes on a redirecting domain, and a loop (raw SQL)', async () => {
    const bad = [
      [
        `UPDATE domain_configs SET redirect = '{"to": "www.moved.example"}' WHERE full_domain = 'www.moved.example'`,
        'domain_configs_redirect_format',
      ],
      [
        `UPDATE domain_configs SET redirect = '{"to": "a.example", "code": 301}' WHERE full_domain = 'www.moved.example'`,
        'domain_configs_redirect_format',
      ],
      [
        `UPDATE domain_configs SET redirect = '{"to": "www.moved.example"}' WHERE full_domain = 'moved.example'`,
        'domain_configs_redirect_no_routes',
      ],
      [
        `UPDATE domain_configs SET redirect = '{"to": "www.moved.example"}' WHERE full_domain = 'old-moved.example'`,
        'domain_configs_redirect_chain',
      ],
    ] as const;
    for (const [statement, constraint] of bad) {
      await expect(t.db.query(sql.__dangerous__rawValue(statement))).rejects.toMatchObject({ constraint });
    }
  });

  it('a loop across two projects is refused, naming the field', async () => {
    await svc.apply({ name: 'there', domains: [{ domain: 'there.example', ssl: false, redirect: { to: 'back.example' } }] });
    const err = await refused({ name: 'back', domains: [{ domain: 'back.example', ssl: false, redirect: { to: 'there.example' } }] });
    expect(err.issues.find((i) => i.path === 'domains[0].redirect.to')?.message).toMatch(/project "there"/);
  });
});

describe('the service API', () => {
  it('creates a redirecting domain, and refuses one that redirects to itself naming redirect.to', async () => {
    const { id: projectId } = await svc.createProject({ name: 'api-moves' });
    const d = await svc.createDomainConfig({
      projectId,
      domain: 'api-moves.example',
      subdomain: 'www',
      sslEnabled: false,
      redirect: { to: 'api-moves.example' },
    });
    expect(d.redirect).toEqual({ to: 'api-moves.example' });
    const err = await svc
      .createDomainConfig({ projectId, domain: 'other-moves.example', sslEnabled: false, redirect: { to: 'other-moves.example' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues).toContainEqual(
      expect.objectContaining({ path: 'redirect.to', message: expect.stringMatching(/itself/) }),
    );
  });
});

describe('import', () => {
  it('maps routers that only redirect their host to domain redirects (one that drops the path is not), errors to shared middlewares', async () => {
    const dir = fileURLToPath(new URL('../fixtures/import/redirects/', import.meta.url));
    const outcome = await svc.importDirectory(dir);
    expect(outcome.projects.map((p) => p.name)).toEqual(['site']);
    const spec = parse((await svc.exportSpec('site')).yaml);
    expect(redirects((await svc.exportSpec('site')).yaml)).toEqual({
      'legacy.example': { to: 'site.example', scheme: 'https', permanent: false },
      'site.example': null,
      'www.site.example': { to: 'site.example' },
    });
    expect(spec.domains.find((d: any) => d.subdomain === 'www')).toMatchObject({ ssl: true, provider: 'letsencrypt', routes: [] });
    expect(outcome.notes.find((n) => n.item === 'http.routers.odd')?.status).toBe('skipped');
    // The errors middleware became a shared middleware, its service a service of the project.
    expect(spec.middlewares).toEqual([
      { name: 'site-errors', errors: { status: ['500-599'], query: '/{status}.html', service: 'error-pages', port: 8081 } },
    ]);
    expect(spec.services).toContainEqual({ name: 'error-pages', host: 'pages.internal' });
    expect(spec.domains.find((d: any) => d.domain === 'site.example' && !d.subdomain).routes[0].middleware).toEqual([
      { use: 'site-errors' },
    ]);
    expect(outcome.notes.find((n) => n.item === 'http.services.dummy')?.reason).toMatch(/not used/);
  });
});

describe('hostile redirects', () => {
  for (const c of REDIRECT_HOSTILE) {
    it(`refuses ${c.name}, naming ${c.field}, and writes nothing`, () => expectRefused(svc, t.db, redirectSpec('hostile'), c));
  }
});
