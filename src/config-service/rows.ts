/**
 * Reading and locking a project's rows for the config service. Apply, rollback and every CRUD call
 * compute the project's target rows, render them (db/rows.ts toState), then write the difference
 * (see diff.ts).
 */
import { sql, type Queryable } from '../db/connect.js';
import {
  sortRows,
  type CertificateRow,
  type DomainRow,
  type L4RouteRow,
  type MiddlewareRow,
  type ProjectRow,
  type ProjectRows,
  type RouteRow,
  type ServiceRow,
} from '../db/rows.js';

export { DOMAIN_DEFAULTS, ROUTE_DEFAULTS, emptyRows, sortRows, toState } from '../db/rows.js';
export type {
  CertificateRow,
  DomainRow,
  L4RouteRow,
  MiddlewareRow,
  ProjectRow,
  ProjectRows,
  RouteLaterColumns,
  RouteRow,
  ServiceRow,
} from '../db/rows.js';

/** The row tables a project owns, in dependency order. */
export const TABLES = ['services', 'project_middlewares', 'domain_configs', 'certificates', 'route_configs', 'l4_routes'] as const;
/** One of {@link TABLES}. */
export type RowTable = (typeof TABLES)[number];

/** Columns written for each table (besides `id`). */
export const COLUMNS: Record<RowTable, readonly string[]> = {
  services: ['project_id', 'name', 'host'],
  project_middlewares: ['project_id', 'name', 'middleware'],
  domain_configs: [
    'project_id',
    'domain',
    'subdomain',
    'full_domain',
    'ssl_enabled',
    'ssl_provider',
    'is_active',
    'redirect',
    'tls_sans',
    'tls_options',
    'default_certificate',
    'entry_points',
  ],
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
    'servers',
    'sticky',
    'pass_host_header',
    'split',
    'failover',
    'path_match',
    'headers',
    'methods',
    'transport',
    'key_pem',
    'entry_points',
  ],
  l4_routes: ['project_id', 'protocol', 'name', 'entry_point', 'sni', 'tls', 'tls_resolver', 'servers', 'proxy_protocol', 'is_active'],
};

/** Lock a project's row (serializes writers of one project) and return it, by id or name. */
export async function lockProject(q: Queryable, by: { id: string } | { name: string }): Promise<ProjectRow | null> {
  const rows =
    'id' in by
      ? await q.query(sql`SELECT id, name, shard FROM projects WHERE id = ${by.id} FOR UPDATE`)
      : await q.query(sql`SELECT id, name, shard FROM projects WHERE name = ${by.name} FOR UPDATE`);
  return (rows[0] as ProjectRow | undefined) ?? null;
}

/** All rows of a project, in the rendering order (db/rows.ts sortRows). */
export async function loadRows(q: Queryable, project: ProjectRow): Promise<ProjectRows> {
  const id = project.id;
  const services: ServiceRow[] = await q.query(sql`SELECT id, project_id, name, host FROM services WHERE project_id = ${id}`);
  const domains: DomainRow[] = await q.query(sql`
    SELECT id, project_id, domain, subdomain, full_domain, ssl_enabled, ssl_provider, is_active, redirect, tls_sans, tls_options, default_certificate,
           entry_points
      FROM domain_configs WHERE project_id = ${id}`);
  const certificates: CertificateRow[] = await q.query(sql`
    SELECT c.id, c.domain_config_id, c.cert_pem, c.key_pem, c.not_after
      FROM certificates c JOIN domain_configs d ON d.id = c.domain_config_id WHERE d.project_id = ${id}`);
  const routes: RouteRow[] = await q.query(sql`
    SELECT r.id, r.domain_config_id, r.service_id, r.path_rule, r.priority, r.middleware, r.target_port, r.target_url, r.health_check, r.is_active,
           r.servers, r.sticky, r.pass_host_header, r.split, r.failover,
           r.path_match, r.headers, r.methods, r.transport, r.key_pem, r.entry_points
      FROM route_configs r JOIN domain_configs d ON d.id = r.domain_config_id WHERE d.project_id = ${id}`);
  const middlewares: MiddlewareRow[] = await q.query(
    sql`SELECT id, project_id, name, middleware FROM project_middlewares WHERE project_id = ${id}`,
  );
  const l4Routes: L4RouteRow[] = await q.query(sql`
    SELECT id, project_id, protocol, name, entry_point, sni, tls, tls_resolver, servers, proxy_protocol, is_active
      FROM l4_routes WHERE project_id = ${id}`);
  return sortRows({ project, services, domains, certificates, routes, middlewares, l4Routes });
}
