/**
 * Checks of a spec's splits and failovers across its rows (docs/spec-format.md "Splits and
 * failover"): the services they name exist, a split stands alone, a failover has a health check.
 * Each issue names the field in the spec.
 */
import type { ServiceTarget } from '../model.js';
import { splitConflicts } from '../render/traffic.js';
import type { DesiredProject } from './desired.js';
import type { ValidationIssue } from './errors.js';

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
