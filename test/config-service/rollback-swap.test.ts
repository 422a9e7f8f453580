/**
 * Rollback over a history where two rows traded a unique key one update at a time (found by
 * review): two routes swapping paths, two services swapping names. The state existed, so the
 * rollback restores it. It was: refused by the unique index on the first of the two updates.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from '../../src/db/connect.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let t: TestDatabase;
let svc: TraefikConfigService;
beforeAll(async () => {
  t = await createTestDatabase();
  svc = new TraefikConfigService(t.db, { actor: 'test' });
});
afterAll(async () => {
  await t.drop();
});
const maxAudit = async () => Number((await t.db.query(sql`SELECT max(id) AS m FROM audit_log`))[0]!.m);

it('rolls back two routes that swapped paths', async () => {
  const p = await svc.createProject({ name: 'shop' });
  const web = await svc.createService({ projectId: p.id, name: 'web' });
  const api = await svc.createService({ projectId: p.id, name: 'api' });
  const d = await svc.createDomainConfig({ projectId: p.id, domain: 'shop.example', sslEnabled: false });
  const r1 = await svc.createRouteConfig({ domainConfigId: d.id, serviceId: web.id, pathRule: '/a', targetPort: 80 });
  const r2 = await svc.createRouteConfig({ domainConfigId: d.id, serviceId: api.id, pathRule: '/b', targetPort: 81 });
  const point = await maxAudit();
  await svc.updateRouteConfig(r1.id, { pathRule: '/tmp' });
  await svc.updateRouteConfig(r2.id, { pathRule: '/a' });
  await svc.updateRouteConfig(r1.id, { pathRule: '/b' });
  await svc.rollback('shop', { id: point });
  const rows = await t.db.query(sql`SELECT id, path_rule, is_active FROM route_configs ORDER BY path_rule`);
  expect(rows.map((r) => [r.id, r.path_rule, r.is_active])).toEqual([
    [r1.id, '/a', true],
    [r2.id, '/b', true],
  ]);
});

it('rolls back two services that swapped names', async () => {
  const p = await svc.createProject({ name: 'blog' });
  const a = await svc.createService({ projectId: p.id, name: 'blue' });
  const b = await svc.createService({ projectId: p.id, name: 'green' });
  const point = await maxAudit();
  await svc.updateService(a.id, { name: 'tmp' });
  await svc.updateService(b.id, { name: 'blue' });
  await svc.updateService(a.id, { name: 'green' });
  await svc.rollback('blog', { id: point });
  const rows = await t.db.query(sql`SELECT id, name FROM services WHERE project_id = ${p.id} ORDER BY name`);
  expect(rows.map((r) => [r.id, r.name])).toEqual([
    [a.id, 'blue'],
    [b.id, 'green'],
  ]);
});
