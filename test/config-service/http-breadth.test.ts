/**
 * The HTTP capabilities of docs/spec-format.md ("Load balancing" and after) through the config
 * service: apply → export → apply changes nothing, the rendered objects say what the spec says,
 * history and rollback carry the new fields, the database refuses invalid rows written by hand,
 * hostile variants are refused with the field named and nothing written — and a project using
 * none of them exports byte for byte as before.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { sql } from '../../src/db/connect.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { HTTP_HOSTILE, baseHttp, expectRefused } from './http-cases.js';

let t: TestDatabase;
let svc: TraefikConfigService;

beforeAll(async () => {
  t = await createTestDatabase();
  svc = new TraefikConfigService(t.db, { actor: 'breadth', configDir: '/cfg' });
});
afterAll(async () => {
  await t?.drop();
});

/** The rendered dynamic documents of project `name` (as the controller would write them). */
async function rendered(name: string): Promise<Record<string, any>> {
  const p = await svc.preview(name);
  expect(p.problems).toEqual([]);
  return Object.fromEntries(
    p.files.filter((f) => f.path.endsWith('.yml')).map((f) => [f.path.replace(`dynamic/${name}/`, ''), parse(f.content)]),
  );
}

describe('a project using none of the new capabilities', () => {
  it('exports byte for byte as before (test/fixtures/export)', async () => {
    for (const name of ['shop', 'blog']) {
      await svc.apply(parse(await readFile(new URL(`../../examples/${name}.yaml`, import.meta.url), 'utf8')));
      const before = await readFile(new URL(`../fixtures/export/${name}.yaml`, import.meta.url), 'utf8');
      expect((await svc.exportSpec(name)).yaml, name).toBe(before);
    }
  });
});

describe('load balancing', () => {
  it('apply → export → apply changes nothing, and the load balancer says what the spec says', async () => {
    const first = await svc.apply(baseHttp());
    expect(first.changes.length).toBeGreaterThan(0);
    const exported = await svc.exportSpec('breadth');
    expect((await svc.apply(parse(exported.yaml))).changes).toEqual([]);
    const spec = parse(exported.yaml);
    expect(spec.domains[0].routes[0].servers).toEqual(baseHttp().domains[0].routes[0].servers);
    expect(spec.domains[0].routes[1].passHostHeader).toBe(false);
    const files = await rendered('breadth');
    const services = Object.values(files['services/web.yml'].http.services) as any[];
    const lb = services.map((s) => s.loadBalancer).find((l) => l.servers.length === 3);
    expect(lb.servers).toEqual([
      { url: 'http://web-0.breadth.internal:8080', weight: 3 },
      { url: 'http://web-1.breadth.internal:8081' },
      { url: 'h2c://web-2.breadth.internal:8082', weight: 0 },
    ]);
    expect(lb.sticky).toEqual({ cookie: { name: 'srv', secure: true, httpOnly: true, sameSite: 'lax', maxAge: 3600 } });
    expect(lb.passHostHeader).toBe(true);
    const partner = services.map((s) => s.loadBalancer).find((l) => l.servers[0].url.startsWith('https://'));
    expect(partner.passHostHeader).toBe(false);
  });

  it('history names the changed fields; rollback restores the servers as they were', async () => {
    const [{ id: before }] = await t.db.query(sql`SELECT max(id) AS id FROM audit_log`);
    const changed = baseHttp();
    changed.domains[0].routes[0].servers = [{ host: 'web-9.breadth.internal', weight: 5 }];
    delete changed.domains[0].routes[0].sticky;
    await svc.apply(changed);
    const { entries } = await svc.history('breadth', { limit: 1 });
    expect(entries[0]!.summary).toMatch(/servers .* → .*web-9/);
    expect(entries[0]!.summary).toMatch(/sticky .* → null/);
    await svc.rollback('breadth', String(before));
    expect(parse((await svc.exportSpec('breadth')).yaml).domains[0].routes[0]).toMatchObject({
      servers: baseHttp().domains[0].routes[0].servers,
      sticky: baseHttp().domains[0].routes[0].sticky,
    });
  });

  it('the database refuses a weight of -1, a server with a bad URL, and servers with a target_url (raw SQL)', async () => {
    const bad = [
      [`[{"url": "http://a.example:1", "weight": -1}]`, null, 'route_configs_servers_format'],
      [`[{"url": "http://a.example:1\`) || Host(\`x"}]`, null, 'route_configs_servers_format'],
      [`[{"host": "a.example", "weight": 0}]`, null, 'route_configs_servers_format'],
      [`[{"url": "http://a.example:1"}]`, 'http://b.example:2', 'route_configs_servers_or_url'],
    ] as const;
    for (const [servers, url, constraint] of bad) {
      await expect(
        t.db.query(sql`UPDATE route_configs SET servers = ${servers}::jsonb, target_url = ${url} WHERE path_rule = '/partner'`),
      ).rejects.toMatchObject({ constraint });
    }
    await expect(
      t.db.query(sql`UPDATE route_configs SET sticky = '{"cookie": {"sameSite": "sideways"}}' WHERE path_rule = '/partner'`),
    ).rejects.toMatchObject({ constraint: 'route_configs_sticky_format' });
  });
});

describe('hostile variants', () => {
  for (const c of HTTP_HOSTILE) {
    it(`refuses ${c.name}, naming ${c.field}, and writes nothing`, () => {
      const spec = baseHttp();
      spec.name = 'hostile';
      return expectRefused(svc, t.db, spec, c);
    });
  }
});
