/**
 * The checks run at COMMIT (sql/008 redirects, sql/009 shared-middleware references, reworked by
 * sql/030) cost the same per written row whatever the transaction's size: a bulk transaction
 * (import, a large apply, the benchmark's seed) used to take hours at 10,000 projects because
 * each route re-checked its whole project. What they refuse is unchanged, including rows changed
 * again later in the same transaction (the check reads the row as it is at commit).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedBench } from '../../src/bench/seed.js';
import { sql, type Queryable } from '../../src/db/connect.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let t: TestDatabase;
let projectId = '';
let domainId = '';
let serviceId = '';

beforeAll(async () => {
  t = await createTestDatabase();
  [{ id: projectId }] = await t.db.query(sql`INSERT INTO projects (name) VALUES ('team') RETURNING id`);
  [{ id: serviceId }] = await t.db.query(sql`INSERT INTO services (project_id, name) VALUES (${projectId}, 'app') RETURNING id`);
  [{ id: domainId }] = await t.db.query(
    sql`INSERT INTO domain_configs (project_id, domain, full_domain) VALUES (${projectId}, 'team.example', 'team.example') RETURNING id`,
  );
});
afterAll(async () => {
  await t?.drop();
});

const addRoute = (tx: Queryable, path: string, middleware: unknown) =>
  tx.query(sql`
    INSERT INTO route_configs (domain_config_id, service_id, path_rule, middleware, target_port)
    VALUES (${domainId}, ${serviceId}, ${path}, ${middleware === null ? null : JSON.stringify(middleware)}::jsonb, 8080) RETURNING id`);

describe('checks at commit', () => {
  it('a route naming a shared middleware the project lacks is refused, even when the name came in a later update', async () => {
    await expect(
      t.db.tx(async (tx) => {
        const [{ id }] = await addRoute(tx, '/late', null);
        await tx.query(sql`UPDATE route_configs SET middleware = '[{"use": "ghost"}]' WHERE id = ${id}`);
      }),
    ).rejects.toMatchObject({ constraint: 'project_middlewares_used_exist' });
    expect(await t.db.query(sql`SELECT 1 FROM route_configs WHERE path_rule = '/late'`)).toEqual([]);
  });

  it('judges the row as it is at commit: defined later in the transaction, or the use removed again, passes', async () => {
    await t.db.tx(async (tx) => {
      await addRoute(tx, '/sso', [{ use: 'sso' }]);
      await tx.query(sql`INSERT INTO project_middlewares (project_id, name, middleware)
        VALUES (${projectId}, 'sso', '{"forwardAuth": {"address": "http://auth.team:4181"}}')`);
      const [{ id }] = await addRoute(tx, '/temp', [{ use: 'nothing-yet' }]);
      await tx.query(sql`UPDATE route_configs SET middleware = '[{"compress": {}}]' WHERE id = ${id}`);
    });
    expect((await t.db.query(sql`SELECT path_rule FROM route_configs ORDER BY path_rule`)).map((r) => r.path_rule)).toEqual([
      '/sso',
      '/temp',
    ]);
    // Removing a middleware still in use is refused, as before.
    await expect(t.db.query(sql`DELETE FROM project_middlewares WHERE name = 'sso'`)).rejects.toMatchObject({
      constraint: 'project_middlewares_used_exist',
    });
  });

  it('a domain that starts redirecting while it has routes is refused; one that redirects without routes is not', async () => {
    await expect(
      t.db.query(sql`UPDATE domain_configs SET redirect = '{"to": "other.example"}' WHERE id = ${domainId}`),
    ).rejects.toMatchObject({ constraint: 'domain_configs_redirect_no_routes' });
    await t.db.query(sql`INSERT INTO domain_configs (project_id, domain, full_domain, redirect)
      VALUES (${projectId}, 'www.team.example', 'www.team.example', '{"to": "team.example"}')`);
    await expect(
      t.db.query(sql`INSERT INTO domain_configs (project_id, domain, full_domain, redirect)
        VALUES (${projectId}, 'old.team.example', 'old.team.example', '{"to": "www.team.example"}')`),
    ).rejects.toMatchObject({ constraint: 'domain_configs_redirect_chain' });
  });

  it('a bulk transaction checks only the rows that can break a rule: no route without a shared middleware, no domain without a redirect', async () => {
    const calls = await t.db.tx(async (tx) => {
      await tx.query(sql`SET LOCAL track_functions = 'all'`);
      await seedBench(tx, 300);
      await tx.query(sql`SET CONSTRAINTS ALL IMMEDIATE`);
      const rows = await tx.query(sql`SELECT funcname, calls FROM pg_stat_xact_user_functions WHERE funcname LIKE 'traefik_sync_%'`);
      return Object.fromEntries(rows.map((r) => [r.funcname, Number(r.calls)]));
    });
    // 300 projects × 6 routes: each route is checked once against its own domain's redirect (an
    // index lookup); nothing runs per domain, and the per-project reference scan never runs.
    expect(calls.traefik_sync_check_redirect).toBe(1800);
    expect(calls.traefik_sync_check_route_middleware_refs ?? 0).toBe(0);
    expect(calls.traefik_sync_missing_middleware ?? 0).toBe(0);
  });
});
