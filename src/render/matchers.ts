/**
 * What a route matches beyond its host (docs/spec-format.md "Matching requests"): a path prefix
 * (as before), an exact path or a Go regular expression, and optional header and method
 * conditions; the rule Traefik gets, and the router priority that makes the more specific route
 * win. Every value goes inside backticks, so none may hold one (nor anything else the checks
 * refuse): no value can end its quoting and add to the rule. Pure; checks return messages.
 */
import { quote } from '../errors.js';
import type { PathMatch, Route } from '../model.js';
import { goRegexProblem, isToken } from './go-syntax.js';
import { hostMatcher } from './hosts.js';
import { isObject } from './upstream.js';

/** The match types of a route's path. */
export const PATH_MATCHES: readonly PathMatch[] = ['prefix', 'exact', 'regex'];
/** The methods a route may be limited to. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'] as const;
/** At most this many header conditions per route. */
export const MAX_HEADERS = 8;

/** Printable ASCII without a backtick (or "{{" / "}}": Go templates), as the database takes them. */
const IN_BACKTICKS = /^[ -_a-~]+$/;
const templated = (v: string) => v.includes('{{') || v.includes('}}');

/** The problem with a path regular expression, or null: it must compile in Go (RE2) and fit in backticks. */
export function pathRegexProblem(v: unknown): string | null {
  if (typeof v !== 'string' || v.length === 0 || v.length > 1024 || !IN_BACKTICKS.test(v) || templated(v)) {
    return `expected a Go regular expression of 1–1024 printable ASCII characters without backticks, "{{" or "}}", got ${quote(v)}`;
  }
  const go = goRegexProblem(v);
  return go ? `does not compile in Go (RE2): ${go}, got ${quote(v)}` : null;
}

/** Problems with a route's `headers` (`field` names it). */
export function headersProblems(v: unknown, field = 'headers'): string[] {
  if (v === null || v === undefined) return [];
  if (!isObject(v) || Object.keys(v).length === 0 || Object.keys(v).length > MAX_HEADERS)
    return [`${field}: expected 1–${MAX_HEADERS} headers {Name: value}, got ${quote(v)}`];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [name, value] of Object.entries(v)) {
    const at = `${field}.${name}`;
    if (!isToken(name) || name.includes('`') || name.length > 64) {
      problems.push(`${field}: expected header names that are HTTP tokens of at most 64 characters (no backticks), got ${quote(name)}`);
      continue;
    }
    if (name.toLowerCase() === 'host') problems.push(`${at}: the Host header is the domain's: give it as a domain`);
    if (seen.has(name.toLowerCase())) problems.push(`${at}: listed twice (header names ignore case)`);
    seen.add(name.toLowerCase());
    if (
      typeof value !== 'string' ||
      value.length === 0 ||
      value.length > 256 ||
      !IN_BACKTICKS.test(value) ||
      templated(value) ||
      value.trim() !== value
    )
      problems.push(
        `${at}: expected 1–256 printable ASCII characters without backticks, "{{", "}}" or white space at either end, got ${quote(value)}`,
      );
  }
  return problems;
}

/** Problems with a route's `methods`. */
export function methodsProblems(v: unknown, field = 'methods'): string[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v) || v.length === 0 || v.length > HTTP_METHODS.length)
    return [`${field}: expected a list of 1–${HTTP_METHODS.length} HTTP methods, got ${quote(v)}`];
  const problems: string[] = [];
  v.forEach((m, i) => {
    if (!(HTTP_METHODS as readonly unknown[]).includes(m))
      problems.push(`${field}[${i}]: expected one of ${HTTP_METHODS.join(', ')}, got ${quote(m)}`);
    else if (v.indexOf(m) !== i) problems.push(`${field}[${i}]: ${quote(m)} is listed twice`);
  });
  return problems;
}

/** The problem with a route's path match type, or null. */
export function pathMatchProblem(v: unknown): string | null {
  return v === undefined || (PATH_MATCHES as readonly unknown[]).includes(v)
    ? null
    : `expected "prefix", "exact" or "regex", got ${quote(v)}`;
}

