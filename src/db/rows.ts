/**
 * A project's rows as stored (column names), and the one function that turns them into the
 * renderer's {@link ProjectState}, in the one order that makes rendering deterministic. The
 * controller's loader (load.ts) and the config service's previews (config-service/) both go
 * through {@link toState}, so a preview matches what the controller writes byte for byte.
 */
import type {
  BackendTransport,
  Domain,
  DomainRedirect,
  L4Route,
  L4Server,
  MiddlewareSpec,
  PathMatch,
  ProjectState,
  Route,
  ServiceTarget,
  SplitBranch,
  Sticky,
  TlsOptions,
  UpstreamServer,
} from '../model.js';

/** A `projects` row. */
export interface ProjectRow {
  readonly id: string;
  readonly name: string;
  /** The project's shard (sql/006_shards.sql); absent where it does not matter (rendering). */
  readonly shard?: string;
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
  /** Domain redirect (sql/008_domain_redirects.sql); null: the domain serves its routes. */
  readonly redirect: DomainRedirect | null;
  /** sql/020_wildcard_domains.sql: more names on the ACME certificate; absent on rows of older audit entries. */
  readonly tls_sans?: readonly string[] | null;
  /** sql/015_tls_options.sql: the host's TLS options; absent on rows of older audit entries. */
  readonly tls_options?: TlsOptions | null;
  /** sql/015_tls_options.sql: the domain's certificate is Traefik's default certificate. */
  readonly default_certificate?: boolean;
  /** sql/021_entry_points.sql: the domain's entry points; null = the generated choice. */
  readonly entry_points?: readonly string[] | null;
}

/** Values of the domain columns added after the seed's, for rows that do not set them (as the migrations gave old rows). */
export const DOMAIN_DEFAULTS: Required<Pick<DomainRow, 'redirect' | 'tls_sans' | 'tls_options' | 'default_certificate' | 'entry_points'>> =
  {
    redirect: null,
    tls_sans: null,
    tls_options: null,
    default_certificate: false,
    entry_points: null,
  };

/** A `certificates` row (key_pem is null when it is not known, e.g. from the audit log). */
export interface CertificateRow {
  readonly id: string;
  readonly domain_config_id: string;
  readonly cert_pem: string;
  readonly key_pem: string | null;
  readonly not_after: Date | null;
}

/** The `route_configs` columns added after the seed's (sql/007_*.sql and later). */
export interface RouteLaterColumns {
  readonly servers: readonly UpstreamServer[] | null;
  readonly sticky: Sticky | null;
  readonly pass_host_header: boolean;
  readonly split: readonly SplitBranch[] | null;
  readonly failover: ServiceTarget | null;
  readonly path_match: PathMatch;
  readonly headers: Readonly<Record<string, string>> | null;
  readonly methods: readonly string[] | null;
  /** sql/014_backend_transports.sql: the backend transport (absent on rows read before it existed). */
  readonly transport?: BackendTransport | null;
  /** The client certificate's private key (null when not known, e.g. from the audit log). */
  readonly key_pem?: string | null;
  /** sql/021_entry_points.sql: the route's own entry points; null = its domain's. */
  readonly entry_points?: readonly string[] | null;
}

/** A `route_configs` row. */
export interface RouteRow extends RouteLaterColumns {
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

/** Values of the route columns added after the seed's, for rows that do not set them (as the migrations gave old rows). */
export const ROUTE_DEFAULTS: RouteLaterColumns = {
  servers: null,
  sticky: null,
  pass_host_header: true,
  split: null,
  failover: null,
  path_match: 'prefix',
  headers: null,
  methods: null,
  transport: null,
  entry_points: null,
};

/** A `project_middlewares` row (sql/009_shared_middlewares.sql). */
export interface MiddlewareRow {
  readonly id: string;
  readonly project_id: string;
  readonly name: string;
  readonly middleware: MiddlewareSpec;
}

/** An `l4_routes` row (sql/022_tcp_udp_routes.sql). */
export interface L4RouteRow {
  readonly id: string;
  readonly project_id: string;
  readonly protocol: 'tcp' | 'udp';
  readonly name: string;
  readonly entry_point: string;
  readonly sni: string | null;
  readonly tls: 'terminate' | 'passthrough' | null;
  readonly tls_resolver: string | null;
  readonly servers: readonly L4Server[];
  readonly proxy_protocol: 1 | 2 | null;
  readonly is_active: boolean;
}

/** Every row of one project. */
export interface ProjectRows {
  readonly project: ProjectRow;
  readonly services: readonly ServiceRow[];
  readonly domains: readonly DomainRow[];
  readonly certificates: readonly CertificateRow[];
  readonly routes: readonly RouteRow[];
  /** Named middlewares (optional: none when absent). */
  readonly middlewares?: readonly MiddlewareRow[];
  /** TCP and UDP routes (optional: none when absent). */
  readonly l4Routes?: readonly L4RouteRow[];
}

/** Rows of a project that does not exist yet (its id chosen by the caller). */
export function emptyRows(project: ProjectRow): ProjectRows {
  return { project, services: [], domains: [], certificates: [], routes: [] };
}

const byKey =
  <T>(key: (t: T) => string) =>
  (a: T, b: T) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };

