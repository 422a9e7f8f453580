/**
 * What the static configuration defines that a project's rows may name: entry points (with
 * their protocol) and the ACME resolvers the operator defined in TRAEFIK_STATIC_FILE (with their
 * challenge). The renderer checks domains, routes and TCP/UDP routes against these facts, so
 * the controller and the config service refuse the same names. Pure.
 */
import { API_ENTRY_POINT, DEFAULT_STATIC_SETTINGS, type StaticSettings } from './static-settings.js';

/** The transport an entry point listens on. */
export type EntryPointProtocol = 'tcp' | 'udp';

/** An ACME challenge type of a resolver. */
export type AcmeChallenge = 'http' | 'tls' | 'dns';

/** The names a project may use, as the static configuration defines them. */
export interface StaticFacts {
  /** Entry points a router may name (not the API's), by name. */
  readonly entryPoints: ReadonlyMap<string, EntryPointProtocol>;
  /**
   * Resolvers defined in TRAEFIK_STATIC_FILE, by name, with their challenges. Any other name an
   * ACME provider gives becomes an HTTP-01 resolver of the generated static config.
   */
  readonly resolvers: ReadonlyMap<string, readonly AcmeChallenge[]>;
  /** Where the facts come from, for messages ("TRAEFIK_STATIC_FILE /etc/…/static.yml"). */
  readonly source: string;
}

type Doc = Record<string, unknown>;

const isMap = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `udp` when a Traefik address ends in `/udp`. */
export function protocolOf(address: string): EntryPointProtocol {
  return address.endsWith('/udp') ? 'udp' : 'tcp';
}

/** The challenges a resolver definition (`{acme: {...}}`) configures. */
export function challengesOf(resolver: unknown): AcmeChallenge[] {
  const acme = isMap(resolver) && isMap(resolver.acme) ? resolver.acme : {};
  const out: AcmeChallenge[] = [];
  if (isMap(acme.httpChallenge)) out.push('http');
  if (isMap(acme.tlsChallenge)) out.push('tls');
  if (isMap(acme.dnsChallenge)) out.push('dns');
  return out;
}

/** The facts of `settings`: TRAEFIK_ENTRYPOINTS plus the overlay's entry points and resolvers. */
export function staticFacts(settings: StaticSettings = DEFAULT_STATIC_SETTINGS): StaticFacts {
  const entryPoints = new Map<string, EntryPointProtocol>(settings.entryPoints.map((e) => [e.name, protocolOf(e.address)]));
  const overlay = settings.overlay?.doc ?? {};
  if (isMap(overlay.entryPoints)) {
    for (const [name, ep] of Object.entries(overlay.entryPoints)) {
      if (name === API_ENTRY_POINT || ep === null) {
        if (ep === null) entryPoints.delete(name);
        continue;
      }
      const address = isMap(ep) && typeof ep.address === 'string' ? ep.address : null;
      if (!entryPoints.has(name) && address !== null) entryPoints.set(name, protocolOf(address));
    }
  }
  const resolvers = new Map<string, AcmeChallenge[]>();
  if (isMap(overlay.certificatesResolvers)) {
    for (const [name, r] of Object.entries(overlay.certificatesResolvers)) if (r !== null) resolvers.set(name, challengesOf(r));
  }
  return {
    entryPoints,
    resolvers,
    source: settings.overlay ? `TRAEFIK_STATIC_FILE ${settings.overlay.file}` : 'TRAEFIK_STATIC_FILE (not set)',
  };
}

/** The facts of the default settings (no overlay): web, websecure, metrics; no resolver defined. */
export const DEFAULT_STATIC_FACTS: StaticFacts = staticFacts();

/** Whether `resolver` can issue a certificate for a wildcard name (only DNS-01 can). */
export function issuesWildcards(facts: StaticFacts, resolver: string): boolean {
  return facts.resolvers.get(resolver)?.includes('dns') ?? false;
}

/** The DNS-01 resolvers defined, for messages ("dns, dns-staging" or "none"). */
export function dnsResolverNames(facts: StaticFacts): string {
  const names = [...facts.resolvers].filter(([, c]) => c.includes('dns')).map(([n]) => n);
  return names.length ? names.sort().join(', ') : 'none';
}
