/**
 * TraefikConfigService (docs/design.md): validated CRUD on the desired state. Every call validates its
 * input (all problems at once, by field), then, in one transaction attributed to the actor, locks
 * the project, renders the would-be state with the real renderer and writes only what changed.
 * The database triggers wake the controller; {@link waitForSync} waits until the files are written.
 */
import type { InternalTarget } from '../address.js';
import type { DomainRedirect } from '../model.js';
import { randomUUID } from 'node:crypto';
import { sql, type ConnectionPool, type Queryable } from '../db/connect.js';
import { UserError } from '../errors.js';
import { staticFacts } from '../render/static-facts.js';
import type { StaticSettings } from '../render/static-settings.js';
import { enabledProviders } from '../render/providers.js';
import * as crud from './crud.js';
import { NotFoundError } from './errors.js';
import { checkActor, checkId, notFound, projectOf } from './lookup.js';
import {
  routeLaterColumns,
  schemas,
  validateInput,
  type CreateCertificateInput,
  type CreateDomainConfigInput,
  type CreateProjectInput,
  type CreateRouteConfigInput,
  type CreateServiceInput,
  type UpdateCertificateInput,
  type UpdateDomainConfigInput,
  type UpdateProjectInput,
  type UpdateRouteConfigInput,
  type UpdateServiceInput,
} from './inputs.js';
import { apiTransportColumns, domainTlsColumns } from './fields-tls.js';
import { SpecOperations } from './operations.js';
import { ROUTE_DEFAULTS, type ProjectRows } from './rows.js';
import {
  read,
  type CertificateInfo,
  type DomainConfig,
  type ProjectConfig,
  type ProjectTraefikConfig,
  type RouteConfig,
  type ServiceConfig,
} from './types.js';
import { writeProject, type RowPlan } from './write.js';

/** Options of {@link TraefikConfigService}. */
export interface ConfigServiceOptions {
  /** Who the changes are attributed to in the audit log (default "config-service"). */
  readonly actor?: string;
  /** The config root as Traefik sees it (must match the controller's; default /app/traefik-configs). */
  readonly configDir?: string;
  /**
   * The controller's static-config settings (TRAEFIK_ENTRYPOINTS, TRAEFIK_STATIC_FILE, …: the
   * `traefikStatic` of its Config): entry points and DNS-01 resolvers are checked against them.
   * Default: the default settings (web, websecure, metrics; no resolver defined).
   */
  readonly traefikStatic?: StaticSettings;
  /**
   * The providers Traefik runs, which a middleware `ref` may name (the settings' `traefikProviders`;
   * default `internal` and `file`, what the generated static config enables).
   */
  readonly providers?: ReadonlySet<string>;
  /** Upstreams at internal addresses allowed anyway (must match the controller's ALLOWED_INTERNAL_TARGETS). */
  readonly allowedInternalTargets?: readonly InternalTarget[];
}

const API_FIELDS = { provider: 'sslProvider', certificate: 'certificate', sans: 'tlsSans', path: 'pathRule' } as const;

/** Database CRUD for Traefik configuration, validated and audited. */
export class TraefikConfigService extends SpecOperations {
  readonly #traefikStatic: StaticSettings | undefined;

  constructor(db: ConnectionPool, options: ConfigServiceOptions = {}) {
    super(db, {
      actor: checkActor(options.actor ?? 'config-service'),
      configDir: options.configDir ?? '/app/traefik-configs',
      providers: options.providers ?? enabledProviders(null),
      allowedInternalTargets: options.allowedInternalTargets,
      static: staticFacts(options.traefikStatic),
    });
    this.#traefikStatic = options.traefikStatic;
  }