/**
 * The order rows are rendered in: services by name; domains by full_domain, then id; routes by
 * path_rule, then id (certificates follow their domain). Code-unit order, whatever the database's
 * collation: the same rows give the same bytes on every database.
 */
export function sortRows(rows: ProjectRows): ProjectRows {
  const domains = [...rows.domains].sort(byKey((d) => `${d.full_domain}\u0000${d.id}`));
  const domainOrder = new Map(domains.map((d, i) => [d.id, String(i).padStart(8, '0')]));
  return {
    project: rows.project,
    services: [...rows.services].sort(byKey((s) => s.name)),
    domains,
    certificates: [...rows.certificates].sort(byKey((c) => `${domainOrder.get(c.domain_config_id) ?? ''}\u0000${c.id}`)),
    routes: [...rows.routes].sort(byKey((r) => `${r.path_rule}\u0000${r.id}`)),
    middlewares: [...(rows.middlewares ?? [])].sort(byKey((m) => m.name)),
    l4Routes: [...(rows.l4Routes ?? [])].sort(byKey((r) => `${r.protocol}\u0000${r.name}\u0000${r.id}`)),
  };
}

/**
 * The renderer's view of a project's rows (certificates without a known key render no key).
 * `version` and `changedAt` say which change the rows were read at (0 and null for a preview).
 */
export function toState(rows: ProjectRows, version = 0, changedAt: Date | null = null): ProjectState {
  const sorted = sortRows(rows);
  const certs = new Map(sorted.certificates.map((c) => [c.domain_config_id, c]));
  const routesOf = new Map<string, RouteRow[]>();
  for (const r of sorted.routes) {
    const list = routesOf.get(r.domain_config_id);
    if (list) list.push(r);
    else routesOf.set(r.domain_config_id, [r]);
  }
  return {
    id: rows.project.id,
    name: rows.project.name,
    version,
    changedAt,
    services: sorted.services.map((s) => ({ id: s.id, name: s.name, host: s.host })),
    domains: sorted.domains.map((d) => {
      const c = certs.get(d.id);
      return {
        ...domainOf(d),
        certificate: c ? { id: c.id, certPem: c.cert_pem, keyPem: c.key_pem ?? '', notAfter: c.not_after } : null,
        routes: (routesOf.get(d.id) ?? []).map(routeOf),
      };
    }),
    middlewares: (sorted.middlewares ?? []).map((m) => ({ id: m.id, name: m.name, middleware: m.middleware })),
    l4Routes: (sorted.l4Routes ?? []).map(l4RouteOf),
  };
}

/** A `domain_configs` row in the renderer's terms (without its certificate and routes). */
export function domainOf(d: DomainRow): Omit<Domain, 'certificate' | 'routes'> {
  return {
    id: d.id,
    domain: d.domain,
    subdomain: d.subdomain,
    fullDomain: d.full_domain,
    sslEnabled: d.ssl_enabled,
    sslProvider: d.ssl_provider,
    isActive: d.is_active,
    redirect: d.redirect,
    tlsSans: d.tls_sans ?? null,
    ...(d.tls_options ? { tlsOptions: d.tls_options } : {}),
    ...(d.default_certificate ? { defaultCertificate: true } : {}),
    entryPoints: d.entry_points ?? null,
  };
}

/** A `route_configs` row in the renderer's terms. */
export function routeOf(r: RouteRow): Route {
  return {
    id: r.id,
    serviceId: r.service_id,
    pathRule: r.path_rule,
    priority: r.priority,
    middleware: r.middleware,
    targetPort: r.target_port,
    targetUrl: r.target_url,
    healthCheck: r.health_check,
    isActive: r.is_active,
    servers: r.servers,
    sticky: r.sticky,
    passHostHeader: r.pass_host_header,
    split: r.split,
    failover: r.failover,
    pathMatch: r.path_match,
    headers: r.headers,
    methods: r.methods,
    ...(r.transport ? { transport: r.transport, clientKeyPem: r.key_pem ?? null } : {}),
    entryPoints: r.entry_points ?? null,
  };
}

/** An `l4_routes` row in the renderer's terms. */
export function l4RouteOf(r: L4RouteRow): L4Route {
  return {
    id: r.id,
    protocol: r.protocol,
    name: r.name,
    entryPoint: r.entry_point,
    sni: r.sni,
    tls: r.tls,
    tlsResolver: r.tls_resolver,
    servers: r.servers,
    proxyProtocol: r.proxy_protocol,
    isActive: r.is_active,
  };
}
