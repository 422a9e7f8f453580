/**
 * A spec against the stored rows: rows are matched by natural key (service name, full domain,
 * domain + path) and keep their ids, so unchanged rows stay untouched and the generated object
 * names stay stable; unmatched spec rows get new ids; unlisted stored rows are dropped.
 */
import { randomUUID } from 'node:crypto';
import { matchL4 } from './fields-l4.js';
import type { DesiredProject } from './desired.js';
import type { ValidationIssue } from './errors.js';
import { routeIdentity, rowIdentity } from './fields-routing.js';
import { checkCertificate, fingerprintOf } from './pem.js';
import type { Locator } from './render-check.js';
import { transportColumns } from './transport-match.js';
import type { CertificateRow, DomainRow, MiddlewareRow, ProjectRows, RouteRow, ServiceRow } from './rows.js';

/** The target rows of a spec, where each row sits in the spec, and problems found on the way. */
export interface Matched {
  readonly target: ProjectRows;
  readonly locate: Locator;
  readonly issues: ValidationIssue[];
}

/** Pick the row to keep among stored rows with the same natural key: the active one, else the first. */
function pick<T extends { is_active?: boolean }>(rows: readonly T[]): T | undefined {
  return rows.find((r) => r.is_active !== false) ?? rows[0];
}

function groupBy<T>(rows: readonly T[], key: (r: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) out.set(key(r), [...(out.get(key(r)) ?? []), r]);
  return out;
}

/** Target rows of `desired` given the `current` rows of the same project. */
export function matchSpec(current: ProjectRows, desired: DesiredProject, newId: () => string = randomUUID): Matched {
  const projectId = current.project.id;
  const issues: ValidationIssue[] = [];
  const paths = new Map<string, string>();
  const servicesByName = groupBy(current.services, (s) => s.name);
  const services: ServiceRow[] = desired.services.map((s, i) => {
    const id = servicesByName.get(s.name)?.[0]?.id ?? newId();
    paths.set(id, `services[${i}]`);
    return { id, project_id: projectId, name: s.name, host: s.host };
  });
  const serviceIds = new Map(services.map((s) => [s.name, s.id]));
  const domainsByFull = groupBy(current.domains, (d) => d.full_domain);
  const routesByKey = groupBy(current.routes, (r) => `${r.domain_config_id}\u0000${rowIdentity(r)}`);
  const certsByDomain = new Map(current.certificates.map((c) => [c.domain_config_id, c]));
  const domains: DomainRow[] = [];
  const certificates: CertificateRow[] = [];
  const routes: RouteRow[] = [];

  desired.domains.forEach((d, i) => {
    const at = `domains[${i}]`;
    const id = pick(domainsByFull.get(d.fullDomain) ?? [])?.id ?? newId();
    paths.set(id, at);
    domains.push({
      id,
      project_id: projectId,
      domain: d.domain,
      subdomain: d.subdomain,
      full_domain: d.fullDomain,
      ssl_enabled: d.ssl,
      ssl_provider: d.provider,
      is_active: d.active,
      redirect: d.redirect,
      tls_sans: d.sans ?? null,
      tls_options: d.tlsOptions ?? null,
      default_certificate: d.defaultCertificate ?? false,
      entry_points: d.entryPoints ?? null,
    });
    const stored = certsByDomain.get(id);
    if (d.certificate?.kind === 'pem') {
      const certId = stored?.id ?? newId();
      paths.set(certId, `${at}.certificate`);
      const facts = checkCertificate(d.certificate.certPem, d.certificate.keyPem, null);
      certificates.push({
        id: certId,
        domain_config_id: id,
        cert_pem: d.certificate.certPem,
        key_pem: d.certificate.keyPem,
        not_after: stored && stored.cert_pem === d.certificate.certPem ? stored.not_after : facts.notAfter,
      });
    } else if (d.certificate?.kind === 'keep') {
      const have = stored ? fingerprintOf(stored.cert_pem) : null;
      if (!stored || have !== d.certificate.fingerprint) {
        issues.push({
          path: `${at}.certificate.fingerprint`,
          message: `no stored certificate of ${JSON.stringify(d.fullDomain)} has this fingerprint (stored: ${have ?? 'none'}); give certFile and keyFile instead`,
        });
      } else {
        paths.set(stored.id, `${at}.certificate`);
        certificates.push(stored);
      }
    }
    d.routes.forEach((r, j) => {
      const storedRoute = pick(routesByKey.get(`${id}\u0000${routeIdentity(r.path, r)}`) ?? []);
      const rid = storedRoute?.id ?? newId();
      paths.set(rid, `${at}.routes[${j}]`);
      const serviceId = serviceIds.get(r.service);
      if (!serviceId) return; // reported by crossRowIssues
      routes.push({
        id: rid,
        domain_config_id: id,
        service_id: serviceId,
        path_rule: r.path,
        priority: r.priority,
        middleware: r.middleware,
        target_port: r.targetPort,
        target_url: r.targetUrl,
        health_check: r.healthCheck,
        is_active: r.active,
        servers: r.servers,
        sticky: r.sticky,
        pass_host_header: r.passHostHeader,
        split: r.split,
        failover: r.failover,
        path_match: r.pathMatch,
        headers: r.headers,
        methods: r.methods,
        ...transportColumns(r.transport ?? null, storedRoute, `${at}.routes[${j}].transport`, issues),
        entry_points: r.entryPoints ?? null,
      });
    });
  });
  const middlewaresByName = new Map((current.middlewares ?? []).map((m) => [m.name, m.id]));
  const middlewares: MiddlewareRow[] = (desired.middlewares ?? []).map((m, i) => {
    const id = middlewaresByName.get(m.name) ?? newId();
    paths.set(id, `middlewares[${i}]`);
    return { id, project_id: projectId, name: m.name, middleware: m.middleware };
  });
  return {
    target: {
      project: desired.shard === undefined ? current.project : { ...current.project, shard: desired.shard },
      services,
      domains,
      certificates,
      routes,
      middlewares,
      l4Routes: matchL4(current.l4Routes ?? [], desired.l4Routes ?? [], projectId, newId, paths),
    },
    locate: (rowId) => paths.get(rowId),
    issues,
  };
}