  /** The same service, attributing changes to another actor. */
  withActor(actor: string): TraefikConfigService {
    return new TraefikConfigService(this.db, { actor, ...this.render, traefikStatic: this.#traefikStatic });
  }

  // -- projects -----------------------------------------------------------------------------

  /** Create an empty project. */
  async createProject(input: CreateProjectInput): Promise<ProjectConfig> {
    const v = validateInput(schemas.createProject, input);
    const id = await this.transaction(async (tx) => {
      const [taken] = await tx.query(sql`SELECT 1 FROM projects WHERE name = ${v.name}`);
      if (taken) throw new UserError(`name: another project is already named ${JSON.stringify(v.name)}`);
      const target = (c: ProjectRows) => ({ ...c, project: { ...c.project, ...(v.shard !== undefined ? { shard: v.shard } : {}) } });
      return (await writeProject(tx, { name: v.name, create: true }, (c) => ({ target: target(c), locate: () => undefined }), this.#opts()))
        .project.id;
    });
    return (await read.project(this.db, id))!;
  }

  /** Rename a project (its directory moves with it), or move it to another shard. */
  async updateProject(id: string, input: UpdateProjectInput): Promise<ProjectConfig> {
    checkId(id);
    const v = validateInput(schemas.updateProject, input);
    await this.transaction(async (tx) => {
      if (v.name !== undefined) {
        const [taken] = await tx.query(sql`SELECT 1 FROM projects WHERE name = ${v.name} AND id <> ${id}`);
        if (taken) throw new UserError(`name: another project is already named ${JSON.stringify(v.name)}`);
      }
      await this.#mutate(tx, id, (c) => ({
        target: { ...c, project: { ...c.project, name: v.name ?? c.project.name, ...(v.shard !== undefined ? { shard: v.shard } : {}) } },
        locate: () => '',
      }));
    });
    return (await read.project(this.db, id))!;
  }

  /** Delete a project and all its rows (its files are removed by the controller). */
  async deleteProject(id: string): Promise<void> {
    checkId(id);
    await this.transaction(async (tx) => {
      const [row] = await tx.query(sql`DELETE FROM projects WHERE id = ${id} RETURNING id`);
      if (!row) throw new NotFoundError('project', id);
    });
  }

  // -- services -----------------------------------------------------------------------------

  /** Add a service to a project. */
  async createService(input: CreateServiceInput): Promise<ServiceConfig> {
    const v = validateInput(schemas.createService, input);
    const id = randomUUID();
    await this.transaction((tx) =>
      this.#mutate(
        tx,
        v.projectId,
        (c) => crud.putService(c, { id, project_id: c.project.id, name: v.name, host: v.host ?? null }),
        'projectId',
      ),
    );
    return (await read.service(this.db, id))!;
  }

