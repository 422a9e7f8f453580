/**
 * A project's desired rows as the spec file (and import) describe them: rows keyed by natural
 * keys (service name, full domain, domain + path), not ids. The shape `apply` diffs against the
 * database, and `export` writes back out.
 */
import { routeIdentity, type RoutingValues } from './fields-routing.js';
import type { DesiredL4Route } from './fields-l4.js';
import type { DomainRedirect, MiddlewareSpec, Sticky, UpstreamServer } from '../model.js';
import type { TlsOptions } from '../model.js';
import type { DesiredTransport } from './tls-spec.js';

/** A service of the project (file `services/<name>.yml`). */
export interface DesiredService {
  readonly name: string;
  /** Upstream host; null = the service name. */
  readonly host: string | null;
}

/** A route of a domain; `service` is a service name of the same project. */
export interface DesiredRoute {
  readonly path: string;
  readonly service: string;
  readonly targetPort: number;
  readonly targetUrl: string | null;
  readonly priority: number;
  readonly middleware: readonly MiddlewareSpec[] | null;
  readonly healthCheck: Readonly<Record<string, unknown>> | null;
  readonly active: boolean;
  /** Several upstream servers; null = the one upstream above. */
  readonly servers: readonly UpstreamServer[] | null;
  readonly sticky: Sticky | null;
  readonly passHostHeader: boolean;
  /** Weighted split between services; null = none (fields-routing.ts). */
  readonly split: RoutingValues['split'];
  /** Fallback service; null = none. */
  readonly failover: RoutingValues['failover'];
  /** How `path` matches: prefix (default), exact, or regex (a Go regular expression). */
  readonly pathMatch: RoutingValues['pathMatch'];
  /** Header conditions; null = none. */
  readonly headers: RoutingValues['headers'];
  /** Method conditions; null = any method. */
  readonly methods: RoutingValues['methods'];
  /** Backend transport (absent or null: Traefik's default). */
  readonly transport?: DesiredTransport | null;
  /** The route's own entry points; null/absent = its domain's. */
  readonly entryPoints?: readonly string[] | null;
}

/**
 * A custom certificate: PEM text read from files, or "keep the stored certificate whose
 * fingerprint is this" (what `export` writes when it does not write key files).
 */
export type DesiredCertificate =
  { readonly kind: 'pem'; readonly certPem: string; readonly keyPem: string } | { readonly kind: 'keep'; readonly fingerprint: string };

/** A domain with its routes. */
export interface DesiredDomain {
  readonly domain: string;
  readonly subdomain: string | null;
  readonly fullDomain: string;
  readonly ssl: boolean;
  readonly provider: string | null;
  /** More names on the ACME certificate (tls.domains[0].sans); null = none. */
  readonly sans?: readonly string[] | null;
  readonly active: boolean;
  readonly certificate: DesiredCertificate | null;
  readonly routes: readonly DesiredRoute[];
  /** Redirect every request to another host (then no routes); null = serve the routes. */
  readonly redirect: DomainRedirect | null;
  /** TLS options of the host (absent or null: Traefik's default). */
  readonly tlsOptions?: TlsOptions | null;
  /** The domain's certificate is Traefik's default certificate. */
  readonly defaultCertificate?: boolean;
  /** The domain's entry points; null/absent = the generated choice (render/entry-points.ts). */
  readonly entryPoints?: readonly string[] | null;
}

/** A named middleware shared by the project's routes (`{use: name}`). */
export interface DesiredMiddleware {
  readonly name: string;
  /** One Traefik middleware: `{forwardAuth: {...}}`. */
  readonly middleware: MiddlewareSpec;
}

/** Everything a spec says about one project. */
export interface DesiredProject {
  readonly name: string;
  /** The shard (Traefik deployment) serving the project; absent: as it is (new projects: `default`). */
  readonly shard?: string;
  readonly services: readonly DesiredService[];
  /** Shared middlewares (absent: none). */
  readonly middlewares?: readonly DesiredMiddleware[];
  readonly domains: readonly DesiredDomain[];
  /** TCP and UDP routes (absent: none). */
  readonly l4Routes?: readonly DesiredL4Route[];
}

