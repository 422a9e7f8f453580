/**
 * TCP and UDP routes of a project (docs/spec-format.md "TCP and UDP"; sql/022_tcp_udp_routes.sql)
 * → `dynamic/<project>/tcp.yml` and `udp.yml`, written only when the project has such routes (so
 * projects without them keep exactly their files). Object names are `<project>_tcp-<name>` and
 * `<project>_udp-<name>`: like every name, they start with the project's.
 *
 * What Traefik does with them (pkg/server/router/tcp/manager.go): a `HostSNI` router with a
 * server name needs TLS on the router ("has HostSNI matcher, but no TLS on router"); only
 * ``HostSNI(`*`)`` may go without, and then it takes every plain connection of its entry point
 * before any HTTP router does — so a catch-all needs an entry point of its own. PROXY protocol
 * to the servers is `loadBalancer.proxyProtocol`: Traefik 3.0 knows no other place (3.7 also has
 * `serversTransports.*.proxyProtocol` and logs the load balancer's as deprecated, but still
 * honours it). Pure: problems are messages naming the route and the field.
 */
import { internalTargetProblem, type InternalTarget } from '../address.js';
import { quote } from '../errors.js';
import { DNS_LABEL, type L4Route, type ProjectState } from '../model.js';
import { entryPointProblem } from './entry-points.js';
import { isHostName } from './names.js';
import type { StaticFacts } from './static-facts.js';
import type { DynamicDocument } from './types.js';

/** The most servers a TCP or UDP route may list (sql/022 says the same). */
export const MAX_L4_SERVERS = 64;

/** The Traefik name of a TCP or UDP route's router and service. */
export function l4Name(project: string, route: Pick<L4Route, 'protocol' | 'name'>): string {
  return `${project}_${route.protocol}-${route.name}`;
}

/** How a route is named in messages: `tcp route "db"`. */
export function l4Describe(route: Pick<L4Route, 'protocol' | 'name'>): string {
  return `${route.protocol} route ${quote(route.name)}`;
}

/** Entry points that HTTP routers use: a plain catch-all there would take their connections. */
const HTTP_ENTRY_POINTS = new Set(['web', 'websecure']);

/** Problems of one TCP or UDP route (without its prefix), as `field: message`. */
export function l4Problems(r: L4Route, facts: StaticFacts, allowed: readonly InternalTarget[] = []): string[] {
  const out: string[] = [];
  if (!DNS_LABEL.test(r.name)) out.push(`name: expected a lower-case DNS label, got ${quote(r.name)}`);
  const ep = entryPointProblem(r.entryPoint, r.protocol, facts);
  if (ep) out.push(`entry_point: ${ep}`);
  if (r.protocol === 'udp') {
    if (r.sni !== null || r.tls !== null || r.tlsResolver !== null || r.proxyProtocol !== null)
      out.push('sni: a UDP route has no server name, TLS or PROXY protocol: it takes every datagram of its entry point');
  } else if (r.sni === null || (r.sni !== '*' && !isHostName(r.sni))) {
    out.push(`sni: expected a lower-case host name, or "*" for every connection, got ${quote(r.sni)}`);
  } else if (r.sni !== '*' && r.tls === null) {
    out.push(
      `sni: a server name is only sent in a TLS handshake: give tls "terminate" or "passthrough", or sni "*" (every connection) without TLS, got ${quote(r.sni)}`,
    );
  } else if (r.sni === '*' && r.tls === null && HTTP_ENTRY_POINTS.has(r.entryPoint)) {
    out.push(
      `entry_point: a catch-all without TLS takes every plain connection of ${quote(r.entryPoint)} before its HTTP routers: give it an entry point of its own`,
    );
  }
  if (r.tls !== null && r.tls !== 'terminate' && r.tls !== 'passthrough')
    out.push(`tls: expected "terminate" or "passthrough", got ${quote(r.tls)}`);
  if (r.tlsResolver !== null) {
    if (r.tls !== 'terminate') out.push(`tls_resolver: a certificate resolver needs tls "terminate", got ${quote(r.tls)}`);
    else if (!facts.resolvers.has(r.tlsResolver))
      out.push(
        `tls_resolver: ${facts.source} defines no resolver ${quote(r.tlsResolver)} (defined: ${[...facts.resolvers.keys()].sort().join(', ') || 'none'})`,
      );
    else if (r.sni === '*') out.push('tls_resolver: a catch-all names no server a certificate could be requested for');
  }
  if (r.proxyProtocol !== null && r.proxyProtocol !== 1 && r.proxyProtocol !== 2)
    out.push(`proxy_protocol: expected version 1 or 2, got ${quote(r.proxyProtocol)}`);
  if (!Array.isArray(r.servers) || r.servers.length === 0 || r.servers.length > MAX_L4_SERVERS) {
    out.push(`servers: expected 1–${MAX_L4_SERVERS} servers, got ${quote(r.servers)}`);
  } else {
    r.servers.forEach((s, i) => {
      if (typeof s?.host !== 'string' || !isHostName(s.host))
        out.push(`servers[${i}].host: expected a lower-case host name or IPv4 address, got ${quote(s?.host)}`);
      else if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535)
        out.push(`servers[${i}].port: expected 1–65535, got ${quote(s.port)}`);
      else {
        const p = internalTargetProblem(`servers[${i}].host`, s.host, s.port, allowed);
        if (p) out.push(p);
      }
    });
  }
  return out;
}