/** Problems with a route's matchers, as the renderer checks rows however written (path rules of prefix/exact are checked by the caller). */
export function matcherProblems(route: Route, at: string): string[] {
  const match = pathMatchProblem(route.pathMatch);
  const problems = [
    ...(match ? [`${at}: path_match ${match}`] : []),
    ...headersProblems(route.headers, `${at}: headers`),
    ...methodsProblems(route.methods, `${at}: methods`),
  ];
  if (route.pathMatch === 'regex') {
    const re = pathRegexProblem(route.pathRule);
    if (re) problems.push(`${at}: path_rule ${re}`);
  }
  return problems;
}

/** Header conditions in a fixed order (by name, ignoring case). */
function sortedHeaders(headers: Readonly<Record<string, string>>): Array<[string, string]> {
  return Object.entries(headers).sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
}

/**
 * The rule of a route: its host; its path — ``PathPrefix`` (none for `/`), ``Path`` or
 * ``PathRegexp``; each header as ``Header(`Name`, `value`)``; its methods as ``Method`` (several:
 * joined by `||` in parentheses). Values must have passed the checks above. A route with none
 * of the matchers gets exactly the rule it had before they existed.
 */
export function routeRuleOf(fullDomain: string, route: Pick<Route, 'pathRule' | 'pathMatch' | 'headers' | 'methods'>): string {
  const parts = [hostMatcher(fullDomain)];
  const p = route.pathRule;
  if (route.pathMatch === 'exact') parts.push(`Path(\`${p}\`)`);
  else if (route.pathMatch === 'regex') parts.push(`PathRegexp(\`${p}\`)`);
  else if (p !== '/') parts.push(`PathPrefix(\`${p}\`)`);
  for (const [name, value] of sortedHeaders(route.headers ?? {})) parts.push(`Header(\`${name}\`, \`${value}\`)`);
  const methods = [...(route.methods ?? [])].sort();
  if (methods.length === 1) parts.push(`Method(\`${methods[0]}\`)`);
  else if (methods.length > 1) parts.push(`(${methods.map((m) => `Method(\`${m}\`)`).join(' || ')})`);
  return parts.join(' && ');
}

/** Path lengths counted by {@link specificity} for routes with matchers (keeps every value below the wildcard offset, 5000). */
const COUNTED_LENGTH = 490;
/** Above every plain prefix route (paths ≤ 1024 characters). */
const MATCHER_BASE = 1025;

/**
 * How specific a route is, within one `priority` (render/project.ts routerPriority): a plain
 * path prefix counts its length, as before matchers existed. A route with an exact path, a regex
 * or header/method conditions ranks above every plain prefix of the host; among those, the
 * longer path (or pattern; lengths above 490 count as 490) wins, then an exact path over a
 * prefix or regex of the same length, then the route with more conditions (each header counts
 * one, methods one). Always 1–4952, below the wildcard offset (render/hosts.ts).
 */
export function specificity(route: Pick<Route, 'pathRule' | 'pathMatch' | 'headers' | 'methods'>): number {
  const conditions = Object.keys(route.headers ?? {}).length + (route.methods?.length ? 1 : 0);
  const match = route.pathMatch ?? 'prefix';
  if (match === 'prefix' && conditions === 0) return route.pathRule.length;
  return MATCHER_BASE + 8 * Math.min(route.pathRule.length, COUNTED_LENGTH) + (match === 'exact' ? 4 : 0) + Math.min(conditions, 3);
}

/** The matcher part of a route's identity: two active routes of a domain may not share path, match type and this. */
export function matcherKey(route: Pick<Route, 'pathMatch' | 'headers' | 'methods'>): string {
  const headers = sortedHeaders(route.headers ?? {}).map(([n, v]) => `${n.toLowerCase()}:${v}`);
  return `${route.pathMatch ?? 'prefix'}\t${headers.join('\n')}\t${[...(route.methods ?? [])].sort().join(',')}`;
}
