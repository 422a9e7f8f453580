/**
 * Reading desired state: projects with their services, domains, routes and certificates,
 * in a deterministic order, in a few set-based queries (not one query per project).
 */
import { sql, type Queryable } from './connect.js';
import type { Certificate, Domain, ProjectState, Route, Service } from '../model.js';

interface ProjectRow {
  id: string;
  name: string;
  version: number | string | null;
  changed_at: Date | null;
  services: Array<{ id: string; name: string; host: string | null }>;
  domains: Array<{
    id: string;
    domain: string;
    subdomain: string | null;
    full_domain: string;
    ssl_enabled: boolean;
    ssl_provider: string | null;
    is_active: boolean;
    cert_id: string | null;
    cert_pem: string | null;
    key_pem: string | null;
    not_after: string | null;
    routes: Array<Record<string, unknown>>;
  }>;
}

/**
 * Load the desired state of the given projects (by id), or of every project when `ids` is
 * omitted. Projects that do not exist are simply absent from the result.
 *
 * One statement per call, so each project is read from one snapshot (a change committed
 * meanwhile is either wholly in or wholly out) in one round trip; children come as JSON.
 */
export async function loadProjects(db: Queryable, ids?: readonly string[]): Promise<ProjectState[]> {
  const filter = ids ? sql`WHERE p.id = ANY(${[...ids]}::uuid[])` : sql``;
  const rows: ProjectRow[] = await db.query(sql`
    SELECT p.id, p.name, v.version, v.changed_at,
           coalesce((SELECT json_agg(json_build_object('id', s.id, 'name', s.name, 'host', s.host) ORDER BY s.name)
                       FROM services s WHERE s.project_id = p.id), '[]') AS services,
           coalesce((SELECT json_agg(json_build_object(
                              'id', d.id, 'domain', d.domain, 'subdomain', d.subdomain, 'full_domain', d.full_domain,
                              'ssl_enabled', d.ssl_enabled, 'ssl_provider', d.ssl_provider, 'is_active', d.is_active,
                              'cert_id', c.id, 'cert_pem', c.cert_pem, 'key_pem', c.key_pem, 'not_after', c.not_after,
                              'routes', coalesce((
                                SELECT json_agg(json_build_object(
                                         'id', r.id, 'service_id', r.service_id, 'path_rule', r.path_rule,
                                         'priority', r.priority, 'middleware', r.middleware, 'target_port', r.target_port,
                                         'target_url', r.target_url, 'health_check', r.health_check, 'is_active', r.is_active)
                                       ORDER BY r.path_rule, r.id)
                                  FROM route_configs r WHERE r.domain_config_id = d.id), '[]'))
                            ORDER BY d.full_domain, d.id)
                       FROM domain_configs d LEFT JOIN certificates c ON c.domain_config_id = d.id
                      WHERE d.project_id = p.id), '[]') AS domains
      FROM projects p LEFT JOIN project_versions v ON v.project_id = p.id
      ${filter} ORDER BY p.name`);
  return rows.map((p) => ({
    id: p.id,
    name: p.name,
    version: Number(p.version ?? 0),
    changedAt: p.changed_at,
    services: p.services.map((s): Service => ({ id: s.id, name: s.name, host: s.host })),
    domains: p.domains.map((d): Domain => ({
      id: d.id,
      domain: d.domain,
      subdomain: d.subdomain,
      fullDomain: d.full_domain,
      sslEnabled: d.ssl_enabled,
      sslProvider: d.ssl_provider,
      isActive: d.is_active,
      certificate: d.cert_id
        ? ({
            id: d.cert_id,
            certPem: d.cert_pem!,
            keyPem: d.key_pem!,
            notAfter: d.not_after === null ? null : new Date(d.not_after),
          } satisfies Certificate)
        : null,
      routes: d.routes.map((r): Route => ({
        id: r.id as string,
        serviceId: r.service_id as string,
        pathRule: r.path_rule as string,
        priority: r.priority as number,
        middleware: r.middleware as Route['middleware'],
        targetPort: r.target_port as number,
        targetUrl: r.target_url as string | null,
        healthCheck: r.health_check as Route['healthCheck'],
        isActive: r.is_active as boolean,
      })),
    })),
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

/** Projects whose deletion was recorded (tombstones) with their final version, optionally limited to `ids`. */
export async function loadTombstones(db: Queryable, ids?: readonly string[]): Promise<Map<string, number>> {
  const rows = ids
    ? await db.query(sql`SELECT project_id, version FROM project_versions WHERE deleted AND project_id = ANY(${[...ids]}::uuid[])`)
    : await db.query(sql`SELECT project_id, version FROM project_versions WHERE deleted`);
  return new Map(rows.map((r) => [r.project_id as string, Number(r.version)]));
}
