/**
 * A project's rows as stored (column names), read in one go, and turned into the renderer's
 * {@link ProjectState}. Apply, rollback and every CRUD call compute the project's target rows,
 * render them, then write the difference (see diff.ts).
 */
import { sql, type Queryable } from '../db/connect.js';
import type { MiddlewareSpec, ProjectState } from '../model.js';

/** A `projects` row. */
export interface ProjectRow {
  readonly id: string;
  readonly name: string;
}

/** A `services` row. */
export interface ServiceRow {
  readonly id: string;
  readonly project_id: string;
  readonly name: string;
  readonly host: string | null;
}

/** A `domain_configs` row. */
export interface DomainRow {
  readonly id: string;
  readonly project_id: string;
  readonly domain: string;
  readonly subdomain: string | null;
  readonly full_domain: string;
  readonly ssl_enabled: boolean;
  readonly ssl_provider: string | null;
  readonly is_active: boolean;
}

/** A `certificates` row (key_pem is null when it is not known, e.g. from the audit log). */
export interface CertificateRow {
  readonly id: string;
  readonly domain_config_id: string;
  readonly cert_pem: string;
  readonly key_pem: string | null;
  readonly not_after: Date | null;
}

/** A `route_configs` row. */
export interface RouteRow {
  readonly id: string;
  readonly domain_config_id: string;
  readonly service_id: string;
  readonly path_rule: string;
  readonly priority: number;
  readonly middleware: readonly MiddlewareSpec[] | null;
  readonly target_port: number;
  readonly target_url: string | null;
  readonly health_check: Readonly<Record<string, unknown>> | null;
  readonly is_active: boolean;
}

/** Every row of one project. */
export interface ProjectRows {
  readonly project: ProjectRow;
  readonly services: readonly ServiceRow[];
  readonly domains: readonly DomainRow[];
  readonly certificates: readonly CertificateRow[];
  readonly routes: readonly RouteRow[];
}

/** The row tables a project owns, in dependency order. */
export const TABLES = ['services', 'domain_configs', 'certificates', 'route_configs'] as const;
/** One of {@link TABLES}. */
export type RowTable = (typeof TABLES)[number];

/** Columns written for each table (besides `id`). */
export const COLUMNS: Record<RowTable, readonly string[]> = {
  services: ['project_id', 'name', 'host'],
  domain_configs: ['project_id', 'domain', 'subdomain', 'full_domain', 'ssl_enabled', 'ssl_provider', 'is_active'],
  certificates: ['domain_config_id', 'cert_pem', 'key_pem', 'not_after'],
  route_configs: [
    'domain_config_id',
    'service_id',
    'path_rule',
    'priority',
    'middleware',
    'target_port',
    'target_url',
    'health_check',
    'is_active',
  ],
};

/** Lock a project's row (serializes writers of one project) and return it, by id or name. */
export async function lockProject(q: Queryable, by: { id: string } | { name: string }): Promise<ProjectRow | null> {
  const rows =
    'id' in by
      ? await q.query(sql`SELECT id, name FROM projects WHERE id = ${by.id} FOR UPDATE`)
      : await q.query(sql`SELECT id, name FROM projects WHERE name = ${by.name} FOR UPDATE`);
  return (rows[0] as ProjectRow | undefined) ?? null;
}

/** All rows of a project, ordered as the loader orders them (deterministic rendering). */
export async function loadRows(q: Queryable, project: ProjectRow): Promise<ProjectRows> {
  const id = project.id;
  const services: ServiceRow[] = await q.query(sql`SELECT id, project_id, name, host FROM services WHERE project_id = ${id} ORDER BY name`);
  const domains: DomainRow[] = await q.query(sql`
    SELECT id, project_id, domain, subdomain, full_domain, ssl_enabled, ssl_provider, is_active
      FROM domain_configs WHERE project_id = ${id} ORDER BY full_domain, id`);
  const certificates: CertificateRow[] = await q.query(sql`
    SELECT c.id, c.domain_config_id, c.cert_pem, c.key_pem, c.not_after
      FROM certificates c JOIN domain_configs d ON d.id = c.domain_config_id WHERE d.project_id = ${id} ORDER BY d.full_domain, c.id`);
  const routes: RouteRow[] = await q.query(sql`
    SELECT r.id, r.domain_config_id, r.service_id, r.path_rule, r.priority, r.middleware, r.target_port, r.target_url, r.health_check, r.is_active
      FROM route_configs r JOIN domain_configs d ON d.id = r.domain_config_id WHERE d.project_id = ${id} ORDER BY r.path_rule, r.id`);
  return { project, services, domains, certificates, routes };
}

const byKey =
  <T>(key: (t: T) => string) =>
  (a: T, b: T) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };

/** The same rows in the loader's order (name; full_domain, id; path_rule, id). */
export function sortRows(rows: ProjectRows): ProjectRows {
  return {
    project: rows.project,
    services: [...rows.services].sort(byKey((s) => s.name)),
    domains: [...rows.domains].sort(byKey((d) => `${d.full_domain}\u0000${d.id}`)),
    certificates: [...rows.certificates],
    routes: [...rows.routes].sort(byKey((r) => `${r.path_rule}\u0000${r.id}`)),
  };
}

/** The renderer's view of a project's rows (certificates without a known key render no key). */
export function toState(rows: ProjectRows, version = 0): ProjectState {
  const sorted = sortRows(rows);
  const certs = new Map(sorted.certificates.map((c) => [c.domain_config_id, c]));
  return {
    id: rows.project.id,
    name: rows.project.name,
    version,
    changedAt: null,
    services: sorted.services.map((s) => ({ id: s.id, name: s.name, host: s.host })),
    domains: sorted.domains.map((d) => {
      const c = certs.get(d.id);
      return {
        id: d.id,
        domain: d.domain,
        subdomain: d.subdomain,
        fullDomain: d.full_domain,
        sslEnabled: d.ssl_enabled,
        sslProvider: d.ssl_provider,
        isActive: d.is_active,
        certificate: c ? { id: c.id, certPem: c.cert_pem, keyPem: c.key_pem ?? '', notAfter: c.not_after } : null,
        routes: sorted.routes
          .filter((r) => r.domain_config_id === d.id)
          .map((r) => ({
            id: r.id,
            serviceId: r.service_id,
            pathRule: r.path_rule,
            priority: r.priority,
            middleware: r.middleware,
            targetPort: r.target_port,
            targetUrl: r.target_url,
            healthCheck: r.health_check,
            isActive: r.is_active,
          })),
      };
    }),
  };
}

/** Rows of a project that does not exist yet (its id chosen by the caller). */
export function emptyRows(project: ProjectRow): ProjectRows {
  return { project, services: [], domains: [], certificates: [], routes: [] };
}
