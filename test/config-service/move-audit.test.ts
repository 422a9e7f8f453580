/**
 * A row moved to another project (found by review): the old project's history records it leaving,
 * and the old project's state replayed from the audit log no longer holds it — so a rollback of
 * the old project to its latest entry changes nothing (it wanted to re-create the moved row).
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

it("the old project's audit trail records a domain moving out; rolling it back to now changes nothing", async () => {
  const a = await svc.createProject({ name: 'a' });
  const b = await svc.createProject({ name: 'b' });
  const d = await svc.createDomainConfig({ projectId: a.id, domain: 'moved.example', sslEnabled: false });
  await t.db.query(sql`UPDATE domain_configs SET project_id = ${b.id} WHERE id = ${d.id}`);
  const { entries } = await svc.history('a');
  expect(entries.some((e) => e.rowId === d.id && e.op === 'UPDATE')).toBe(true);
  expect((await svc.history('b')).entries.some((e) => e.rowId === d.id && e.op === 'UPDATE')).toBe(true);
  const latest = Number((await t.db.query(sql`SELECT max(id) AS m FROM audit_log`))[0]!.m);
  const r = await svc.rollback('a', { id: latest }, { dryRun: true });
  expect(r.changes).toEqual([]);
});
