/**
 * A route's weighted split between services and its failover (docs/spec-format.md "Splits and
 * failover"), and what it matches beyond its host ("Matching requests": match type, headers,
 * methods), in the spec file, the service API, the rows and `export`. The shapes are checked by
 * the renderer's own rules (render/traffic.ts, render/matchers.ts); that the services named exist
 * is checked across the spec here, by the renderer for API writes, and by the database at commit.
 */
import { z } from 'zod';
import type { PathMatch, ServiceTarget, SplitBranch } from '../model.js';
import { headersProblems, matcherKey, methodsProblems, pathMatchProblem, pathRegexProblem } from '../render/matchers.js';
import { pathProblem } from './fields.js';
import { failoverProblems, splitProblems } from '../render/traffic.js';
import { rendererChecked } from './fields-http.js';

/** A route's split: 2–16 branches `{service, port, weight}`. */
export const splitField = rendererChecked(splitProblems);
/** A route's fallback service: `{service, port}`. */
export const failoverField = rendererChecked(failoverProblems);

const matchField = z.unknown().superRefine((v, ctx) => {
  const m = pathMatchProblem(v);
  if (m) ctx.addIssue({ code: 'custom', message: m });
});

/** The route fields of both the spec and the API (`match` is the spec's name of the API's `pathMatch`). */
const commonFields = {
  split: splitField.nullable().optional(),
  failover: failoverField.nullable().optional(),
  headers: rendererChecked(headersProblems).nullable().optional(),
  methods: rendererChecked(methodsProblems).nullable().optional(),
};
/** The spec's route fields. */
export const routingRouteFields = { ...commonFields, match: matchField.optional() };
/** The API's route fields. */
export const routingInputFields = { ...commonFields, pathMatch: matchField.optional() };

/** A route's path (spec `path`, API `pathRule`): a path, or with match "regex" a Go regular expression. */
export const routePathField = z.string();

/** Check a route's path as its match type reads it (`pathKey`: `path` in specs, `pathRule` in the API). */
export function refineRoutePath(pathKey: string, matchKey: string) {
  return (r: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const v = r[pathKey];
    if (v === undefined) {
      if (r[matchKey] === 'regex')
        ctx.addIssue({ code: 'custom', path: [pathKey], message: 'is required with match "regex": the pattern' });
      return;
    }
    const m = r[matchKey] === 'regex' ? pathRegexProblem(v) : pathProblem(v as string);
    if (m) ctx.addIssue({ code: 'custom', path: [pathKey], message: m });
  };
}

/** The routing values of a route as given in a spec or API input (absent → none). */
export interface RoutingValues {
  readonly split: readonly SplitBranch[] | null;
  readonly failover: ServiceTarget | null;
  readonly pathMatch: PathMatch;
  readonly headers: Readonly<Record<string, string>> | null;
  readonly methods: readonly string[] | null;
}

/** A spec route's routing values, defaults filled in. */
export function routingOfSpec(r: {
  readonly split?: unknown;
  readonly failover?: unknown;
  readonly match?: unknown;
  readonly headers?: unknown;
  readonly methods?: unknown;
}): RoutingValues {
  return {
    split: (r.split ?? null) as SplitBranch[] | null,
    failover: (r.failover ?? null) as ServiceTarget | null,
    pathMatch: (r.match ?? 'prefix') as PathMatch,
    headers: (r.headers ?? null) as Record<string, string> | null,
    methods: (r.methods ?? null) as string[] | null,
  };
}

/** The export form of a row's routing columns: only what is set, so older exports stay byte for byte. */
export function routingExport(r: {
  readonly split: RoutingValues['split'];
  readonly failover: RoutingValues['failover'];
  readonly path_match: PathMatch;
  readonly headers: RoutingValues['headers'];
  readonly methods: RoutingValues['methods'];
}) {
  return {
    ...(r.path_match !== 'prefix' ? { match: r.path_match } : {}),
    ...(r.headers ? { headers: r.headers } : {}),
    ...(r.methods ? { methods: r.methods } : {}),
    ...(r.split ? { split: r.split } : {}),
    ...(r.failover ? { failover: r.failover } : {}),
  };
}

/**
 * A route's identity within its domain: path, match type, headers (names ignoring case) and
 * methods — the whole rule. Rows are matched by it, and two routes of a domain may not share it
 * (route_configs_active_rule in sql/011_route_matchers.sql). A plain prefix route's is its path.
 */
export function routeIdentity(path: string, m: Partial<Pick<RoutingValues, 'pathMatch' | 'headers' | 'methods'>>): string {
  const key = matcherKey(m);
  return key === matcherKey({}) ? path : `${path}\u0000${key}`;
}

/** Row form of {@link routeIdentity}. */
export function rowIdentity(
  r: { readonly path_rule: string; readonly path_match: PathMatch } & Pick<RoutingValues, 'headers' | 'methods'>,
) {
  return routeIdentity(r.path_rule, { pathMatch: r.path_match, headers: r.headers, methods: r.methods });
}

/**
 * What a route matches beyond its path, for `--dry-run` and `history` lines: "" for a plain
 * prefix (lines as before), else e.g. " (exact)", " (regex)", " [X-Canary: 1; POST PUT]".
 */
export function routeMatchLabel(row: Record<string, unknown>): string {
  const match = row.path_match && row.path_match !== 'prefix' ? ` (${String(row.path_match)})` : '';
  const headers = Object.entries((row.headers as Record<string, string> | null) ?? {}).map(([n, v]) => `${n}: ${v}`);
  const methods = (row.methods as string[] | null) ?? [];
  const conditions = [...headers, ...(methods.length ? [methods.join(' ')] : [])];
  return `${match}${conditions.length ? ` [${conditions.join('; ')}]` : ''}`;
}
