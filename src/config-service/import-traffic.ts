/**
 * `weighted` and `failover` services for `import` (docs/spec-format.md "Splits and failover"): a
 * weighted service over 2–16 load balancers of one plain `http://host:port` server each becomes
 * a route `split`; a failover service whose primary is a load balancer with a health check and
 * whose fallback is one plain server becomes the route's upstream plus `failover`. Anything else
 * is refused with the reason.
 */
import { MAX_BRANCHES } from '../render/traffic.js';
import type { SourceTree } from './import-read.js';
import { mapLoadBalancer, resolveService, type MappedService } from './import-objects.js';

type Obj = Record<string, unknown>;

/** A router's service as a route's upstream, with a split or a fallback when it was one. */
export interface RouteService extends MappedService {
  readonly split?: ReadonlyArray<{ readonly service: MappedService; readonly weight?: number }>;
  readonly fallback?: MappedService;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A child of a weighted or failover service that a branch or fallback can stand for: one plain server. */
function plainChild(parent: string, kind: string, ref: unknown, tree: SourceTree): { value: MappedService } | { error: string } {
  const child = resolveService(ref, tree);
  const plain = 'value' in child && child.value.host !== null && !child.value.servers && !child.value.sticky;
  if (!plain)
    return {
      error: `${kind} service ${JSON.stringify(parent)}: its service ${JSON.stringify(ref)} is not a load balancer with one plain http://host:port server${'error' in child ? ` (${child.error})` : ''}`,
    };
  return child;
}

/** The service a router names, mapped, with a split or a fallback when it is a weighted or failover service. */
export function resolveRouteService(ref: unknown, tree: SourceTree): { value: RouteService } | { error: string } {
  const name = typeof ref === 'string' && !ref.includes('@') ? ref : typeof ref === 'string' ? ref.replace(/@file$/, '') : '';
  const s = name ? tree.services.get(name)?.value : undefined;
  if (isObj(s?.weighted)) {
    const w = s.weighted;
    const list = Array.isArray(w.services) ? w.services : [];
    if (list.length < 2 || list.length > MAX_BRANCHES || !list.every(isObj))
      return { error: `weighted service ${JSON.stringify(name)}: expected 2–${MAX_BRANCHES} services` };
    const split: Array<{ service: MappedService; weight?: number }> = [];
    for (const item of list as Obj[]) {
      const child = plainChild(name, 'weighted', item.name, tree);
      if ('error' in child) return child;
      split.push({ service: child.value, ...(typeof item.weight === 'number' ? { weight: item.weight } : {}) });
    }
    const notes = [
      ...split.flatMap((b) => b.service.notes),
      ...Object.keys(w)
        .filter((k) => k !== 'services' && k !== 'healthCheck')
        .map((k) => `weighted service ${name}: ${k} ignored (not supported)`),
    ];
    const checks = new Set(split.map((b) => JSON.stringify(b.service.healthCheck)));
    if (checks.size > 1) notes.push(`weighted service ${name}: the health checks of its services differ; the first one's is kept for all`);
    return { value: { ...split[0]!.service, traefikName: split[0]!.service.traefikName, split, notes } };
  }
  if (isObj(s?.failover)) {
    const f = s.failover;
    const primaryRef = typeof f.service === 'string' ? tree.services.get(f.service.replace(/@file$/, ''))?.value : undefined;
    if (!isObj(primaryRef?.loadBalancer) || Object.keys(primaryRef).length !== 1)
      return { error: `failover service ${JSON.stringify(name)}: its service ${JSON.stringify(f.service)} is not a load balancer` };
    const primary = mapLoadBalancer(String(f.service), primaryRef.loadBalancer);
    if ('error' in primary) return primary;
    if (!primary.value.healthCheck)
      return { error: `failover service ${JSON.stringify(name)}: its service ${JSON.stringify(f.service)} has no health check` };
    const fallback = plainChild(name, 'failover', f.fallback, tree);
    if ('error' in fallback) return fallback;
    return { value: { ...primary.value, fallback: fallback.value, notes: [...primary.value.notes, ...fallback.value.notes] } };
  }
  return resolveService(ref, tree);
}
