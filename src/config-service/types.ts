/**
 * What the service API returns: rows in camelCase with their timestamps (the seed's
 * DomainConfig, RouteConfig, …), read back after each write. Key material is never returned.
 */
import { sql, type Queryable } from '../db/connect.js';
import { domainOf, routeOf, type DomainRow, type RouteRow } from '../db/rows.js';
import type { Domain, Route } from '../model.js';
import { fingerprintOf } from './pem.js';

interface Stamped {
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A project. */
export interface ProjectConfig extends Stamped {
  readonly id: string;
  readonly name: string;
  /** The shard (Traefik deployment) that serves it. */
  readonly shard: string;
}

/** A service of a project. */
export interface ServiceConfig extends Stamped {
  readonly id: string;
  readonly projectId: string;
  readonly name: string;
  readonly host: string | null;
}

/** A domain of a project (the seed's `domain_configs`): the renderer's Domain without its children. */
export interface DomainConfig extends Omit<Domain, 'certificate' | 'routes'>, Stamped {
  readonly projectId: string;
}

/** A route (the seed's `route_configs`): the renderer's Route plus its domain and timestamps. */
export interface RouteConfig extends Omit<Route, 'clientKeyPem'>, Stamped {
  readonly domainConfigId: string;
}

/** A custom certificate, without its key. */
export interface CertificateInfo extends Stamped {
  readonly id: string;
  readonly domainConfigId: string;
  readonly certPem: string;
  readonly fingerprint: string | null;
  readonly notAfter: Date | null;
}

/** A generated file as recorded in `traefik_configs` (private keys: no content). */
export interface GeneratedFile {
  readonly path: string;
  readonly configType: string;
  readonly checksum: string;
  readonly content: string | null;
  readonly lastSyncedAt: Date | null;
}

/** Everything about one project (the seed's `ProjectTraefikConfig`). */
export interface ProjectTraefikConfig {
  readonly project: ProjectConfig;
  readonly services: readonly ServiceConfig[];
  readonly domains: ReadonlyArray<DomainConfig & { readonly routes: readonly RouteConfig[]; readonly certificate: CertificateInfo | null }>;
  /** Files as last recorded by the controller. */
  readonly files: readonly GeneratedFile[];
}

type R = Record<string, any>;

const stamps = (r: R): Stamped => ({ createdAt: r.created_at, updatedAt: r.updated_at });
const project = (r: R): ProjectConfig => ({ id: r.id, name: r.name, shard: r.shard, ...stamps(r) });
const service = (r: R): ServiceConfig => ({ id: r.id, projectId: r.project_id, name: r.name, host: r.host, ...stamps(r) });
const domain = (r: R): DomainConfig => ({ ...domainOf(r as DomainRow), projectId: r.project_id, ...stamps(r) });
/** A route for API callers: never the private key of its transport's client certificate. */
const route = (r: R): RouteConfig => {
  const { clientKeyPem: _key, ...shown } = routeOf(r as RouteRow);
  return { ...shown, domainConfigId: r.domain_config_id, ...stamps(r) };
};
const certificate = (r: R): CertificateInfo => ({
  id: r.id,
  domainConfigId: r.domain_config_id,
  certPem: r.cert_pem,
  fingerprint: fingerprintOf(r.cert_pem),
  notAfter: r.not_after,
  ...stamps(r),
});

const CERT_COLUMNS = sql`id, domain_config_id, cert_pem, not_after, created_at, updated_at`;

/** Read rows back as API objects (null when absent). */
export const read = {
  async project(q: Queryable, id: string): Promise<ProjectConfig | null> {
    const [r] = await q.query(sql`SELECT * FROM projects WHERE id = ${id}`);
    return r ? project(r) : null;
  },
  async projectByName(q: Queryable, name: string): Promise<ProjectConfig | null> {
    const [r] = await q.query(sql`SELECT * FROM projects WHERE name = ${name}`);
    return r ? project(r) : null;
  },
  async service(q: Queryable, id: string): Promise<ServiceConfig | null> {
    const [r] = await q.query(sql`SELECT * FROM services WHERE id = ${id}`);
    return r ? service(r) : null;
  },
  async domain(q: Queryable, id: string): Promise<DomainConfig | null> {
    const [r] = await q.query(sql`SELECT * FROM domain_configs WHERE id = ${id}`);
    return r ? domain(r) : null;
  },
  async route(q: Queryable, id: string): Promise<RouteConfig | null> {
    const [r] = await q.query(sql`SELECT * FROM route_configs WHERE id = ${id}`);
    return r ? route(r) : null;
  },
  async certificate(q: Queryable, id: string): Promise<CertificateInfo | null> {
    const [r] = await q.query(sql`SELECT ${CERT_COLUMNS} FROM certificates WHERE id = ${id}`);
    return r ? certificate(r) : null;
  },
  async domains(q: Queryable, projectId: string): Promise<DomainConfig[]> {
    return (await q.query(sql`SELECT * FROM domain_configs WHERE project_id = ${projectId} ORDER BY full_domain, id`)).map(domain);
  },
  async routesOfService(q: Queryable, serviceId: string): Promise<RouteConfig[]> {
    return (await q.query(sql`SELECT * FROM route_configs WHERE service_id = ${serviceId} ORDER BY path_rule, id`)).map(route);
  },
  /** Everything about a project, or null. */
  async projectConfigs(q: Queryable, projectId: string): Promise<ProjectTraefikConfig | null> {
    const p = await read.project(q, projectId);
    if (!p) return null;
    const services = (await q.query(sql`SELECT * FROM services WHERE project_id = ${projectId} ORDER BY name`)).map(service);
    const domains = await read.domains(q, projectId);
    const routes = (
      await q.query(sql`SELECT r.* FROM route_configs r JOIN domain_configs d ON d.id = r.domain_config_id
                                      WHERE d.project_id = ${projectId} ORDER BY r.path_rule, r.id`)
    ).map(route);
    const certs = (
      await q.query(sql`SELECT c.id, c.domain_config_id, c.cert_pem, c.not_after, c.created_at, c.updated_at
                                       FROM certificates c JOIN domain_configs d ON d.id = c.domain_config_id
                                      WHERE d.project_id = ${projectId}`)
    ).map(certificate);
    const files = (
      await q.query(sql`SELECT file_path, config_type, checksum, content, last_synced_at FROM traefik_configs
                                      WHERE project_id = ${projectId} ORDER BY file_path`)
    ).map((r: R): GeneratedFile => ({
      path: r.file_path,
      configType: r.config_type,
      checksum: r.checksum,
      content: r.config_type === 'key' ? null : r.content,
      lastSyncedAt: r.last_synced_at,
    }));
    return {
      project: p,
      services,
      domains: domains.map((d) => ({
        ...d,
        routes: routes.filter((r) => r.domainConfigId === d.id),
        certificate: certs.find((c) => c.domainConfigId === d.id) ?? null,
      })),
      files,
    };
  },
};
