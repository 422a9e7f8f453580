/** Domain types: a project's desired state as read from the database. */

/** A middleware chain element: one inline Traefik middleware, or a reference to one defined elsewhere. */
export type MiddlewareSpec = Readonly<Record<string, unknown>>;

export interface Service {
  readonly id: string;
  readonly name: string;
  /** Upstream host name; defaults to the service name. */
  readonly host: string | null;
}

export interface Certificate {
  readonly id: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly notAfter: Date | null;
}

export interface Route {
  readonly id: string;
  readonly serviceId: string;
  readonly pathRule: string;
  readonly priority: number;
  readonly middleware: readonly MiddlewareSpec[] | null;
  readonly targetPort: number;
  readonly targetUrl: string | null;
  readonly healthCheck: Readonly<Record<string, unknown>> | null;
  readonly isActive: boolean;
  // Load balancing (docs/spec-format.md "Load balancing"). Optional: absent means the defaults
  // (one upstream, no stickiness, passHostHeader true), as in rows written before they existed.
  /** Several upstream servers (replace targetUrl / service host on targetPort). */
  readonly servers?: readonly UpstreamServer[] | null;
  /** Sticky sessions: a cookie naming the server that answered first. */
  readonly sticky?: Sticky | null;
  /** Forward the client's Host header to the upstream (default true; false for external upstreams). */
  readonly passHostHeader?: boolean;
  /** How Traefik connects to HTTPS upstreams (docs/spec-format.md "Backend transport"); absent: Traefik's default. */
  readonly transport?: BackendTransport | null;
  /** The private key of `transport.clientCert` (written 0600, never shown). */
  readonly clientKeyPem?: string | null;
  /** Entry points of this route's router instead of its domain's (src/render/entry-points.ts); null/absent = the domain's. */
  readonly entryPoints?: readonly string[] | null;
  /** Weighted routing between services of the project (docs/spec-format.md "Splits and failover"). */
  readonly split?: readonly SplitBranch[] | null;
  /** A service of the project answering while the route's health check finds its upstream down. */
  readonly failover?: ServiceTarget | null;
  /** How `pathRule` matches (docs/spec-format.md "Matching requests"); absent = 'prefix'. */
  readonly pathMatch?: PathMatch;
  /** Header name → exact value, all required; null = none. */
  readonly headers?: Readonly<Record<string, string>> | null;
  /** HTTP methods, any of which matches; null = any method. */
  readonly methods?: readonly string[] | null;
}

/** A route's backend transport: CA, serverName, insecureSkipVerify, client certificate (its key is Route.clientKeyPem). */
export interface BackendTransport {
  readonly serverName?: string;
  readonly insecureSkipVerify?: boolean;
  /** PEM certificate(s) the upstream's certificate is checked against (instead of the system's). */
  readonly ca?: string;
  /** PEM client certificate presented to the upstream (mTLS). */
  readonly clientCert?: string;
}

/** PathPrefix (as before), Path, or PathRegexp (`pathRule` is then a Go regular expression). */
export type PathMatch = 'prefix' | 'exact' | 'regex';

/** A service of the project on a port (default: the route's targetPort). */
export interface ServiceTarget {
  readonly service: string;
  readonly port?: number;
}

/** One branch of a split: a service of the project, its port, its share of the traffic (default 1). */
export interface SplitBranch extends ServiceTarget {
  readonly weight?: number;
}

/** One upstream server of a route: a full URL, or a host on the route's targetPort (or `port`). */
export interface UpstreamServer {
  readonly url?: string;
  readonly host?: string;
  readonly port?: number;
  /** Share of the traffic (default 1; 0 = none). */
  readonly weight?: number;
}

/** Sticky sessions (Traefik 3.0's `sticky.cookie` options). */
export interface Sticky {
  readonly cookie: {
    readonly name?: string;
    readonly secure?: boolean;
    readonly httpOnly?: boolean;
    readonly sameSite?: 'none' | 'lax' | 'strict';
    readonly maxAge?: number;
  };
}

export interface Domain {
  readonly id: string;
  readonly domain: string;
  readonly subdomain: string | null;
  readonly fullDomain: string;
  readonly sslEnabled: boolean;
  readonly sslProvider: string | null;
  readonly isActive: boolean;
  /** More names on the domain's ACME certificate (tls.domains[0].sans); null = none. */
  readonly tlsSans?: readonly string[] | null;
  readonly certificate: Certificate | null;
  readonly routes: readonly Route[];
  /** Redirect every request to another host (docs/spec-format.md "Domain redirects"); such a domain has no routes. */
  readonly redirect?: DomainRedirect | null;
  /** Entry points of the domain's routers (src/render/entry-points.ts); null/absent = web, or websecure + redirect on web. */
  readonly entryPoints?: readonly string[] | null;
  /** TLS options of the host (docs/spec-format.md "TLS options"); absent: Traefik's default. */
  readonly tlsOptions?: TlsOptions | null;
  /** The domain's custom certificate is Traefik's default certificate (one active domain of all projects). */
  readonly defaultCertificate?: boolean;
}

