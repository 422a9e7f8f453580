/**
 * Domain redirects (docs/spec-format.md "Domain redirects"): a domain whose every request is sent
 * to another host with path and query kept — one router per entry point, a `redirectRegex`
 * middleware and Traefik's `noop@internal` service, so no dummy service or port. Pure: the checks
 * return messages naming the field (`redirect.to: …`), never throw.
 */
import { quote } from '../errors.js';
import type { Domain, DomainRedirect } from '../model.js';
import { isHostName } from './names.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Problems with a domain's `redirect` (`self`: the domain's full name; `field` names the value). */
export function redirectProblems(redirect: unknown, self: string, field = 'redirect'): string[] {
  if (redirect === null || redirect === undefined) return [];
  if (!isObject(redirect)) return [`${field}: expected {to: HOST, permanent: true|false, scheme: http|https}, got ${quote(redirect)}`];
  const problems: string[] = [];
  for (const k of Object.keys(redirect)) {
    if (!['to', 'permanent', 'scheme'].includes(k)) problems.push(`${field}.${k}: unknown field (a redirect has to, permanent and scheme)`);
  }
  const to = redirect.to;
  if (typeof to !== 'string' || to !== to.toLowerCase() || !isHostName(to)) {
    problems.push(`${field}.to: expected a lower-case host name (no scheme, port or path), got ${quote(to)}`);
  } else if (to === self) {
    problems.push(`${field}.to: ${quote(to)} is the domain itself, so every request would be redirected to itself forever`);
  }
  if (redirect.permanent !== undefined && typeof redirect.permanent !== 'boolean')
    problems.push(`${field}.permanent: expected true or false, got ${quote(redirect.permanent)}`);
  if (redirect.scheme !== undefined && redirect.scheme !== 'http' && redirect.scheme !== 'https')
    problems.push(`${field}.scheme: expected "http" or "https", got ${quote(redirect.scheme)}`);
  return problems;
}

/** Go regexp text matching `s` literally. */
function goQuote(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/**
 * The `redirectRegex` options of a redirecting domain. Traefik matches the request's URL as
 * `scheme://host[:port]/path?query`; the path and query (group 3) are always kept, and without a
 * `scheme` the scheme (group 1) and port (group 2) too.
 */
export function redirectRegexOf(fullDomain: string, r: DomainRedirect): Record<string, unknown> {
  const regex = `^(https?)://${goQuote(fullDomain)}(:[0-9]+)?(.*)$`;
  const replacement = r.scheme ? `${r.scheme}://${r.to}\${3}` : `\${1}://${r.to}\${2}\${3}`;
  return { regex, replacement, permanent: r.permanent ?? true };
}

/** Problems with a domain's redirect as a row (the renderer's check): its fields, and no active routes. */
export function domainRedirectProblems(d: Domain, at: string): string[] {
  if (!d.redirect) return [];
  const problems = redirectProblems(d.redirect, d.fullDomain, `${at}: redirect`);
  if (d.routes.some((r) => r.isActive)) problems.push(`${at}: redirects to ${quote(d.redirect.to)}, so it cannot have routes`);
  return problems;
}

/**
 * Problems of redirects across the domains `all` knows (full domain → its redirect, active
 * domains only): a redirect to a domain that redirects too (a loop, or a chain).
 */
export function redirectChainProblems(domains: readonly Domain[], all: ReadonlyMap<string, DomainRedirect | null>): string[] {
  const problems: string[] = [];
  for (const d of domains) {
    if (!d.isActive || !d.redirect) continue;
    const next = all.get(d.redirect.to);
    if (next) {
      problems.push(
        `domain ${quote(d.fullDomain)}: redirect.to: ${quote(d.redirect.to)} redirects too (to ${quote(next.to)}): ` +
          (next.to === d.fullDomain ? 'a redirect loop' : 'a chain of redirects') +
          '; redirect straight to the final host',
      );
    }
  }
  return problems;
}
