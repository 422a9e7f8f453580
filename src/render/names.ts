/**
 * Traefik object names. Every name starts with `<project>_`: project names are unique and
 * cannot contain `_`, so names from different projects can never collide (Traefik silently keeps
 * the first of two equal names). Names never contain `@` (the provider separator).
 */
import type { Domain, Route, Service } from '../model.js';

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

/** The project's https redirect middleware. */
export function redirectMiddlewareName(project: string): string {
  return `${project}_redirect-to-https`;
}

/** An inline middleware of a route's chain: `<router name>_<index>-<type>`. */
export function middlewareName(routerName: string, index: number, type: string): string {
  return `${routerName}_${index}-${type}`;
}
