/**
 * Inputs of the service API (TraefikConfigService) and their schemas: camelCase fields as in
 * the seed design; the same field rules as the spec file.
 */
import { z } from 'zod';
import { healthCheckField, middlewareField, parseInput, toIssues } from './checks.js';
import { ValidationError } from './errors.js';
import {
  LIMITS,
  domainField,
  hostnameField,
  nameField,
  portField,
  priorityField,
  providerField,
  shardField,
  subdomainField,
  tlsSansField,
  urlField,
  uuidField,
} from './fields.js';
import { redirectField, serversField, stickyField } from './fields-http.js';
import { tlsOptionsField, transportField } from './fields-tls.js';
import { refineRoutePath, routePathField, routingInputFields } from './fields-routing.js';
import { entryPointsField } from './fields-l4.js';
import type { RouteLaterColumns } from './rows.js';

const pem = z.string().max(LIMITS.pemBytes);

const createProject = z.strictObject({ name: nameField, shard: shardField.optional() });
const updateProject = z.strictObject({ name: nameField.optional(), shard: shardField.optional() });
const createService = z.strictObject({ projectId: uuidField, name: nameField, host: hostnameField.nullable().optional() });
const updateService = z.strictObject({ name: nameField.optional(), host: hostnameField.nullable().optional() });
const domainFields = {
  domain: domainField,
  subdomain: subdomainField.nullable().optional(),
  sslEnabled: z.boolean().optional(),
  sslProvider: providerField.nullable().optional(),
  tlsSans: tlsSansField.nullable().optional(),
  isActive: z.boolean().optional(),
  redirect: redirectField.nullable().optional(),
  tlsOptions: tlsOptionsField.nullable().optional(),
  defaultCertificate: z.boolean().optional(),
  entryPoints: entryPointsField.nullable().optional(),
};
const certificatePair = z.strictObject({ certPem: pem, keyPem: pem });
const createDomain = z.strictObject({ projectId: uuidField, ...domainFields, certificate: certificatePair.optional() });
const updateDomain = z.strictObject({
  ...domainFields,
  domain: domainField.optional(),
  certificate: certificatePair.nullable().optional(),
});
const routeFields = {
  serviceId: uuidField,
  pathRule: routePathField.optional(),
  priority: priorityField.optional(),
  middleware: middlewareField.nullable().optional(),
  targetPort: portField,
  targetUrl: urlField.nullable().optional(),
  healthCheck: healthCheckField.nullable().optional(),
  isActive: z.boolean().optional(),
  servers: serversField.nullable().optional(),
  sticky: stickyField.nullable().optional(),
  passHostHeader: z.boolean().optional(),
  transport: transportField.nullable().optional(),
  ...routingInputFields,
  entryPoints: entryPointsField.nullable().optional(),
};
const createRoute = z.strictObject({ domainConfigId: uuidField, ...routeFields }).superRefine(refineRoutePath('pathRule', 'pathMatch'));
const updateRoute = z
  .strictObject({
    ...routeFields,
    domainConfigId: uuidField.optional(),
    serviceId: uuidField.optional(),
    targetPort: portField.optional(),
  })
  // Without pathMatch the stored match type decides: the renderer checks the path then.
  .superRefine((r, ctx) =>
    r.pathMatch !== undefined || r.pathRule === undefined ? refineRoutePath('pathRule', 'pathMatch')(r, ctx) : undefined,
  );
const createCertificate = z.strictObject({ domainConfigId: uuidField, certPem: pem, keyPem: pem });
const updateCertificate = z.strictObject({ certPem: pem.optional(), keyPem: pem.optional() });

/** Schemas by operation (internal). */
export const schemas = {
  createProject,
  updateProject,
  createService,
  updateService,
  createDomain,
  updateDomain,
  createRoute,
  updateRoute,
  createCertificate,
  updateCertificate,
} as const;

