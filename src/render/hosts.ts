/**
 * Host names in rules and certificates: exact hosts (`shop.example.com`) and wildcard hosts
 * (`*.example.com`, the `*` being the whole leftmost label), the router TLS of a domain
 * (certificate resolver and `tls.domains`), and the priority band that makes an exact host beat
 * a wildcard of the same domain (docs/spec-format.md "Wildcard domains and DNS-01"). Pure.
 */
import { quote } from '../errors.js';
import type { Domain } from '../model.js';
import { dnsResolverNames, issuesWildcards, type StaticFacts } from './static-facts.js';

/** Whether a full domain is a wildcard host (`*.example.com`). */
export function isWildcard(host: string): boolean {
  return host.startsWith('*.');
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The problem with where a `*` sits in a host name, or null: only as the whole leftmost label,
 * followed by at least `after` labels (2 for a full name: `*.example.com`; not `a.*.example.com`,
 * `*a.example.com`, `*.com`; 0 for a subdomain, which a domain follows).
 */
export function wildcardProblem(host: string, after = 2): string | null {
  if (!host.includes('*')) return null;
  const labels = host.split('.');
  if (labels[0] === '*' && labels.length > after && labels.slice(1).every((l) => LABEL.test(l))) return null;
  if (labels.slice(1).some((l) => l.includes('*')) || (labels[0] !== '*' && labels[0]!.includes('*'))) {
    return `a wildcard "*" may only be the whole leftmost label, like "*.example.com", got ${quote(host)}`;
  }
  return `a wildcard needs at least two labels after "*.", like "*.example.com", got ${quote(host)}`;
}

/**
 * The rule matching a host. A wildcard renders as a `HostRegexp` of one label (Traefik matches
 * it on the lower-cased host; `Host(`*.…`)` exists only from Traefik 3.7 on).
 */
export function hostMatcher(host: string): string {
  if (!isWildcard(host)) return `Host(\`${host}\`)`;
  return `HostRegexp(\`^[a-z0-9-]+${host.slice(1).replaceAll('.', '\\.')}$\`)`;
}

/** The base of a certificate's file names: `*.example.com` → `_wildcard.example.com` ("_" is in no host name). */
export function certificateBaseName(host: string): string {
  return isWildcard(host) ? `_wildcard${host.slice(1)}` : host;
}

/** Router priorities of a wildcard domain sit this far below those of exact hosts at the same `priority`. */
export const WILDCARD_OFFSET = 5_000;

/**
 * The TLS section of a domain's routers and the problems with it. Provider: none → `{}`
 * (Traefik's default or stored certificates), `custom` → `{}` (the certificate is in
 * domains.yml), else an ACME resolver. A wildcard name (the domain or a SAN) needs a resolver
 * that TRAEFIK_STATIC_FILE defines with a DNS challenge: no other challenge can prove a wildcard.
 */
export function domainTls(d: Domain, facts: StaticFacts): { tls: Record<string, unknown>; problems: string[] } {
  const problems: string[] = [];
  const sans = d.tlsSans ?? [];
  const acme = d.sslProvider !== null && d.sslProvider !== 'custom';
  for (const name of sans) {
    const m = wildcardProblem(name);
    if (m) problems.push(`tls_sans: ${m}`);
  }
  if (sans.length && !acme) {
    problems.push(`tls_sans: names on a certificate request need an ACME resolver as ssl_provider, got ${quote(d.sslProvider)}`);
  }
  const wildcardNames = [d.fullDomain, ...sans].filter(isWildcard);
  if (acme && wildcardNames.length && !issuesWildcards(facts, d.sslProvider!)) {
    const defined = facts.resolvers.has(d.sslProvider!) ? 'defines it without a DNS challenge' : 'does not define it';
    problems.push(
      `ssl_provider: the wildcard ${quote(wildcardNames[0])} needs a DNS-01 resolver, and ${facts.source} ${defined} ` +
        `(certificatesResolvers.${d.sslProvider}.acme.dnsChallenge; DNS-01 resolvers defined: ${dnsResolverNames(facts)})`,
    );
  }
  if (!acme) return { tls: {}, problems };
  const tls: Record<string, unknown> = { certResolver: d.sslProvider };
  // Traefik asks the resolver for the names of Host() rules; a HostRegexp names none, so a
  // wildcard (and any SAN) is requested explicitly.
  if (wildcardNames.length || sans.length) tls.domains = [sans.length ? { main: d.fullDomain, sans: [...sans] } : { main: d.fullDomain }];
  return { tls, problems };
}