/** `subdomain.domain`, or `domain`. */
export function fullDomainOf(domain: string, subdomain: string | null): string {
  return subdomain ? `${subdomain}.${domain}` : domain;
}

/** Where each row sits in a spec: paths for messages (`domains[1].routes[0]`). */
export interface SpecPaths {
  readonly service: (name: string) => string;
  readonly domain: (fullDomain: string) => string;
  readonly route: (fullDomain: string, path: string) => string;
}

/** Paths of the rows of `d` as they appear in its spec (first occurrence wins). */
export function specPaths(d: DesiredProject): SpecPaths {
  const services = new Map<string, string>();
  const domains = new Map<string, string>();
  const routes = new Map<string, string>();
  d.services.forEach((s, i) => {
    if (!services.has(s.name)) services.set(s.name, `services[${i}]`);
  });
  d.domains.forEach((dom, i) => {
    if (!domains.has(dom.fullDomain)) domains.set(dom.fullDomain, `domains[${i}]`);
    dom.routes.forEach((r, j) => {
      const key = `${dom.fullDomain}\u0000${r.path}`;
      if (!routes.has(key)) routes.set(key, `domains[${i}].routes[${j}]`);
    });
  });
  return {
    service: (name) => services.get(name) ?? '',
    domain: (fd) => domains.get(fd) ?? '',
    route: (fd, path) => routes.get(`${fd}\u0000${path}`) ?? '',
  };
}

/** Problems across rows of one spec: duplicates, unknown services, certificates that do not fit. */
export function crossRowIssues(d: DesiredProject): Array<{ path: string; message: string }> {
  const out: Array<{ path: string; message: string }> = [];
  const names = new Set<string>();
  d.services.forEach((s, i) => {
    if (names.has(s.name)) out.push({ path: `services[${i}].name`, message: `service ${JSON.stringify(s.name)} is listed twice` });
    names.add(s.name);
  });
  const domains = new Set<string>();
  d.domains.forEach((dom, i) => {
    const at = `domains[${i}]`;
    if (domains.has(dom.fullDomain))
      out.push({ path: `${at}.domain`, message: `domain ${JSON.stringify(dom.fullDomain)} is listed twice` });
    domains.add(dom.fullDomain);
    if (dom.sans && !dom.ssl) out.push({ path: `${at}.sans`, message: 'names on a certificate need ssl: true' });
    if (dom.defaultCertificate && !(dom.ssl && dom.provider === 'custom' && dom.certificate)) {
      out.push({
        path: `${at}.defaultCertificate`,
        message: 'needs ssl: true, provider "custom" and a certificate (it is served as Traefik\'s default)',
      });
    }
    if (dom.tlsOptions && !dom.ssl) out.push({ path: `${at}.tlsOptions`, message: 'TLS options need ssl: true' });
    if (dom.tlsOptions && dom.fullDomain.startsWith('*.')) {
      out.push({
        path: `${at}.tlsOptions`,
        message: 'not on a wildcard domain: Traefik picks TLS options by host, and a wildcard rule names none',
      });
    }
    if (dom.certificate && dom.provider !== 'custom') {
      out.push({ path: `${at}.certificate`, message: `a certificate needs provider "custom", got ${JSON.stringify(dom.provider)}` });
    }
    const paths = new Set<string>();
    dom.routes.forEach((r, j) => {
      const id = routeIdentity(r.path, r);
      if (paths.has(id)) {
        const also = id === r.path ? '' : ' with the same match, headers and methods';
        out.push({ path: `${at}.routes[${j}].path`, message: `path ${JSON.stringify(r.path)}${also} is listed twice for this domain` });
      }
      paths.add(id);
      if (!names.has(r.service)) {
        out.push({
          path: `${at}.routes[${j}].service`,
          message: `no service named ${JSON.stringify(r.service)} in services (have: ${[...names].join(', ') || 'none'})`,
        });
      }
    });
  });
  return out;
}
