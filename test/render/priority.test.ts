/**
 * Router priority by meaning, not bytes (README "Files on the volume"): a route with a higher
 * `priority` always wins, whatever the path lengths (up to the longest path_rule the database
 * accepts, 1,024 characters); at equal priority the longer, more specific path wins.
 *
 * "Wins" is judged the way Traefik does it (docs/traefik-facts.md §6, item 28): each router's
 * effective priority is its `priority`, or the length of its rule when that is 0; routers are
 * tried in descending order and the first whose rule matches the request takes it. The routers
 * are read back from the rendered files, so the scale in src/render/project.ts is tested by what
 * it does: a scale at or below the longest path lets a long path beat a higher priority.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from 'yaml';
import type { ProjectState, Route } from '../../src/model.js';
import { renderProject } from '../../src/render/project.js';
import { unescapeGoTemplate } from '../../src/render/serialize.js';

/** route_configs_path_rule_format (sql/001_schema.sql): at most 1,024 characters. */
const LONGEST_PATH = 1024;
const HIGHEST_PRIORITY = 1_000_000; // route_configs_priority_range
/**
 * Characters a path_rule may hold after its leading "/" (route_configs_path_rule_format), less
 * those the renderer refuses (pathRuleProblem: ? # % < > ^ |), "/" and "." (no "//", "/./" or a final "/.").
 */
const PATH_CHARS = [...'!$&()*+,-0123456789:;=@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]_abcdefghijklmnopqrstuvwxyz~'];
/** Traefik's largest user priority on 64-bit (MaxInt64 − 1000). */
const TRAEFIK_MAX_PRIORITY = 2n ** 63n - 1n - 1000n;

const HOST = 'app.example';
const SERVICE = '20000000-0000-4000-8000-000000000000';
const routeId = (i: number): string => `40000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

interface Candidate {
  readonly path: string;
  readonly priority: number;
}

function project(routes: readonly Candidate[], ssl: boolean): ProjectState {
  const rows: Route[] = routes.map((r, i) => ({
    id: routeId(i),
    serviceId: SERVICE,
    pathRule: r.path,
    priority: r.priority,
    middleware: null,
    targetPort: 8000 + i,
    targetUrl: null,
    healthCheck: null,
    isActive: true,
  }));
  return {
    id: '10000000-0000-4000-8000-000000000000',
    name: 'prio',
    version: 1,
    changedAt: null,
    services: [{ id: SERVICE, name: 'app', host: null }],
    domains: [
      {
        id: '30000000-0000-4000-8000-000000000000',
        domain: HOST,
        subdomain: null,
        fullDomain: HOST,
        sslEnabled: ssl,
        sslProvider: ssl ? 'letsencrypt' : null,
        isActive: true,
        certificate: null,
        routes: rows,
      },
    ],
  };
}

interface Router {
  readonly name: string;
  readonly rule: string;
  readonly priority?: number;
  readonly entryPoints: string[];
  readonly service: string;
}

/** Every router of the rendered files, as Traefik reads them (after its template pass). */
function renderedRouters(state: ProjectState): Router[] {
  const r = renderProject(state, { configDir: '/cfg' });
  expect(r.problems).toEqual([]);
  return r.files
    .filter((f) => f.path.endsWith('.yml'))
    .flatMap((f) => Object.entries((parse(unescapeGoTemplate(f.content))?.http?.routers ?? {}) as Record<string, Omit<Router, 'name'>>))
    .map(([name, router]) => ({ name, ...router }));
}

/** Whether one of our rules matches host + path (Host, and PathPrefix: a plain string prefix in v3). */
function matches(rule: string, host: string, path: string): boolean {
  const m = /^Host\(`([^`]+)`\)(?: && PathPrefix\(`[^`]+`\))?$/.exec(rule);
  if (!m) throw new Error(`a rule this model does not know: ${rule}`);
  return m[1] === host && path.startsWith(pathOf(rule));
}

/** The path a rule of ours matches ("/" for a Host-only rule). */
function pathOf(rule: string): string {
  return /PathPrefix\(`([^`]+)`\)/.exec(rule)?.[1] ?? '/';
}

/** The router Traefik gives a request on `entryPoint`: highest effective priority first, first match. */
function traefikPicks(routers: readonly Router[], entryPoint: string, host: string, path: string): Router | undefined {
  const effective = (r: Router) => (r.priority ? r.priority : r.rule.length);
  return routers
    .filter((r) => r.entryPoints.includes(entryPoint))
    .sort((a, b) => effective(b) - effective(a))
    .find((r) => matches(r.rule, host, path));
}

/** The route the README promises the request to: highest priority, then the longest path. */
function promised(routes: readonly Candidate[]): number {
  let best = 0;
  for (let i = 1; i < routes.length; i++) {
    const [a, b] = [routes[i]!, routes[best]!];
    if (a.priority > b.priority || (a.priority === b.priority && a.path.length > b.path.length)) best = i;
  }
  return best;
}

/**
 * A request path of up to 1,024 characters and 2–6 routes on it, each a distinct prefix of it
 * (so every one matches), with priorities close together (equal, or one or two apart: where a
 * path length could tip the balance) anywhere in the allowed range.
 */
const lengthArb = fc.oneof(fc.integer({ min: 1, max: LONGEST_PATH }), fc.constantFrom(1, 2, LONGEST_PATH - 1, LONGEST_PATH));
const scenarioArb = fc
  .record({
    request: fc
      .array(fc.constantFrom(...PATH_CHARS), { minLength: LONGEST_PATH - 1, maxLength: LONGEST_PATH - 1 })
      .map((cs) => `/${cs.join('')}`),
    lengths: fc.uniqueArray(lengthArb, { minLength: 2, maxLength: 6 }),
    base: fc.oneof(fc.integer({ min: 0, max: HIGHEST_PRIORITY - 2 }), fc.constantFrom(0, HIGHEST_PRIORITY - 2)),
    offsets: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 6, maxLength: 6 }),
    ssl: fc.boolean(),
  })
  .map(({ request, lengths, base, offsets, ssl }) => ({
    request,
    ssl,
    routes: lengths.map((len, i) => ({ path: request.slice(0, len), priority: base + offsets[i]! })),
  }));

