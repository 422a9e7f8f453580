/**
 * Plans of the single-row API calls: each takes the project's current rows and returns its
 * target rows (see write.ts), checking what only the whole project can tell — a natural key used
 * twice, a service of another project, a certificate that does not fit its domain.
 */
import { quote } from '../errors.js';
import { fullDomainOf } from './desired.js';
import type { ValidationIssue } from './errors.js';
import { domainProblem } from './fields.js';
import { rowIdentity } from './fields-routing.js';
import { checkCertificate } from './pem.js';
import type { CertificateRow, DomainRow, ProjectRows, RouteRow, ServiceRow } from './rows.js';
import type { RowPlan } from './write.js';

/** The input's own row is at the root of the input (`''`); other rows are not part of it. */
const self = (id: string) => (rowId: string) => (rowId === id ? '' : undefined);

const replace = <T extends { id: string }>(rows: readonly T[], row: T) => rows.map((r) => (r.id === row.id ? row : r));
const without = <T extends { id: string }>(rows: readonly T[], id: string) => rows.filter((r) => r.id !== id);

/** Target rows with a service added or changed. */
export function putService(current: ProjectRows, row: ServiceRow): RowPlan {
  const issues: ValidationIssue[] = [];
  if (current.services.some((s) => s.name === row.name && s.id !== row.id)) {
    issues.push({ path: 'name', message: `project ${quote(current.project.name)} already has a service named ${quote(row.name)}` });
  }
  const exists = current.services.some((s) => s.id === row.id);
  const services = exists ? replace(current.services, row) : [...current.services, row];
  return { target: { ...current, services }, locate: self(row.id), issues };
}

/** Target rows without a service and its routes. */
export function removeService(current: ProjectRows, id: string): RowPlan {
  return {
    target: { ...current, services: without(current.services, id), routes: current.routes.filter((r) => r.service_id !== id) },
    locate: self(id),
  };
}

/** Target rows with a domain added or changed. */
export function putDomain(current: ProjectRows, row: DomainRow): RowPlan {
  const issues: ValidationIssue[] = [];
  const full = fullDomainOf(row.domain, row.subdomain);
  const problem = domainProblem(full);
  if (problem) issues.push({ path: row.subdomain ? 'subdomain' : 'domain', message: `full domain ${problem}` });
  if (current.domains.some((d) => d.full_domain === full && d.id !== row.id)) {
    issues.push({ path: 'domain', message: `project ${quote(current.project.name)} already has domain ${quote(full)}` });
  }
  const next = { ...row, full_domain: full };
  const exists = current.domains.some((d) => d.id === row.id);
  return {
    target: { ...current, domains: exists ? replace(current.domains, next) : [...current.domains, next] },
    locate: self(row.id),
    issues,
  };
}

/** Target rows without a domain, its routes and its certificate. */
export function removeDomain(current: ProjectRows, id: string): RowPlan {
  return {
    target: {
      ...current,
      domains: without(current.domains, id),
      routes: current.routes.filter((r) => r.domain_config_id !== id),
      certificates: current.certificates.filter((c) => c.domain_config_id !== id),
    },
    locate: self(id),
  };
}

/** Target rows with a route added or changed. */
export function putRoute(current: ProjectRows, row: RouteRow): RowPlan {
  const issues: ValidationIssue[] = [];
  const domain = current.domains.find((d) => d.id === row.domain_config_id);
  if (!domain)
    issues.push({
      path: 'domainConfigId',
      message: `domain ${row.domain_config_id} is not a domain of project ${quote(current.project.name)}`,
    });
  if (!current.services.some((s) => s.id === row.service_id)) {
    issues.push({
      path: 'serviceId',
      message: `service ${row.service_id} is not a service of project ${quote(current.project.name)} (a route's service and domain belong to the same project)`,
    });
  }
  if (
    domain &&
    current.routes.some((r) => r.domain_config_id === row.domain_config_id && rowIdentity(r) === rowIdentity(row) && r.id !== row.id)
  ) {
    issues.push({ path: 'pathRule', message: `domain ${quote(domain.full_domain)} already has a route for path ${quote(row.path_rule)}` });
  }
  const exists = current.routes.some((r) => r.id === row.id);
  return { target: { ...current, routes: exists ? replace(current.routes, row) : [...current.routes, row] }, locate: self(row.id), issues };
}

/** Target rows without a route. */
export function removeRoute(current: ProjectRows, id: string): RowPlan {
  return { target: { ...current, routes: without(current.routes, id) }, locate: self(id) };
}

/** Target rows with a certificate added or replaced (checked against its key and domain). */
export function putCertificate(current: ProjectRows, row: CertificateRow): RowPlan {
  const issues: ValidationIssue[] = [];
  const domain = current.domains.find((d) => d.id === row.domain_config_id);
  if (!domain) {
    issues.push({
      path: 'domainConfigId',
      message: `domain ${row.domain_config_id} is not a domain of project ${quote(current.project.name)}`,
    });
  } else if (domain.ssl_provider !== 'custom') {
    issues.push({
      path: 'domainConfigId',
      message: `domain ${quote(domain.full_domain)} has sslProvider ${quote(domain.ssl_provider)}; certificates are used with "custom" only`,
    });
  }
  if (current.certificates.some((c) => c.domain_config_id === row.domain_config_id && c.id !== row.id)) {
    issues.push({ path: 'domainConfigId', message: 'the domain already has a certificate (update or delete that one)' });
  }
  const facts = checkCertificate(row.cert_pem, row.key_pem ?? '', domain?.full_domain ?? null);
  for (const p of facts.problems) issues.push({ path: p.field, message: p.message });
  const next: CertificateRow = { ...row, not_after: facts.notAfter };
  const exists = current.certificates.some((c) => c.id === row.id);
  return {
    target: { ...current, certificates: exists ? replace(current.certificates, next) : [...current.certificates, next] },
    locate: self(row.id),
    issues,
  };
}

/** Target rows without a certificate. */
export function removeCertificate(current: ProjectRows, id: string): RowPlan {
  return { target: { ...current, certificates: without(current.certificates, id) }, locate: self(id) };
}

/**
 * A domain plan with its certificate set (`{certPem, keyPem}`), removed (`null`) or left alone
 * (`undefined`); certificate problems are reported under `certificate.`.
 */
export function withCertificate(
  plan: RowPlan,
  domainId: string,
  pair: { certPem: string; keyPem: string } | null | undefined,
  newId: () => string,
): RowPlan {
  if (pair === undefined) return plan;
  const stored = plan.target.certificates.find((c) => c.domain_config_id === domainId);
  if (pair === null) {
    return stored ? { ...plan, target: { ...plan.target, certificates: without(plan.target.certificates, stored.id) } } : plan;
  }
  const id = stored?.id ?? newId();
  const cert = putCertificate(plan.target, {
    id,
    domain_config_id: domainId,
    cert_pem: pair.certPem,
    key_pem: pair.keyPem,
    not_after: null,
  });
  const issues = (cert.issues ?? []).map((i) => ({ ...i, path: i.path === 'domainConfigId' ? 'certificate' : `certificate.${i.path}` }));
  return {
    target: cert.target,
    locate: (rowId) => (rowId === id ? 'certificate' : plan.locate(rowId)),
    issues: [...(plan.issues ?? []), ...issues],
  };
}
