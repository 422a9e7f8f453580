/**
 * Where a route sends its requests: its load balancer (one upstream, or several servers with
 * weights), sticky sessions and passHostHeader (docs/spec-format.md "Load balancing"). Pure:
 * the checks return messages naming the field (`servers[1].weight: …`), never throw.
 */
import { quote } from '../errors.js';
import type { Route, Service, Sticky, UpstreamServer } from '../model.js';

/** At most this many servers per route. */
export const MAX_SERVERS = 64;
/** Weights are whole numbers 0–MAX_WEIGHT (0: the server takes no traffic). */
export const MAX_WEIGHT = 1_000_000;

/** A host name as the database takes one (traefik_sync_is_hostname): lower-case labels, ≤ 253. */
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** An upstream URL as route_configs.target_url takes one. */
export const UPSTREAM_URL = /^(https?|h2c):\/\/[!#-&(-[\]-_a-z|~]+$/;
const COOKIE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const SAME_SITE = ['none', 'lax', 'strict'];

/** A plain object (not null, not a list). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A whole number between lo and hi. */
export const isWhole = (v: unknown, lo: number, hi: number) => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/** The problem with an upstream URL, or null. */
export function upstreamUrlProblem(v: unknown): string | null {
  if (typeof v !== 'string' || v.length > 2048 || !UPSTREAM_URL.test(v)) {
    return `expected an http://, https:// or h2c:// URL (printable ASCII without spaces, quotes, backslashes or braces, ≤ 2048), got ${quote(v)}`;
  }
  return null;
}

/** The problem with a weight, or null. */
export function weightProblem(v: unknown): string | null {
  return isWhole(v, 0, MAX_WEIGHT) ? null : `expected a whole number 0–${MAX_WEIGHT} (0: no traffic), got ${quote(v)}`;
}

/** Problems with a route's `servers` list (`field` names it). */
export function serverProblems(servers: unknown, field = 'servers'): string[] {
  if (servers === null || servers === undefined) return [];
  if (!Array.isArray(servers)) return [`${field}: expected a list of servers, got ${quote(servers)}`];
  if (servers.length === 0 || servers.length > MAX_SERVERS) return [`${field}: expected 1–${MAX_SERVERS} servers, got ${servers.length}`];
  const problems: string[] = [];
  servers.forEach((s, i) => {
    const at = `${field}[${i}]`;
    if (!isObject(s)) {
      problems.push(`${at}: expected {url: URL} or {host: HOST, port: PORT}, with an optional weight, got ${quote(s)}`);
      return;
    }
    for (const k of Object.keys(s)) {
      if (!['url', 'host', 'port', 'weight'].includes(k))
        problems.push(`${at}.${k}: unknown field (a server has url, or host and port; and weight)`);
    }
    if ((s.url === undefined) === (s.host === undefined)) problems.push(`${at}: give either url, or host (and port), not both`);
    if (s.url !== undefined) {
      const p = upstreamUrlProblem(s.url);
      if (p) problems.push(`${at}.url: ${p}`);
      if (s.port !== undefined) problems.push(`${at}.port: not with url (the URL holds the port)`);
    }
    if (s.host !== undefined && (typeof s.host !== 'string' || !HOSTNAME.test(s.host))) {
      problems.push(`${at}.host: expected a lower-case host name, got ${quote(s.host)}`);
    }
    if (s.port !== undefined && !isWhole(s.port, 1, 65535)) problems.push(`${at}.port: expected 1–65535, got ${quote(s.port)}`);
    if (s.weight !== undefined) {
      const p = weightProblem(s.weight);
      if (p) problems.push(`${at}.weight: ${p}`);
    }
  });
  if (!problems.length && servers.every((s) => (s as UpstreamServer).weight === 0)) {
    problems.push(`${field}: every server has weight 0, so no request could be answered; give one a weight above 0`);
  }
  return problems;
}

/** Problems with a route's `sticky` object. */
export function stickyProblems(sticky: unknown, field = 'sticky'): string[] {
  if (sticky === null || sticky === undefined) return [];
  if (!isObject(sticky) || !isObject(sticky.cookie))
    return [`${field}: expected {cookie: {name, secure, httpOnly, sameSite}}, got ${quote(sticky)}`];
  const problems: string[] = [];
  for (const k of Object.keys(sticky)) if (k !== 'cookie') problems.push(`${field}.${k}: unknown field (sticky sessions use a cookie)`);
  const c = sticky.cookie;
  const at = `${field}.cookie`;
  for (const k of Object.keys(c)) {
    if (!['name', 'secure', 'httpOnly', 'sameSite', 'maxAge'].includes(k))
      problems.push(
        `${at}.${k}: unknown field (supported: name, secure, httpOnly, sameSite, maxAge; others need a newer Traefik than 3.0)`,
      );
  }
  if (c.name !== undefined && (typeof c.name !== 'string' || !COOKIE_NAME.test(c.name)))
    problems.push(`${at}.name: expected 1–64 letters, digits, "_", "." or "-", got ${quote(c.name)}`);
  for (const k of ['secure', 'httpOnly']) {
    if (c[k] !== undefined && typeof c[k] !== 'boolean') problems.push(`${at}.${k}: expected true or false, got ${quote(c[k])}`);
  }
  if (c.sameSite !== undefined && !SAME_SITE.includes(c.sameSite as string))
    problems.push(`${at}.sameSite: expected "none", "lax" or "strict", got ${quote(c.sameSite)}`);
  if (c.maxAge !== undefined && !isWhole(c.maxAge, -1, 2 ** 31 - 1))
    problems.push(`${at}.maxAge: expected whole seconds (-1: expire at once), got ${quote(c.maxAge)}`);
  return problems;
}

/** Problems with a route's load-balancing fields (renderer's check, for rows however written). */
export function upstreamProblems(route: Route, at: string): string[] {
  const problems = [...serverProblems(route.servers, `${at}: servers`), ...stickyProblems(route.sticky, `${at}: sticky`)];
  if (route.servers && route.targetUrl !== null)
    problems.push(`${at}: servers cannot be combined with target_url (list the URL as a server)`);
  if (route.passHostHeader !== undefined && typeof route.passHostHeader !== 'boolean')
    problems.push(`${at}: pass_host_header must be true or false, got ${quote(route.passHostHeader)}`);
  return problems;
}

/** The URL of one server: its own, or `http://<host>:<port>` with the route's port by default. */
export function serverUrl(server: UpstreamServer, targetPort: number): string {
  return server.url ?? `http://${server.host}:${server.port ?? targetPort}`;
}

/** A Traefik `sticky` object for `sticky` (the cookie's options in a fixed order). */
function stickyOf(sticky: Sticky): Record<string, unknown> {
  return { cookie: { ...sticky.cookie } };
}

/** The servers of a route's own load balancer: its `servers`, else its one upstream. */
export function serversOf(service: Service, route: Route): Array<Record<string, unknown>> {
  if (route.servers) {
    return route.servers.map((s) => ({ url: serverUrl(s, route.targetPort), ...(s.weight !== undefined ? { weight: s.weight } : {}) }));
  }
  return [{ url: route.targetUrl ?? `http://${service.host ?? service.name}:${route.targetPort}` }];
}

/**
 * The `loadBalancer` of a route: its servers, passHostHeader, sticky sessions and health check.
 * A route with none of the load-balancing fields renders exactly as before they existed.
 */
export function loadBalancerOf(service: Service, route: Route): Record<string, unknown> {
  const lb: Record<string, unknown> = { servers: serversOf(service, route), passHostHeader: route.passHostHeader ?? true };
  if (route.sticky) lb.sticky = stickyOf(route.sticky);
  if (route.healthCheck) lb.healthCheck = route.healthCheck;
  return lb;
}
