/**
 * Benchmark data: N projects, each with 3 services, 2 domains (one SSL via ACME, one plain) and
 * 6 routes (paths, priorities, a middleware chain, a health check) ⇒ 5 files per project.
 * Generated server-side with generate_series, so 10,000 projects load in seconds.
 */
import { sql, type Queryable } from '../db/connect.js';

/** Projects inserted per group of statements: each statement stays well within the statement timeout. */
const SEED_CHUNK = 2000;

/** Insert `projects` benchmark projects named bench-00001… (at most 99,999). */
export async function seedBench(db: Queryable, projects: number): Promise<void> {
  await db.query(sql`SET LOCAL traefik_sync.actor = 'bench'`);
  for (let first = 1; first <= projects; first += SEED_CHUNK) await seedRange(db, first, Math.min(projects, first + SEED_CHUNK - 1));
}

/** Projects bench-<first>…bench-<last> with their services, domains and routes. */
async function seedRange(db: Queryable, first: number, last: number): Promise<void> {
  const name = (i: number) => `bench-${String(i).padStart(5, '0')}`;
  const from = name(first);
  const to = name(last);
  await db.query(sql`
    INSERT INTO projects (name) SELECT 'bench-' || lpad(i::text, 5, '0') FROM generate_series(${first}::int, ${last}::int) i`);
  await db.query(sql`
    INSERT INTO services (project_id, name, host)
    SELECT p.id, s.name, CASE WHEN s.name = 'worker' THEN 'worker.' || p.name || '.svc' END
      FROM projects p CROSS JOIN (VALUES ('api'), ('web'), ('worker')) AS s(name)
     WHERE p.name BETWEEN ${from} AND ${to}`);
  await db.query(sql`
    INSERT INTO domain_configs (project_id, domain, subdomain, full_domain, ssl_enabled, ssl_provider)
    SELECT p.id, p.name || '.example', d.sub, CASE WHEN d.sub IS NULL THEN p.name || '.example' ELSE d.sub || '.' || p.name || '.example' END,
           d.ssl, CASE WHEN d.ssl THEN 'letsencrypt' END
      FROM projects p CROSS JOIN (VALUES (NULL, true), ('status', false)) AS d(sub, ssl)
     WHERE p.name BETWEEN ${from} AND ${to}`);
  await db.query(sql`
    INSERT INTO route_configs (domain_config_id, service_id, path_rule, priority, middleware, target_port, health_check)
    SELECT d.id, s.id, r.path, r.prio, r.mw::jsonb, r.port, r.hc::jsonb
      FROM domain_configs d
      JOIN projects p ON p.id = d.project_id AND p.name BETWEEN ${from} AND ${to}
      CROSS JOIN (VALUES
        (true,  'web',    '/',          1, NULL, 8080, NULL),
        (true,  'api',    '/api',       1, '[{"stripPrefix":{"prefixes":["/api"]}},{"headers":{"customRequestHeaders":{"X-Api":"1"}}}]', 3000, '{"path":"/healthz","interval":"10s"}'),
        (true,  'api',    '/api/admin', 5, '[{"ipAllowList":{"sourceRange":["10.0.0.0/8"]}}]', 3000, NULL),
        (false, 'worker', '/',          1, NULL, 9000, NULL),
        (false, 'worker', '/metrics',   1, '[{"ipAllowList":{"sourceRange":["10.0.0.0/8"]}}]', 9100, NULL),
        (false, 'web',    '/assets',    1, '[{"compress":{}}]', 8080, NULL)
      ) AS r(ssl, service, path, prio, mw, port, hc)
      JOIN services s ON s.project_id = p.id AND s.name = r.service
     WHERE d.ssl_enabled = r.ssl`);
}

/** Ids of the benchmark's routes on `/api` (one per project), for update loads. */
export async function apiRoutes(db: Queryable): Promise<Array<{ routeId: string; project: string }>> {
  const rows = await db.query(sql`
    SELECT r.id, p.name FROM route_configs r JOIN domain_configs d ON d.id = r.domain_config_id
      JOIN projects p ON p.id = d.project_id WHERE r.path_rule = '/api' AND p.name LIKE 'bench-%' ORDER BY p.name`);
  return rows.map((r) => ({ routeId: r.id as string, project: r.name as string }));
}