/** The router and service of one valid route. */
function objectsOf(project: string, r: L4Route): { router: Record<string, unknown>; service: Record<string, unknown> } {
  const name = l4Name(project, r);
  const servers = r.servers.map((s) => ({ address: `${s.host}:${s.port}` }));
  if (r.protocol === 'udp') return { router: { entryPoints: [r.entryPoint], service: name }, service: { loadBalancer: { servers } } };
  const router: Record<string, unknown> = { entryPoints: [r.entryPoint], rule: `HostSNI(\`${r.sni}\`)`, service: name };
  if (r.tls === 'passthrough') router.tls = { passthrough: true };
  else if (r.tls === 'terminate') router.tls = r.tlsResolver ? { certResolver: r.tlsResolver } : {};
  const loadBalancer: Record<string, unknown> = { servers };
  if (r.proxyProtocol !== null) loadBalancer.proxyProtocol = { version: r.proxyProtocol };
  return { router, service: { loadBalancer } };
}

/** What a project's TCP and UDP routes render to: a document per protocol that has active routes. */
export interface RenderedL4 {
  readonly tcp: DynamicDocument | null;
  readonly udp: DynamicDocument | null;
  readonly problems: string[];
}

/** Render the project's active TCP and UDP routes; problems read `tcp route "db": sni: …`. */
export function renderL4(state: ProjectState, facts: StaticFacts, allowed: readonly InternalTarget[] = []): RenderedL4 {
  const problems: string[] = [];
  const docs = { tcp: null as DynamicDocument | null, udp: null as DynamicDocument | null };
  const seen = new Set<string>();
  for (const r of state.l4Routes ?? []) {
    if (!r.isActive) continue;
    const found = l4Problems(r, facts, allowed);
    const key = `${r.protocol} ${r.entryPoint} ${r.sni ?? ''}`;
    if (!found.length && seen.has(key))
      found.push(
        r.protocol === 'udp'
          ? `entry_point: another UDP route of the project is on ${quote(r.entryPoint)} already`
          : `sni: another TCP route of the project matches ${quote(r.sni)} on ${quote(r.entryPoint)} already`,
      );
    seen.add(key);
    if (found.length) {
      problems.push(...found.map((m) => `${l4Describe(r)}: ${m}`));
      continue;
    }
    const { router, service } = objectsOf(state.name, r);
    const doc = (docs[r.protocol] ??= { [r.protocol]: { routers: {}, services: {} } });
    const section = doc[r.protocol]!;
    section.routers![l4Name(state.name, r)] = router;
    section.services![l4Name(state.name, r)] = service;
  }
  return { ...docs, problems };
}
