/**
 * Reading desired state: projects with their services, domains, routes and certificates,
 * in a deterministic order, in a few set-based queries (not one query per project).
 */
import { sql, type Queryable } from './connect.js';
import type { ProjectState } from '../model.js';
import { toState, type CertificateRow, type DomainRow, type RouteRow, type ServiceRow } from './rows.js';

/** A project as one statement returns it: its columns, and its child rows as JSON arrays. */
interface LoadedRow {
  id: string;
  name: string;
  version: number | string | null;
  changed_at: Date | null;
  services: ServiceRow[];
  domains: DomainRow[];
  certificates: Array<Omit<CertificateRow, 'not_after'> & { not_after: string | null }>;
  routes: RouteRow[];
}

/**
 * Load the desired state of the given projects (by id), or of every project when `ids` is
 * omitted. Projects that do not exist are simply absent from the result.
 *
 * One statement per call, so each project is read from one snapshot (a change committed
 * meanwhile is either wholly in or wholly out) in one round trip; children come as JSON, and
 * become a {@link ProjectState} through rows.ts (the same function the config service's previews use).
 */
export async function loadProjects(db: Queryable, ids?: readonly string[]): Promise<ProjectState[]> {
  const filter = ids ? sql`WHERE p.id = ANY(${[...ids]}::uuid[])` : sql``;
  const rows: LoadedRow[] = await db.query(sql`
    SELECT p.id, p.name, v.version, v.changed_at,
           coalesce((SELECT json_agg(json_build_object('id', s.id, 'project_id', s.project_id, 'name', s.name, 'host', s.host))
                       FROM services s WHERE s.project_id = p.id), '[]') AS services,
           coalesce((SELECT json_agg(json_build_object(
                              'id', d.id, 'project_id', d.project_id, 'domain', d.domain, 'subdomain', d.subdomain,
                              'full_domain', d.full_domain, 'ssl_enabled', d.ssl_enabled, 'ssl_provider', d.ssl_provider,
                              'is_active', d.is_active, 'tls_sans', d.tls_sans))
                       FROM domain_configs d WHERE d.project_id = p.id), '[]') AS domains,
           coalesce((SELECT json_agg(json_build_object(
                              'id', c.id, 'domain_config_id', c.domain_config_id, 'cert_pem', c.cert_pem,
                              'key_pem', c.key_pem, 'not_after', c.not_after))
                       FROM certificates c JOIN domain_configs d ON d.id = c.domain_config_id
                      WHERE d.project_id = p.id), '[]') AS certificates,
           coalesce((SELECT json_agg(json_build_object(
                              'id', r.id, 'domain_config_id', r.domain_config_id, 'service_id', r.service_id,
                              'path_rule', r.path_rule, 'priority', r.priority, 'middleware', r.middleware,
                              'target_port', r.target_port, 'target_url', r.target_url, 'health_check', r.health_check,
                              'is_active', r.is_active))
                       FROM route_configs r JOIN domain_configs d ON d.id = r.domain_config_id
                      WHERE d.project_id = p.id), '[]') AS routes
      FROM projects p LEFT JOIN project_versions v ON v.project_id = p.id
      ${filter} ORDER BY p.name`);
  return rows.map((p) =>
    toState(
      {
        project: { id: p.id, name: p.name },
        services: p.services,
        domains: p.domains,
        certificates: p.certificates.map((c) => ({ ...c, not_after: c.not_after === null ? null : new Date(c.not_after) })),
        routes: p.routes,
      },
      Number(p.version ?? 0),
      p.changed_at,
    ),
  );
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
