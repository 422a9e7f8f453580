/**
 * Traefik object names. Every name starts with `<project>_`: project names are unique and
 * cannot contain `_`, so names from different projects can never collide (Traefik silently keeps
 * the first of two equal names). Names never contain `@` (the provider separator).
 */
import { quote } from '../errors.js';
import { DNS_LABEL, DNS_LABEL_PATTERN, type Domain, type Route, type Service } from '../model.js';
import { isWildcard, wildcardProblem } from './hosts.js';

/** A lower-case ASCII host name: dot-separated DNS labels (model.ts), at most 253 characters. */
export function isHostName(v: string): boolean {
  return v.length > 0 && v.length <= 253 && v.split('.').every((label) => DNS_LABEL.test(label));
}

/**
 * The names of a project's rows that become paths or object names, checked again by the renderer
 * (the database checks them too, but rows can reach it past its constraints: a restored dump, a
 * dropped constraint). Problems name the row and the field; none means every path stays inside
 * `dynamic/<project>/` and `ssl/`.
 */
export function nameProblems(state: {
  readonly name: string;
  readonly services: readonly Service[];
  readonly domains: readonly Domain[];
}): string[] {
  const problems: string[] = [];
  if (!DNS_LABEL.test(state.name)) problems.push(`project name must match ${DNS_LABEL_PATTERN}, got ${quote(state.name)}`);
  for (const s of state.services) {
    if (!DNS_LABEL.test(s.name))
      problems.push(`service ${quote(s.name)}: service name must match ${DNS_LABEL_PATTERN}, got ${quote(s.name)}`);
    if (s.host !== null && !isHostName(s.host))
      problems.push(`service ${quote(s.name)}: host must be a lower-case host name, got ${quote(s.host)}`);
  }
  for (const d of state.domains) {
    if (!d.isActive) continue;
    // A wildcard (`*.example.com`, render/hosts.ts) is a host name behind its leftmost label.
    const wildcard = wildcardProblem(d.fullDomain);
    if (wildcard) problems.push(`domain ${quote(d.fullDomain)}: full_domain: ${wildcard}`);
    else if (!isHostName(isWildcard(d.fullDomain) ? d.fullDomain.slice(2) : d.fullDomain))
      problems.push(`domain ${quote(d.fullDomain)}: full_domain must be a lower-case ASCII host name, got ${quote(d.fullDomain)}`);
  }
  return problems;
}

/** Short stable id: the first 12 hex digits of a UUID. */
export function shortId(uuid: string): string {
  return uuid.replace(/-/g, '').slice(0, 12);
}

/** Router and load-balancer service name of a route (`long`: the full id, on a short-id clash). */
export function routeName(project: string, service: Service, route: Route, long = false): string {
  return `${project}_${service.name}_${long ? route.id.replace(/-/g, '') : shortId(route.id)}`;
}

/** Name of the web→websecure redirect router of an SSL domain. */
export function redirectRouterName(project: string, domain: Domain): string {
  return `${project}_redirect_${shortId(domain.id)}`;
}

/** Name of a redirecting domain's middleware and web router (its websecure router adds `-tls`). */
export function domainRedirectName(project: string, domain: Domain): string {
  return `${project}_domain-redirect_${shortId(domain.id)}`;
}

/** The project's https redirect middleware. */
export function redirectMiddlewareName(project: string): string {
  return `${project}_redirect-to-https`;
}

/** An inline middleware of a route's chain: `<router name>_<index>-<type>`. */
export function middlewareName(routerName: string, index: number, type: string): string {
  return `${routerName}_${index}-${type}`;
}