/** Input of `createProject`: `name` is the directory name (`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`); `shard` default `default`. */
export type CreateProjectInput = z.input<typeof createProject>;
/** Input of `updateProject`: rename, or move to another shard (its Traefik deployment). */
export type UpdateProjectInput = z.input<typeof updateProject>;
/** Input of `createService`: `host` defaults to the service name. */
export type CreateServiceInput = z.input<typeof createService>;
/** Input of `updateService`: only the fields given change. */
export type UpdateServiceInput = z.input<typeof updateService>;
/**
 * Input of `createDomainConfig`: `sslEnabled` and `isActive` default to true. With
 * `sslProvider: "custom"`, give `certificate` (PEM certificate and key) in the same call.
 */
export type CreateDomainConfigInput = z.input<typeof createDomain>;
/**
 * Input of `updateDomainConfig`: only the fields given change (`subdomain: null` removes it;
 * `certificate` replaces the domain's certificate, `certificate: null` removes it).
 */
export type UpdateDomainConfigInput = z.input<typeof updateDomain>;
/** Input of `createRouteConfig`: `pathRule` defaults to "/", `priority` to 1, `isActive` to true. */
export type CreateRouteConfigInput = z.input<typeof createRoute>;
/** Input of `updateRouteConfig`: only the fields given change. */
export type UpdateRouteConfigInput = z.input<typeof updateRoute>;
/** Input of `createCertificate`: PEM certificate and unencrypted private key for a domain with provider "custom". */
export type CreateCertificateInput = z.input<typeof createCertificate>;
/** Input of `updateCertificate` (rotation). */
export type UpdateCertificateInput = z.input<typeof updateCertificate>;

const HINTS = {
  port: 'targetPort',
  url: 'targetUrl',
  path: 'pathRule',
  ssl: 'sslEnabled',
  provider: 'sslProvider',
  active: 'isActive',
  health_check: 'healthCheck',
  middlewares: 'middleware',
  project_id: 'projectId',
  domain_config_id: 'domainConfigId',
  service_id: 'serviceId',
  target_port: 'targetPort',
  target_url: 'targetUrl',
  path_rule: 'pathRule',
  ssl_enabled: 'sslEnabled',
  ssl_provider: 'sslProvider',
  tls_sans: 'tlsSans',
  entry_points: 'entryPoints',
  sans: 'tlsSans',
  is_active: 'isActive',
  cert: 'certPem',
  key: 'keyPem',
} as const;

/** Validate an API input against its schema; throws a {@link ValidationError} listing every problem. */
export function validateInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = parseInput(schema, input, HINTS);
  if (parsed.issues.length || parsed.value === undefined) {
    throw new ValidationError(parsed.issues.length ? toIssues(parsed.issues) : [{ path: '', message: 'invalid input' }]);
  }
  return parsed.value;
}

/** The route fields of the HTTP capabilities in an API input (all optional). */
export interface RouteLaterInput {
  readonly servers?: unknown;
  readonly sticky?: unknown;
  readonly passHostHeader?: boolean;
  readonly split?: unknown;
  readonly failover?: unknown;
  readonly pathMatch?: unknown;
  readonly headers?: unknown;
  readonly methods?: unknown;
  readonly entryPoints?: readonly string[] | null;
}

/** The route columns added after the seed's from an API input: the fields given, else `base`'s. */
export function routeLaterColumns(v: RouteLaterInput, base: RouteLaterColumns): RouteLaterColumns {
  const pick = <K extends keyof RouteLaterColumns>(value: unknown, key: K): RouteLaterColumns[K] =>
    value === undefined ? base[key] : (value as RouteLaterColumns[K]);
  return {
    servers: pick(v.servers, 'servers'),
    sticky: pick(v.sticky, 'sticky'),
    pass_host_header: pick(v.passHostHeader, 'pass_host_header'),
    split: pick(v.split, 'split'),
    failover: pick(v.failover, 'failover'),
    path_match: pick(v.pathMatch, 'path_match'),
    headers: pick(v.headers, 'headers'),
    methods: pick(v.methods, 'methods'),
    entry_points: pick(v.entryPoints, 'entry_points') ?? null,
  };
}
