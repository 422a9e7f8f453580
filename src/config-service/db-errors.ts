/**
 * Database errors → field-level issues. The service checks everything first, so these are the
 * backstop (a concurrent writer, rows changed by hand): constraint names map to the field they
 * guard, and the message says what the rule is — never a stack, never a value of a key.
 */
import { sql, type Queryable } from '../db/connect.js';
import { ValidationError, type ValidationIssue } from './errors.js';

/** The field (column) a constraint guards, and the rule in words. */
const CONSTRAINTS: Record<string, { table: string; column: string; rule: string }> = {
  projects_name_key: { table: 'projects', column: 'name', rule: 'another project already has this name' },
  projects_name_format: { table: 'projects', column: 'name', rule: 'must be a lower-case DNS label' },
  services_project_id_name_key: { table: 'services', column: 'name', rule: 'the project already has a service with this name' },
  services_name_format: { table: 'services', column: 'name', rule: 'must be a lower-case DNS label' },
  services_host_format: { table: 'services', column: 'host', rule: 'must be a lower-case host name' },
  domain_configs_domain_format: { table: 'domain_configs', column: 'domain', rule: 'must be a lower-case host name' },
  domain_configs_subdomain_format: { table: 'domain_configs', column: 'subdomain', rule: 'must be lower-case host labels' },
  domain_configs_full_domain_format: { table: 'domain_configs', column: 'domain', rule: 'the full domain must be a lower-case host name' },
  domain_configs_full_domain_matches: { table: 'domain_configs', column: 'domain', rule: 'full_domain must be subdomain.domain' },
  domain_configs_ssl_provider_format: { table: 'domain_configs', column: 'ssl_provider', rule: 'must be a resolver name or "custom"' },
  domain_configs_active_full_domain: {
    table: 'domain_configs',
    column: 'domain',
    rule: 'is already active in another project or domain row',
  },
  route_configs_path_rule_format: { table: 'route_configs', column: 'path_rule', rule: 'must start with "/" and use safe characters' },
  route_configs_priority_range: { table: 'route_configs', column: 'priority', rule: 'must be 0–1000000' },
  route_configs_middleware_array: { table: 'route_configs', column: 'middleware', rule: 'must be a list' },
  route_configs_target_port_range: { table: 'route_configs', column: 'target_port', rule: 'must be 1–65535' },
  route_configs_target_url_format: { table: 'route_configs', column: 'target_url', rule: 'must be an http(s) URL with safe characters' },
  route_configs_health_check_object: { table: 'route_configs', column: 'health_check', rule: 'must be an object' },
  route_configs_active_rule: {
    table: 'route_configs',
    column: 'path_rule',
    rule: 'another active route of this domain has the same path (with the same match, headers and methods)',
  },
  route_configs_path_match_values: { table: 'route_configs', column: 'path_match', rule: 'must be "prefix", "exact" or "regex"' },
  route_configs_headers_format: {
    table: 'route_configs',
    column: 'headers',
    rule: 'must be 1–8 headers {Name: value}: HTTP token names (not Host), printable values without backticks',
  },
  route_configs_methods_format: { table: 'route_configs', column: 'methods', rule: 'must be 1–9 distinct HTTP methods' },
  route_configs_servers_format: { table: 'route_configs', column: 'servers', rule: 'must be 1–64 servers with weights 0–1000000' },
  route_configs_sticky_format: {
    table: 'route_configs',
    column: 'sticky',
    rule: 'must be {cookie: {name, secure, httpOnly, sameSite, maxAge}}',
  },
  route_configs_split_format: {
    table: 'route_configs',
    column: 'split',
    rule: 'must be 2–16 branches {service, port, weight} with weights 0–1000000, one above 0',
  },
  route_configs_failover_format: { table: 'route_configs', column: 'failover', rule: 'must be {service, port}' },
  route_configs_split_alone: {
    table: 'route_configs',
    column: 'split',
    rule: 'cannot be combined with servers, target_url, sticky or failover',
  },
  route_configs_failover_health_check: { table: 'route_configs', column: 'failover', rule: 'needs a health_check on the route' },
  route_configs_split_services_exist: { table: 'route_configs', column: 'split', rule: 'names a service the project does not have' },
  route_configs_servers_or_url: { table: 'route_configs', column: 'servers', rule: 'cannot be combined with target_url' },
  domain_configs_redirect_format: {
    table: 'domain_configs',
    column: 'redirect',
    rule: 'must be {to: another host, permanent: true|false, scheme: http|https}',
  },
  domain_configs_redirect_no_routes: { table: 'domain_configs', column: 'redirect', rule: 'a domain that redirects has no routes' },
  domain_configs_redirect_chain: {
    table: 'domain_configs',
    column: 'redirect',
    rule: 'points at a domain that redirects too, or is the target of another redirect (a loop or a chain)',
  },
  project_middlewares_name_key: {
    table: 'project_middlewares',
    column: 'name',
    rule: 'the project already has a middleware with this name',
  },
  project_middlewares_name_format: { table: 'project_middlewares', column: 'name', rule: 'must be a lower-case DNS label' },
  project_middlewares_middleware_format: {
    table: 'project_middlewares',
    column: 'middleware',
    rule: 'must be exactly one middleware type with its options',
  },
  project_middlewares_used_exist: { table: 'route_configs', column: 'middleware', rule: 'uses a middleware the project does not define' },
  route_configs_transport_format: {
    table: 'route_configs',
    column: 'transport',
    rule: 'must be {serverName, insecureSkipVerify, ca, clientCert} with PEM certificates (no CA with insecureSkipVerify)',
  },
  route_configs_key_pem_format: { table: 'route_configs', column: 'transport', rule: 'the client key must be a PEM private key' },
  route_configs_client_cert_key: {
    table: 'route_configs',
    column: 'transport',
    rule: 'a client certificate needs its key, and a key its certificate',
  },
  domain_configs_tls_options_format: {
    table: 'domain_configs',
    column: 'tls_options',
    rule: 'must use TLS versions, cipher suites and client auth modes Traefik knows',
  },
  domain_configs_tls_options_ssl: { table: 'domain_configs', column: 'tls_options', rule: 'needs ssl and a domain that is not a wildcard' },
  domain_configs_default_certificate_custom: {
    table: 'domain_configs',
    column: 'default_certificate',
    rule: 'needs ssl and provider "custom"',
  },
  domain_configs_one_default_certificate: {
    table: 'domain_configs',
    column: 'default_certificate',
    rule: "another active domain (in this or another project) already holds Traefik's default certificate",
  },
  domain_configs_entry_points_format: { table: 'domain_configs', column: 'entry_points', rule: 'must be 1–8 distinct entry point names' },
  domain_configs_entry_points_tls: { table: 'domain_configs', column: 'entry_points', rule: 'with ssl, "web" only redirects to https' },
  route_configs_entry_points_format: { table: 'route_configs', column: 'entry_points', rule: 'must be 1–8 distinct entry point names' },
  l4_routes_name_key: { table: 'l4_routes', column: 'name', rule: 'the project already has a route of this protocol with this name' },
  l4_routes_name_format: { table: 'l4_routes', column: 'name', rule: 'must be a lower-case DNS label' },
  l4_routes_entry_point_format: { table: 'l4_routes', column: 'entry_point', rule: 'must be an entry point name' },
  l4_routes_sni_format: { table: 'l4_routes', column: 'sni', rule: 'must be a lower-case host name or "*"' },
  l4_routes_servers_format: { table: 'l4_routes', column: 'servers', rule: 'must be 1–64 servers {host, port 1–65535}' },
  l4_routes_sni_needs_tls: { table: 'l4_routes', column: 'sni', rule: 'a server name needs tls "terminate" or "passthrough"' },
  l4_routes_tcp_sni: { table: 'l4_routes', column: 'sni', rule: 'a TCP route needs an sni, a UDP route has none' },
  l4_routes_udp_plain: { table: 'l4_routes', column: 'tls', rule: 'a UDP route has no TLS or PROXY protocol' },
  l4_routes_resolver_terminates: { table: 'l4_routes', column: 'tls_resolver', rule: 'a resolver needs tls "terminate"' },
  l4_routes_active_sni: {
    table: 'l4_routes',
    column: 'sni',
    rule: 'this server name on this entry point is already active in another project (claimed concurrently)',
  },
  l4_routes_active_udp: { table: 'l4_routes', column: 'entry_point', rule: 'this UDP entry point is already taken by another route' },
  certificates_domain_config_id_key: { table: 'certificates', column: 'domain_config_id', rule: 'the domain already has a certificate' },
  certificates_cert_pem_format: { table: 'certificates', column: 'cert_pem', rule: 'must be a PEM certificate without "{{"' },
  certificates_cert_pem_no_private_key: {
    table: 'certificates',
    column: 'cert_pem',
    rule: 'must not hold a private key (give the key separately)',
  },
  certificates_key_pem_format: { table: 'certificates', column: 'key_pem', rule: 'must be a PEM private key without "{{"' },
};