/** TLS options of a domain, in Traefik's names (render/tls-options.ts). */
export interface TlsOptions {
  readonly minVersion?: string;
  readonly maxVersion?: string;
  readonly cipherSuites?: readonly string[];
  readonly sniStrict?: boolean;
  /** Client certificate authentication: the CA (PEM) and Go's ClientAuthType name. */
  readonly clientAuth?: { readonly ca?: string; readonly mode: string };
}

/** Where a redirecting domain sends its clients: path and query are kept. */
export interface DomainRedirect {
  /** The host to redirect to (never the domain itself). */
  readonly to: string;
  /** 301/308 when true (the default), 302/307 when false. */
  readonly permanent?: boolean;
  /** Scheme of the new URL (and its default port); absent: the request's scheme and port are kept. */
  readonly scheme?: 'http' | 'https';
}

/** A named middleware of a project, used by its routes with `{use: name}` (docs/spec-format.md "Shared middlewares"). */
export interface SharedMiddleware {
  readonly id: string;
  readonly name: string;
  /** One Traefik middleware: `{forwardAuth: {...}}`, `{errors: {...}}`, `{chain: {middlewares: [names]}}`, … */
  readonly middleware: MiddlewareSpec;
}

/** One server of a TCP or UDP route. */
export interface L4Server {
  readonly host: string;
  readonly port: number;
}

/** A TCP or UDP route of a project (docs/spec-format.md "TCP and UDP"; src/render/l4.ts). */
export interface L4Route {
  readonly id: string;
  readonly protocol: 'tcp' | 'udp';
  /** Unique per project and protocol; part of the Traefik object name. */
  readonly name: string;
  readonly entryPoint: string;
  /** TCP: the server name matched (`*` = every connection); UDP: null. */
  readonly sni: string | null;
  /** TCP: Traefik terminates TLS, passes it through, or none (null). */
  readonly tls: 'terminate' | 'passthrough' | null;
  /** TCP with terminated TLS: an ACME resolver of TRAEFIK_STATIC_FILE for the certificate. */
  readonly tlsResolver: string | null;
  readonly servers: readonly L4Server[];
  /** TCP: PROXY protocol version sent to the servers. */
  readonly proxyProtocol: 1 | 2 | null;
  readonly isActive: boolean;
}

/** Everything that determines one project's files. */
export interface ProjectState {
  readonly id: string;
  readonly name: string;
  /** Change version (project_versions.version) the state was read at. */
  readonly version: number;
  /** When that change was made (trigger time), for change→file latency. */
  readonly changedAt: Date | null;
  readonly services: readonly Service[];
  readonly domains: readonly Domain[];
  /** Named middlewares (absent in states built before they existed: none). */
  readonly middlewares?: readonly SharedMiddleware[];
  /** TCP and UDP routes (absent: none). */
  readonly l4Routes?: readonly L4Route[];
}

/** One file to be written, relative to the config root (posix separators). */
export interface RenderedFile {
  readonly path: string;
  readonly content: string;
  /** `sha256:<hex>` of `content`. */
  readonly checksum: string;
  readonly configType: 'static' | 'dynamic' | 'service' | 'certificate' | 'key';
  /** File mode: 0o600 for private keys, 0o644 otherwise. */
  readonly mode: number;
  /** Owning project id; null for the global static config. */
  readonly projectId: string | null;
}

/** A lower-case UUID as PostgreSQL prints one (the text, for building larger patterns). */
export const UUID_TEXT = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** A lower-case UUID, exactly: anything else must not reach a `::uuid` cast (one bad key would fail a whole batch). */
export const UUID = new RegExp(`^${UUID_TEXT}$`);

/**
 * A DNS label: lower-case letters, digits and inner "-", 1–63 characters. Project and service
 * names are DNS labels (each is a directory or file name, and a part of Traefik object names), as
 * are the labels of a host name. The database constraints (sql/001_schema.sql) use the same pattern.
 */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
/** {@link DNS_LABEL_PATTERN} as a RegExp. */
export const DNS_LABEL = new RegExp(DNS_LABEL_PATTERN);
