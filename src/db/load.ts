/**
 * Reading desired state: projects with their services, domains, routes and certificates,
 * in a deterministic order, in a few set-based queries (not one query per project).
 */
import { sql, type Queryable } from './connect.js';
import type { Certificate, Domain, ProjectState, Route, Service } from '../model.js';

interface ProjectRow { id: string; name: string; version: number | null; changed_at: Date | null }

/**
 * Load the desired state of the given projects (by id), or of every project when `ids` is
 * omitted. Projects that do not exist are simply absent from the result.
 */
export async function loadProjects(db: Queryable, ids?: readonly string[]): Promise<ProjectState[]> {
  const filter = ids ? sql`WHERE p.id = ANY(${[...ids]}::uuid[])` : sql``;
  const projects: ProjectRow[] = await db.query(sql`
    SELECT p.id, p.name, v.version, v.changed_at
      FROM projects p LEFT JOIN project_versions v ON v.project_id = p.id
      ${filter} ORDER BY p.name`);
  if (projects.length === 0) return [];
  const projectIds = projects.map((p) => p.id);
  const [services, domains, routes] = await Promise.all([
    db.query(sql`SELECT id, project_id, name, host FROM services
                  WHERE project_id = ANY(${projectIds}::uuid[]) ORDER BY name`),
    db.query(sql`SELECT d.id, d.project_id, d.domain, d.subdomain, d.full_domain, d.ssl_enabled, d.ssl_provider,
                        d.is_active, c.id AS cert_id, c.cert_pem, c.key_pem, c.not_after
                   FROM domain_configs d LEFT JOIN certificates c ON c.domain_config_id = d.id
                  WHERE d.project_id = ANY(${projectIds}::uuid[]) ORDER BY d.full_domain, d.id`),
    db.query(sql`SELECT r.id, r.domain_config_id, r.service_id, r.path_rule, r.priority, r.middleware, r.target_port,
                        r.target_url, r.health_check, r.is_active
                   FROM route_configs r JOIN domain_configs d ON d.id = r.domain_config_id
                  WHERE d.project_id = ANY(${projectIds}::uuid[]) ORDER BY r.path_rule, r.id`),
  ]);
  const servicesBy = groupBy(services, (r) => r.project_id as string, (r): Service => ({ id: r.id, name: r.name, host: r.host }));
  const routesBy = groupBy(routes, (r) => r.domain_config_id as string, (r): Route => ({
    id: r.id,
    serviceId: r.service_id,
    pathRule: r.path_rule,
    priority: r.priority,
    middleware: r.middleware,
    targetPort: r.target_port,
    targetUrl: r.target_url,
    healthCheck: r.health_check,
    isActive: r.is_active,
  }));
  const domainsBy = groupBy(domains, (r) => r.project_id as string, (r): Domain => ({
    id: r.id,
    domain: r.domain,
    subdomain: r.subdomain,
    fullDomain: r.full_domain,
    sslEnabled: r.ssl_enabled,
    sslProvider: r.ssl_provider,
    isActive: r.is_active,
    certificate: r.cert_id
      ? ({ id: r.cert_id, certPem: r.cert_pem, keyPem: r.key_pem, notAfter: r.not_after } satisfies Certificate)
      : null,
    routes: routesBy.get(r.id) ?? [],
  }));
  return projects.map((p) => ({
    id: p.id,
    name: p.name,
    version: p.version ?? 0,
    changedAt: p.changed_at,
    services: servicesBy.get(p.id) ?? [],
    domains: domainsBy.get(p.id) ?? [],
  }));
}

/** Every project's id and name, in name order (a full pass walks them in batches). */
export async function listProjectRefs(db: Queryable): Promise<Array<{ id: string; name: string }>> {
  const rows = await db.query(sql`SELECT id, name FROM projects ORDER BY name`);
  return rows.map((r) => ({ id: r.id as string, name: r.name as string }));
}

/** Every project's change version, including tombstones of deleted projects. */
export async function loadVersions(db: Queryable): Promise<Map<string, number>> {
  const rows = await db.query(sql`SELECT project_id, version FROM project_versions`);
  return new Map(rows.map((r) => [r.project_id as string, Number(r.version)]));
}

/** One small query that changes whenever any project's output may have changed. */
export async function changeFingerprint(db: Queryable): Promise<string> {
  const [row] = await db.query(sql`SELECT count(*) AS n, coalesce(sum(version), 0) AS s FROM project_versions`);
  return `${row?.n}:${row?.s}`;
}

function groupBy<R, T>(rows: R[], key: (r: R) => string, map: (r: R) => T): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list) list.push(map(r));
    else out.set(k, [map(r)]);
  }
  return out;
}

/** Projects whose deletion was recorded (tombstones) with their final version, optionally limited to `ids`. */
export async function loadTombstones(db: Queryable, ids?: readonly string[]): Promise<Map<string, number>> {
  const rows = ids
    ? await db.query(sql`SELECT project_id, version FROM project_versions WHERE deleted AND project_id = ANY(${[...ids]}::uuid[])`)
    : await db.query(sql`SELECT project_id, version FROM project_versions WHERE deleted`);
  return new Map(rows.map((r) => [r.project_id as string, Number(r.version)]));
}
