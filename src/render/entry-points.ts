/**
 * Entry points chosen per domain or per route (docs/spec-format.md "Entry points"; sql/021).
 * Without a choice a domain is served as before: with TLS on `websecure` plus the http→https
 * redirect on `web`, without TLS on `web`. A domain that names its entry points is served on
 * exactly those (with TLS on each when `ssl` is on), and gets the redirect on `web` only when it
 * is served on `websecure` (the redirect sends clients to https on the default port): an
 * internal-only domain is never answered on `web`. A route may name its own entry points instead
 * of its domain's. Every name must be a TCP entry point of the static configuration
 * (TRAEFIK_ENTRYPOINTS plus TRAEFIK_STATIC_FILE's; render/static-facts.ts). Pure.
 */
import { quote } from '../errors.js';
import type { Domain, Route } from '../model.js';
import type { StaticFacts } from './static-facts.js';

/** Where a domain's routers go: TLS or plain routers, and the entry points that redirect to https. */
export interface DomainEntryPoints {
  /** Entry points of the domain's routers (with TLS when the domain has ssl). */
  readonly routers: readonly string[];
  /** Entry points with the http→https redirect router (ssl domains only). */
  readonly redirectFrom: readonly string[];
}

/** The most names a domain or route may list (sql/021 says the same). */
export const MAX_ENTRY_POINTS = 8;

/** The entry points of a domain's routers (see the module comment). */
export function domainEntryPoints(d: Pick<Domain, 'sslEnabled' | 'entryPoints'>): DomainEntryPoints {
  if (!d.entryPoints) return d.sslEnabled ? { routers: ['websecure'], redirectFrom: ['web'] } : { routers: ['web'], redirectFrom: [] };
  return { routers: d.entryPoints, redirectFrom: d.sslEnabled && d.entryPoints.includes('websecure') ? ['web'] : [] };
}

/** The entry points of a route's router: its own, else its domain's. */
export function routeEntryPoints(d: Pick<Domain, 'sslEnabled' | 'entryPoints'>, r: Pick<Route, 'entryPoints'>): readonly string[] {
  return r.entryPoints ?? domainEntryPoints(d).routers;
}

/** The entry points defined, for messages. */
function definedNames(facts: StaticFacts, protocol: 'tcp' | 'udp'): string {
  const names = [...facts.entryPoints].filter(([, p]) => p === protocol).map(([n]) => n);
  return names.length ? names.sort().join(', ') : 'none';
}

/**
 * The problem with one entry point name for a router of `protocol` (HTTP and TCP routers: `tcp`),
 * or null: it must be defined, with that protocol.
 */
export function entryPointProblem(name: string, protocol: 'tcp' | 'udp', facts: StaticFacts): string | null {
  const have = facts.entryPoints.get(name);
  if (have === protocol) return null;
  const where = `TRAEFIK_ENTRYPOINTS or ${facts.source}`;
  if (have === undefined)
    return `no entry point named ${quote(name)} (${protocol} entry points defined: ${definedNames(facts, protocol)}; add it to ${where})`;
  return `entry point ${quote(name)} is a ${have.toUpperCase()} entry point; this needs a ${protocol.toUpperCase()} one (defined: ${definedNames(facts, protocol)})`;
}

/**
 * Problems with the entry points a domain or route lists, as `entry_points[i]: …` messages: 1–8
 * unique names of TCP entry points; with TLS, not `web` (it gets the http→https redirect).
 */
export function entryPointsProblems(list: readonly string[] | null | undefined, ssl: boolean, facts: StaticFacts): string[] {
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_ENTRY_POINTS)
    return [`entry_points: expected 1–${MAX_ENTRY_POINTS} entry point names, got ${quote(list)}`];
  const out: string[] = [];
  list.forEach((name, i) => {
    const p =
      typeof name !== 'string'
        ? `expected an entry point name, got ${quote(name)}`
        : list.indexOf(name) !== i
          ? `${quote(name)} is listed twice`
          : ssl && name === 'web'
            ? `"web" serves plain http and redirects it to https; with ssl, use "websecure" (or set ssl: false)`
            : entryPointProblem(name, 'tcp', facts);
    if (p) out.push(`entry_points[${i}]: ${p}`);
  });
  return out;
}
