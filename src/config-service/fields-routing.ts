/**
 * A route's weighted split between services and its failover (docs/spec-format.md "Splits and
 * failover"), in the spec file, the service API, the rows and `export`. The shapes are checked by
 * the renderer's own rules (render/traffic.ts); that the services named exist is checked across
 * the spec here, by the renderer for API writes, and by the database at commit.
 */
import type { ServiceTarget, SplitBranch } from '../model.js';
import { failoverProblems, splitConflicts, splitProblems } from '../render/traffic.js';
import type { DesiredProject } from './desired.js';
import type { ValidationIssue } from './errors.js';
import { rendererChecked } from './fields-http.js';

/** A route's split: 2–16 branches `{service, port, weight}`. */
export const splitField = rendererChecked(splitProblems);
/** A route's fallback service: `{service, port}`. */
export const failoverField = rendererChecked(failoverProblems);

/** The spec and API fields (same names in both). */
export const routingRouteFields = {
  split: splitField.nullable().optional(),
  failover: failoverField.nullable().optional(),
};

/** The routing values of a route as given in a spec or API input (absent → none). */
export interface RoutingValues {
  readonly split: readonly SplitBranch[] | null;
  readonly failover: ServiceTarget | null;
}

/** A spec route's routing values, defaults filled in. */
export function routingOfSpec(r: { readonly split?: unknown; readonly failover?: unknown }): RoutingValues {
  return { split: (r.split ?? null) as SplitBranch[] | null, failover: (r.failover ?? null) as ServiceTarget | null };
}

/** The export form of a row's routing columns: only what is set, so older exports stay byte for byte. */
export function routingExport(r: { readonly split: RoutingValues['split']; readonly failover: RoutingValues['failover'] }) {
  return { ...(r.split ? { split: r.split } : {}), ...(r.failover ? { failover: r.failover } : {}) };
}

/** Splits and fallbacks naming a service the spec does not list; a split with failover or with servers / targetUrl / sticky. */
export function routingIssues(d: DesiredProject): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const names = new Set(d.services.map((s) => s.name));
  const have = [...names].join(', ') || 'none';
  d.domains.forEach((dom, i) =>
    dom.routes.forEach((r, j) => {
      const at = `domains[${i}].routes[${j}]`;
      const named: Array<[ServiceTarget, string]> = [
        ...(r.split ?? []).map((b, k): [ServiceTarget, string] => [b, `${at}.split[${k}].service`]),
        ...(r.failover ? [[r.failover, `${at}.failover.service`] as [ServiceTarget, string]] : []),
      ];
      for (const [t, path] of named) {
        if (!names.has(t.service)) out.push({ path, message: `no service named ${JSON.stringify(t.service)} in services (have: ${have})` });
      }
      for (const field of splitConflicts(r)) {
        out.push({ path: `${at}.${field}`, message: 'cannot be combined with split (the branches are the upstreams)' });
      }
      if (r.failover && !r.healthCheck) {
        out.push({
          path: `${at}.failover`,
          message: 'needs a healthCheck on the route: Traefik falls back only when the check finds the upstream down',
        });
      }
    }),
  );
  return out;
}