describe('router priority, as Traefik orders the rendered routers', () => {
  it('a higher priority always wins, whatever the path lengths; at equal priority the longer path wins', () => {
    fc.assert(
      fc.property(scenarioArb, ({ request, routes, ssl }) => {
        const routers = renderedRouters(project(routes, ssl));
        const picked = traefikPicks(routers, ssl ? 'websecure' : 'web', HOST, request);
        const want = routes[promised(routes)]!;
        expect(picked && pathOf(picked.rule), JSON.stringify(routes.map((r) => [r.path.length, r.priority]))).toBe(want.path);
      }),
      {
        numRuns: 300,
        examples: [
          // Priority 1 on the longest path against priority 2 on "/".
          [
            {
              request: `/${'a'.repeat(LONGEST_PATH - 1)}`,
              ssl: false,
              routes: [
                { path: `/${'a'.repeat(LONGEST_PATH - 1)}`, priority: 1 },
                { path: '/', priority: 2 },
              ],
            },
          ],
          [
            {
              request: `/${'a'.repeat(LONGEST_PATH - 1)}`,
              ssl: true,
              routes: [
                { path: '/', priority: 0 },
                { path: `/${'a'.repeat(LONGEST_PATH - 1)}`, priority: 0 },
              ],
            },
          ],
        ],
      },
    );
  });

  it('priorities stay within what Traefik accepts, and are never 0 (which would mean "the rule length")', () => {
    const routers = renderedRouters(
      project(
        [
          { path: `/${'z'.repeat(LONGEST_PATH - 1)}`, priority: HIGHEST_PRIORITY },
          { path: '/', priority: 0 },
        ],
        false,
      ),
    );
    for (const r of routers) {
      expect(r.priority).toBeGreaterThan(0);
      expect(Number.isSafeInteger(r.priority)).toBe(true);
      expect(BigInt(r.priority!) <= TRAEFIK_MAX_PRIORITY).toBe(true);
    }
  });
});
