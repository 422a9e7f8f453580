/**
 * Weighted routing between services (a canary, blue-green) and failover to a fallback service
 * when the route's health check finds its upstream down (docs/spec-format.md "Splits and
 * failover"). Pure: the checks return messages naming the field (`split[1].weight: …`).
 *
 * A route with `split` renders as a Traefik `weighted` service over one load balancer per branch
 * (`<route>_split-<i>`); a route with `failover` as a `failover` service whose primary is the
 * route's own load balancer (`<route>_primary`, with its health check) and whose fallback is
 * `<route>_fallback`. A route with neither renders its load balancer as before.
 */
import { quote } from '../errors.js';
import { DNS_LABEL, type Route, type Service, type ServiceTarget, type SplitBranch } from '../model.js';
import { isObject, isWhole, loadBalancerOf, weightProblem } from './upstream.js';

/** A split has 2–MAX_BRANCHES branches. */
export const MAX_BRANCHES = 16;

function targetProblems(v: unknown, at: string, weighted: boolean): string[] {
  const keys = weighted ? ['service', 'port', 'weight'] : ['service', 'port'];
  if (!isObject(v)) return [`${at}: expected {service: NAME, port: PORT${weighted ? ', weight: N' : ''}}, got ${quote(v)}`];
  const problems = Object.keys(v)
    .filter((k) => !keys.includes(k))
    .map((k) => `${at}.${k}: unknown field (known: ${keys.join(', ')})`);
  if (typeof v.service !== 'string' || !DNS_LABEL.test(v.service))
    problems.push(`${at}.service: expected the name of a service of the project, got ${quote(v.service)}`);
  if (v.port !== undefined && !isWhole(v.port, 1, 65535)) problems.push(`${at}.port: expected 1–65535, got ${quote(v.port)}`);
  if (weighted && v.weight !== undefined) {
    const p = weightProblem(v.weight);
    if (p) problems.push(`${at}.weight: ${p}`);
  }
  return problems;
}

/** Problems with a route's `split` (2–16 branches `{service, port, weight}`, one with a weight above 0). */
export function splitProblems(split: unknown, field = 'split'): string[] {
  if (split === null || split === undefined) return [];
  if (!Array.isArray(split) || split.length < 2 || split.length > MAX_BRANCHES)
    return [`${field}: expected a list of 2–${MAX_BRANCHES} branches {service, port, weight}, got ${quote(split)}`];
  const problems = split.flatMap((b, i) => targetProblems(b, `${field}[${i}]`, true));
  if (!problems.length && split.every((b) => (b as SplitBranch).weight === 0))
    problems.push(`${field}: every branch has weight 0, so no request could be answered; give one a weight above 0`);
  return problems;
}

/** Problems with a route's `failover` (`{service, port}`). */
export function failoverProblems(failover: unknown, field = 'failover'): string[] {
  if (failover === null || failover === undefined) return [];
  return targetProblems(failover, field, false);
}

/** The fields set beside a route's split that a split replaces (servers, targetUrl, sticky, failover). */
export function splitConflicts(
  route: Pick<Route, 'split' | 'servers' | 'targetUrl' | 'sticky' | 'failover'>,
): Array<'servers' | 'targetUrl' | 'sticky' | 'failover'> {
  if (!route.split) return [];
  return (['servers', 'targetUrl', 'sticky', 'failover'] as const).filter((k) => route[k] !== null && route[k] !== undefined);
}

/**
 * Problems with a route's split and failover as a whole (the renderer's check, for rows however
 * written): their shapes, the fields they cannot be combined with, and the services they name.
 */
export function trafficProblems(route: Route, at: string, serviceNames: ReadonlySet<string>): string[] {
  const problems = [...splitProblems(route.split, `${at}: split`), ...failoverProblems(route.failover, `${at}: failover`)];
  if (problems.length) return problems;
  for (const field of splitConflicts(route)) {
    const column = field === 'targetUrl' ? 'target_url' : field;
    problems.push(`${at}: split cannot be combined with ${column} (the branches are the upstreams)`);
  }
  if (route.failover && !route.healthCheck)
    problems.push(`${at}: failover needs a health_check: Traefik falls back only when the check finds the upstream down`);
  const named = [
    ...(route.split ?? []).map((b, i) => [b, `split[${i}]`] as const),
    ...(route.failover ? [[route.failover, 'failover'] as const] : []),
  ];
  for (const [t, field] of named) {
    if (!serviceNames.has(t.service)) problems.push(`${at}: ${field}.service: no service named ${quote(t.service)} in the project`);
  }
  return problems;
}

/** A load balancer sending everything to `target` (a service of the project on a port). */
function targetLoadBalancer(route: Route, target: ServiceTarget, service: Service, healthCheck: boolean): Record<string, unknown> {
  const lb: Record<string, unknown> = {
    servers: [{ url: `http://${service.host ?? service.name}:${target.port ?? route.targetPort}` }],
    passHostHeader: route.passHostHeader ?? true,
  };
  if (healthCheck && route.healthCheck) lb.healthCheck = route.healthCheck;
  return lb;
}

/**
 * The Traefik services of a route named `name`: its load balancer alone, or a weighted / failover
 * service and its children. `services` finds the project's services by name (checked before).
 */
export function routeServicesOf(
  service: Service,
  route: Route,
  name: string,
  services: ReadonlyMap<string, Service>,
): Record<string, Record<string, unknown>> {
  if (route.split) {
    const out: Record<string, Record<string, unknown>> = {};
    const weighted: Record<string, unknown> = {
      services: route.split.map((b, i) => ({ name: `${name}_split-${i}`, weight: b.weight ?? 1 })),
    };
    // With a health check on every branch, a branch found down is skipped by the split.
    if (route.healthCheck) weighted.healthCheck = {};
    out[name] = { weighted };
    route.split.forEach((b, i) => {
      out[`${name}_split-${i}`] = { loadBalancer: targetLoadBalancer(route, b, services.get(b.service)!, true) };
    });
    return out;
  }
  if (route.failover) {
    return {
      [name]: { failover: { service: `${name}_primary`, fallback: `${name}_fallback` } },
      [`${name}_primary`]: { loadBalancer: loadBalancerOf(service, route) },
      [`${name}_fallback`]: { loadBalancer: targetLoadBalancer(route, route.failover, services.get(route.failover.service)!, false) },
    };
  }
  return { [name]: { loadBalancer: loadBalancerOf(service, route) } };
}
