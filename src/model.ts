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