/** Maps a table's column to the caller's field path (camelCase input, or a spec path). */
export type FieldOf = (table: string, column: string) => string;

/** Column → API input field (camelCase). */
export const apiField: FieldOf = (_table, column) => column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

interface PgError {
  code?: string;
  constraint?: string;
  message?: string;
  table?: string;
  detail?: string;
}

/**
 * Turn a database error into a {@link ValidationError} (or return null when it is not a data
 * error, e.g. a lost connection). For an active domain claimed elsewhere, names the other project.
 */
export async function mapDbError(
  db: Queryable,
  err: unknown,
  fieldOf: FieldOf = apiField,
  hint?: { fullDomain?: string; projectId?: string },
): Promise<ValidationError | null> {
  const e = err as PgError;
  if (!e || typeof e.code !== 'string') return null;
  const known = e.constraint ? CONSTRAINTS[e.constraint] : undefined;
  const issues: ValidationIssue[] = [];
  const claimed = hint?.fullDomain ?? /^Key \(full_domain\)=\((.*)\) already exists\.$/.exec(e.detail ?? '')?.[1];
  if (e.constraint === 'domain_configs_active_full_domain' && claimed) {
    const [other] = await db
      .query(
        sql`SELECT p.name FROM domain_configs d JOIN projects p ON p.id = d.project_id
                                        WHERE d.full_domain = ${claimed} AND d.is_active`,
      )
      .catch(() => []);
    const owner = other ? `project ${JSON.stringify(other.name)}` : 'another project';
    issues.push({
      path: fieldOf('domain_configs', 'domain'),
      message: `${JSON.stringify(claimed)} is already active in ${owner} (claimed concurrently)`,
    });
  } else if (known) {
    issues.push({ path: fieldOf(known.table, known.column), message: `${known.rule} (database constraint ${e.constraint})` });
  } else if (e.code === '23514' && /^route_configs\.service_id/.test(e.message ?? '')) {
    issues.push({ path: fieldOf('route_configs', 'service_id'), message: 'the service belongs to another project than the domain' });
  } else if (e.code === '23503') {
    issues.push({ path: '', message: 'refers to a row that no longer exists (changed concurrently?); nothing was written' });
  } else if (e.code === '22P02' || e.code === '22021' || e.code === '22P05' || e.code === '54000') {
    issues.push({ path: '', message: `the database rejected a value (${e.code}); nothing was written` });
  } else if (e.code.startsWith('23')) {
    issues.push({ path: '', message: `rejected by the database (${e.constraint ?? e.code}); nothing was written` });
  } else {
    return null;
  }
  return new ValidationError(issues);
}
