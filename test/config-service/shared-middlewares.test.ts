/**
 * Shared middlewares through the config service (docs/spec-format.md "Shared middlewares"):
 * apply → export → apply changes nothing, each is rendered once and every route using it names
 * the same object, history and rollback carry them, the database refuses a route using a name the
 * project does not define (raw SQL), and hostile variants are refused with the field named and
 * nothing written. A project without them exports as before (http-breadth.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { sql } from '../../src/db/connect.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { expectRefused } from './http-cases.js';
import { SHARED_HOSTILE, sharedSpec } from './shared-cases.js';

let t: TestDatabase;
let svc: TraefikConfigService;

beforeAll(async () => {
  t = await createTestDatabase();
  svc = new TraefikConfigService(t.db, { actor: 'shared', configDir: '/cfg' });
});
afterAll(async () => {
  await t?.drop();
});

describe('shared middlewares', () => {
  it('apply → export → apply changes nothing; one object per middleware, used by name from every route', async () => {
    await svc.apply(sharedSpec());
    const exported = await svc.exportSpec('team');
    const byName = (list: Array<{ name: string }>) => [...list].sort((a, b) => (a.name < b.name ? -1 : 1));
    expect(parse(exported.yaml).middlewares).toEqual(byName(sharedSpec().middlewares));
    expect((await svc.apply(parse(exported.yaml))).changes).toEqual([]);
    const p = await svc.preview('team');
    expect(p.problems).toEqual([]);
    const doc = parse(p.files.find((f) => f.path === 'dynamic/team/middleware.yml')!.content).http;
    expect(doc.middlewares['team_shared-protected']).toEqual({ chain: { middlewares: ['team_shared-sso', 'team_shared-secure'] } });
    expect(doc.middlewares['team_shared-oops']).toEqual({
      errors: { status: ['500-599', '404'], service: 'team_shared-oops', query: '/{status}.html' },
    });
    expect(doc.services['team_shared-oops'].loadBalancer.servers).toEqual([{ url: 'http://pages.team.internal:8080' }]);
    const routers = Object.values(parse(p.files.find((f) => f.path === 'dynamic/team/services/app.yml')!.content).http.routers) as any[];
    expect(routers.map((r) => r.middlewares).sort()).toEqual([
      ['team_shared-protected', 'team_shared-oops'],
      ['team_shared-sso', expect.stringMatching(/_1-stripPrefix$/)],
    ]);
  });

  it('history names the middleware; rollback restores it', async () => {
    const [{ id: before }] = await t.db.query(sql`SELECT max(id) AS id FROM audit_log`);
    const changed = sharedSpec();
    changed.middlewares[2].headers = { frameDeny: false, browserXssFilter: true };
    await svc.apply(changed);
    const { entries } = await svc.history('team', { limit: 1 });
    expect(entries[0]!.summary).toMatch(/^middleware secure \(headers\): middleware/);
    await svc.rollback('team', String(before));
    const restored = parse((await svc.exportSpec('team')).yaml).middlewares.find((m: { name: string }) => m.name === 'secure');
    expect(restored).toEqual(sharedSpec().middlewares[2]);
  });

  it('the database refuses a route using an undefined name, removing a used one, and a malformed middleware (raw SQL)', async () => {
    await expect(
      t.db.query(sql`UPDATE route_configs SET middleware = '[{"use": "ghost"}]' WHERE path_rule = '/admin'`),
    ).rejects.toMatchObject({ constraint: 'project_middlewares_used_exist' });
    await expect(t.db.query(sql`DELETE FROM project_middlewares WHERE name = 'sso'`)).rejects.toMatchObject({
      constraint: 'project_middlewares_used_exist',
    });
    await expect(
      t.db.query(sql`UPDATE project_middlewares SET middleware = '{"headers": {}, "compress": {}}' WHERE name = 'secure'`),
    ).rejects.toMatchObject({ constraint: 'project_middlewares_middleware_format' });
  });
});

describe('hostile shared middlewares', () => {
  for (const c of SHARED_HOSTILE) {
    it(`refuses ${c.name}, naming ${c.field}, and writes nothing`, () => expectRefused(svc, t.db, sharedSpec('hostile'), c));
  }
});