  /** Change a service's name or host. */
  async updateService(id: string, input: UpdateServiceInput): Promise<ServiceConfig> {
    checkId(id);
    const v = validateInput(schemas.updateService, input);
    await this.transaction(async (tx) =>
      this.#mutate(tx, await projectOf(tx, 'services', id), (c) => {
        const s = c.services.find((x) => x.id === id) ?? notFound('service', id);
        return crud.putService(c, { ...s, name: v.name ?? s.name, host: v.host === undefined ? s.host : v.host });
      }),
    );
    return (await read.service(this.db, id))!;
  }

  /** Delete a service and its routes. */
  async deleteService(id: string): Promise<void> {
    checkId(id);
    await this.transaction(async (tx) => this.#mutate(tx, await projectOf(tx, 'services', id), (c) => crud.removeService(c, id)));
  }

  // -- domains ------------------------------------------------------------------------------

  /** Add a domain to a project. */
  async createDomainConfig(input: CreateDomainConfigInput): Promise<DomainConfig> {
    const v = validateInput(schemas.createDomain, input);
    const id = randomUUID();
    await this.transaction((tx) =>
      this.#mutate(
        tx,
        v.projectId,
        (c) =>
          crud.withCertificate(
            crud.putDomain(c, {
              id,
              project_id: c.project.id,
              domain: v.domain,
              subdomain: v.subdomain ?? null,
              full_domain: '',
              ssl_enabled: v.sslEnabled ?? true,
              ssl_provider: v.sslProvider ?? null,
              is_active: v.isActive ?? true,
              redirect: (v.redirect ?? null) as DomainRedirect | null,
              ...domainTlsColumns(v, {}),
              tls_sans: v.tlsSans ?? null,
              entry_points: v.entryPoints ?? null,
            }),
            id,
            v.certificate,
            randomUUID,
          ),
        'projectId',
      ),
    );
    return (await read.domain(this.db, id))!;
  }

  /** Change a domain; only the fields given change. */
  async updateDomainConfig(id: string, input: UpdateDomainConfigInput): Promise<DomainConfig> {
    checkId(id);
    const v = validateInput(schemas.updateDomain, input);
    await this.transaction(async (tx) =>
      this.#mutate(tx, await projectOf(tx, 'domain_configs', id), (c) => {
        const d = c.domains.find((x) => x.id === id) ?? notFound('domain', id);
        return crud.withCertificate(
          crud.putDomain(c, {
            ...d,
            domain: v.domain ?? d.domain,
            subdomain: v.subdomain === undefined ? d.subdomain : v.subdomain,
            ssl_enabled: v.sslEnabled ?? d.ssl_enabled,
            ssl_provider: v.sslProvider === undefined ? d.ssl_provider : v.sslProvider,
            is_active: v.isActive ?? d.is_active,
            redirect: v.redirect === undefined ? d.redirect : (v.redirect as DomainRedirect | null),
            ...domainTlsColumns(v, d),
            tls_sans: v.tlsSans === undefined ? (d.tls_sans ?? null) : v.tlsSans,
            entry_points: v.entryPoints === undefined ? (d.entry_points ?? null) : v.entryPoints,
          }),
          id,
          v.certificate,
          randomUUID,
        );
      }),
    );
    return (await read.domain(this.db, id))!;
  }

  /** Delete a domain with its routes and certificate. */
  async deleteDomainConfig(id: string): Promise<void> {
    checkId(id);
    await this.transaction(async (tx) => this.#mutate(tx, await projectOf(tx, 'domain_configs', id), (c) => crud.removeDomain(c, id)));
  }

  // -- routes -------------------------------------------------------------------------------

  /** Add a route to a domain. */
  async createRouteConfig(input: CreateRouteConfigInput): Promise<RouteConfig> {
    const v = validateInput(schemas.createRoute, input);
    const id = randomUUID();
    await this.transaction(async (tx) =>
      this.#mutate(tx, await projectOf(tx, 'domain_configs', v.domainConfigId, 'domainConfigId'), (c) =>
        crud.putRoute(c, {
          id,
          domain_config_id: v.domainConfigId,
          service_id: v.serviceId,
          path_rule: v.pathRule ?? '/',
          priority: v.priority ?? 1,
          middleware: (v.middleware ?? null) as RouteConfig['middleware'],
          target_port: v.targetPort,
          target_url: v.targetUrl ?? null,
          health_check: v.healthCheck ?? null,
          is_active: v.isActive ?? true,
          ...routeLaterColumns(v, ROUTE_DEFAULTS),
          ...apiTransportColumns(v.transport, {}),
        }),
      ),
    );
    return (await read.route(this.db, id))!;
  }

  /** Change a route; only the fields given change. */
  async updateRouteConfig(id: string, input: UpdateRouteConfigInput): Promise<RouteConfig> {
    checkId(id);
    const v = validateInput(schemas.updateRoute, input);
    await this.transaction(async (tx) =>
      this.#mutate(tx, await projectOf(tx, 'route_configs', id), (c) => {
        const r = c.routes.find((x) => x.id === id) ?? notFound('route', id);
        const keep = <T>(value: T | undefined, old: T) => (value === undefined ? old : value);
        return crud.putRoute(c, {
          ...r,
          domain_config_id: v.domainConfigId ?? r.domain_config_id,
          service_id: v.serviceId ?? r.service_id,
          path_rule: v.pathRule ?? r.path_rule,
          priority: v.priority ?? r.priority,
          middleware: keep(v.middleware as RouteConfig['middleware'] | undefined, r.middleware),
          target_port: v.targetPort ?? r.target_port,
          target_url: keep(v.targetUrl, r.target_url),
          health_check: keep(v.healthCheck, r.health_check),
          is_active: v.isActive ?? r.is_active,
          ...routeLaterColumns(v, r),
          ...apiTransportColumns(v.transport, r),
        });
      }),
    );
    return (await read.route(this.db, id))!;
  }

  /** Delete a route. */
  async deleteRouteConfig(id: string): Promise<void> {
    checkId(id);
    await this.transaction(async (tx) => this.#mutate(tx, await projectOf(tx, 'route_configs', id), (c) => crud.removeRoute(c, id)));
  }

  // -- certificates -------------------------------------------------------------------------

  /** Store a custom certificate and key for a domain with sslProvider "custom". */
  async createCertificate(input: CreateCertificateInput): Promise<CertificateInfo> {
    const v = validateInput(schemas.createCertificate, input);
    const id = randomUUID();
    await this.transaction(async (tx) =>
      this.#mutate(tx, await projectOf(tx, 'domain_configs', v.domainConfigId, 'domainConfigId'), (c) =>
        crud.putCertificate(c, {
          id,
          domain_config_id: v.domainConfigId,
          cert_pem: v.certPem,
          key_pem: v.keyPem,
          not_after: null,
        }),
      ),
    );
    return (await read.certificate(this.db, id))!;
  }

  /** Replace a certificate and/or its key (rotation). */
  async updateCertificate(id: string, input: UpdateCertificateInput): Promise<CertificateInfo> {
    checkId(id);
    const v = validateInput(schemas.updateCertificate, input);
    await this.transaction(async (tx) =>
      this.#mutate(tx, await projectOf(tx, 'certificates', id), (c) => {
        const cert = c.certificates.find((x) => x.id === id) ?? notFound('certificate', id);
        return crud.putCertificate(c, { ...cert, cert_pem: v.certPem ?? cert.cert_pem, key_pem: v.keyPem ?? cert.key_pem });
      }),
    );
    return (await read.certificate(this.db, id))!;
  }

  /** Delete a certificate (refused while its domain uses provider "custom"). */
  async deleteCertificate(id: string): Promise<void> {
    checkId(id);
    await this.transaction(async (tx) => this.#mutate(tx, await projectOf(tx, 'certificates', id), (c) => crud.removeCertificate(c, id)));
  }

  // -- queries ------------------------------------------------------------------------------

  /** A project with its services, domains, routes, certificates (no keys) and recorded files. */
  async getProjectConfigs(projectId: string): Promise<ProjectTraefikConfig> {
    checkId(projectId, 'projectId');
    return (await read.projectConfigs(this.db, projectId)) ?? notFound('project', projectId);
  }

  /** The domains of a project. */
  async listProjectDomains(projectId: string): Promise<DomainConfig[]> {
    checkId(projectId, 'projectId');
    return read.domains(this.db, projectId);
  }

  /** The routes of a service. */
  async listServiceRoutes(serviceId: string): Promise<RouteConfig[]> {
    checkId(serviceId, 'serviceId');
    return read.routesOfService(this.db, serviceId);
  }

  // -- internals ----------------------------------------------------------------------------

  #opts() {
    return { render: this.render, fieldNames: API_FIELDS, domainField: 'domain' };
  }

  async #mutate(tx: Queryable, projectId: string, plan: (current: ProjectRows) => RowPlan, field = 'id'): Promise<void> {
    const [p] = await tx.query(sql`SELECT 1 FROM projects WHERE id = ${projectId}`);
    if (!p) throw new NotFoundError(field === 'projectId' ? 'projectId: project' : 'project', projectId);
    await writeProject(tx, { id: projectId }, plan, this.#opts());
  }
}
