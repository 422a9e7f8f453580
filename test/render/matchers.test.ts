/**
 * Rules and priorities of routes with match types (render/matchers.ts, docs/spec-format.md
 * "Matching requests"): whatever a route matches, a higher `priority` wins, an exact host beats
 * a wildcard at the same priority, and a plain prefix route keeps the priority it had before
 * (its file does not change); a value that passes the checks stays one literal in the rule.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Route } from '../../src/model.js';
import { parseRule } from '../../src/config-service/import-map.js';
import { HTTP_METHODS, headersProblems, pathRegexProblem, routeRuleOf, specificity } from '../../src/render/matchers.js';
import { routerPriority } from '../../src/render/project.js';

type Matchers = Pick<Route, 'pathRule' | 'pathMatch' | 'headers' | 'methods' | 'priority'>;

const printable = fc.string({
  unit: fc.constantFrom(...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))),
  minLength: 1,
  maxLength: 40,
});
const route: fc.Arbitrary<Matchers> = fc.record({
  pathRule: fc.string({ unit: fc.constantFrom('/', 'a', 'b', '-'), minLength: 1, maxLength: 1024 }).map((s) => `/${s}`.slice(0, 1024)),
  pathMatch: fc.constantFrom('prefix', 'exact', 'regex') as fc.Arbitrary<Route['pathMatch']>,
  headers: fc.option(fc.dictionary(fc.constantFrom('X-A', 'X-B', 'X-C'), fc.constantFrom('1', '2'), { minKeys: 1 }), { nil: null }),
  methods: fc.option(fc.subarray([...HTTP_METHODS], { minLength: 1 }), { nil: null }),
  priority: fc.integer({ min: 0, max: 1_000_000 }),
});

describe('router priority with match types', () => {
  it('a higher priority always wins; an exact host beats a wildcard at the same priority', () => {
    fc.assert(
      fc.property(route, route, fc.boolean(), fc.boolean(), (a, b, wa, wb) => {
        const s = specificity(a);
        expect(s).toBeGreaterThanOrEqual(1);
        expect(s).toBeLessThan(5000);
        if (a.priority > b.priority) expect(routerPriority(a, wa)).toBeGreaterThan(routerPriority(b, wb));
        if (a.priority === b.priority && !wa && wb) expect(routerPriority(a, wa)).toBeGreaterThan(routerPriority(b, wb));
      }),
    );
  });

  it('a plain prefix route keeps its old priority; any matcher ranks it above plain prefixes', () => {
    fc.assert(
      fc.property(route, fc.integer({ min: 1, max: 1024 }), (r, len) => {
        expect(routerPriority({ priority: r.priority, pathRule: r.pathRule })).toBe(r.priority * 10_000 + r.pathRule.length);
        const plain = { priority: r.priority, pathRule: '/'.repeat(len) };
        if (r.pathMatch !== 'prefix' || r.headers || r.methods) expect(routerPriority(r)).toBeGreaterThan(routerPriority(plain));
      }),
    );
  });

  it('an exact path beats the same prefix; more conditions beat fewer', () => {
    const p = (x: Partial<Matchers>) => routerPriority({ priority: 1, pathRule: '/api', ...x });
    expect(p({ pathMatch: 'exact' })).toBeGreaterThan(p({ headers: { 'X-A': '1' } }));
    expect(p({ headers: { 'X-A': '1' }, methods: ['GET'] })).toBeGreaterThan(p({ headers: { 'X-A': '1' } }));
    expect(p({ pathMatch: 'exact', methods: ['GET'] })).toBeGreaterThan(p({ pathMatch: 'exact' }));
  });
});

describe('path regular expressions as Go reads them', () => {
  // What Go's regexp.Compile says (recorded with Go 1.26; Traefik 3.0 and 3.7 read them the same).
  const GO_ACCEPTS = [
    '(?i)^/API',
    '(?P<v>[0-9]+)',
    '\\pL+',
    '[[:alpha:]]+',
    '\\Qa.b\\E',
    '^/x\\z',
    '[\\d-z]',
    '\\_',
    '\\x{41}',
    'a{,3}',
    '\\b\\B\\A\\v\\0',
  ];
  const GO_REFUSES = [
    '(?=x)',
    '(?<!x)y',
    '(a)\\1',
    '\\8',
    'a**',
    'x{2}{3}',
    '[a-\\d]',
    '[^]',
    '[]',
    '[z-a]',
    'a|*',
    '\\C',
    '\\e',
    '\\h',
    '\\K',
    '\\E',
    '\\Z',
    'a{1001}',
  ];
  it.each(GO_ACCEPTS)('accepts %s', (re) => expect(pathRegexProblem(re)).toBeNull());
  it.each(GO_REFUSES)('refuses %s', (re) => expect(pathRegexProblem(re)).toMatch(/does not compile in Go/));
  it('refuses []a] although Go reads it (a literal ]), since JavaScript reads it otherwise: \\] says the same', () => {
    expect(pathRegexProblem('[]a]')).toMatch(/empty classes/);
    expect(pathRegexProblem('[\\]a]')).toBeNull();
  });
});

describe('rules', () => {
  it('a plain prefix route renders the rule it had before', () => {
    expect(routeRuleOf('a.example', { pathRule: '/' })).toBe('Host(`a.example`)');
    expect(routeRuleOf('a.example', { pathRule: '/x', pathMatch: 'prefix', headers: null, methods: null })).toBe(
      'Host(`a.example`) && PathPrefix(`/x`)',
    );
  });

  it('every header value the checks accept reads back as that one value, adding no matcher', () => {
    fc.assert(
      fc.property(printable, (value) => {
        fc.pre(headersProblems({ 'X-A': value }).length === 0);
        const rule = routeRuleOf('a.example', { pathRule: '/', headers: { 'X-A': value }, methods: ['GET', 'POST'] });
        expect(parseRule(rule)).toEqual({ host: 'a.example', path: '/', headers: { 'X-A': value }, methods: ['GET', 'POST'] });
      }),
    );
  });
});
