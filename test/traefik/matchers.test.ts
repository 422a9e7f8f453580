/**
 * Match types beyond the path prefix, as a client sees them through a real Traefik: an exact
 * path, a Go regular expression, header and method conditions, and which route wins where they
 * overlap (docs/spec-format.md "Matching requests"); a header value holding quotes and
 * parentheses is matched literally and adds nothing to the rule. Against the newest and the
 * oldest Traefik.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traefikForSuite } from '../helpers/traefik.js';
import { applyLoaded, startStack, waitForLive, type Stack } from './stack.js';

const NAMES = ['root', 'prefix', 'exact', 'regex', 'header', 'method', 'both', 'quoted', 'go-only'] as const;

for (const which of ['newest', 'oldest'] as const) {
  const binary = traefikForSuite(which);
  describe.skipIf(!binary)(`match types in Traefik ${binary?.version ?? which}`, () => {
    let stack: Stack;
    let errors: string[] = [];

    /** Which backend answers `method path` on match.test with `headers` (or the status when none does). */
    const who = async (method: string, path: string, headers: Record<string, string> = {}, host = 'match.test') => {
      const r = await stack.request({ host, path, method, headers });
      return r.seen?.backend ?? `status ${r.status}`;
    };

    beforeAll(async () => {
      // readApi: the controller compares what it wrote with what Traefik's API reports (live).
      stack = await startStack(binary!, { readApi: true });
      const port: Record<string, number> = {};
      for (const n of NAMES) port[n] = (await stack.backends.add(n)).port;
      const route = (n: (typeof NAMES)[number], extra: Record<string, unknown>) => ({ service: 'app', targetPort: port[n], ...extra });
      errors = await applyLoaded(stack, {
        name: 'matchers',
        services: [{ name: 'app', host: '127.0.0.1' }],
        domains: [
          {
            domain: 'match.test',
            ssl: false,
            routes: [
              route('root', { path: '/' }),
              route('prefix', { path: '/api' }),
              route('exact', { path: '/api', match: 'exact' }),
              route('regex', { path: '^/api/v[0-9]+/users$', match: 'regex' }),
              route('header', { path: '/api', headers: { 'X-Canary': '1' } }),
              route('method', { path: '/api', methods: ['POST', 'PUT'] }),
              route('both', { path: '/api', headers: { 'X-Canary': '1' }, methods: ['DELETE'] }),
              route('quoted', { path: '/q', headers: { 'X-Q': '") || Host("evil.test' } }),
              // Go-only syntax JavaScript cannot read: flags, \\Q…\\E, \\z, POSIX classes, a (?P<name>…) group.
              route('go-only', { path: '(?i)^/\\Qdocs.v1\\E/(?P<page>[[:alpha:]]+)\\z', match: 'regex' }),
            ],
          },
        ],
      });
    }, 60_000);
    afterAll(async () => stack?.stop());

    it('loads without an error, and the controller sees Traefik serve exactly what it wrote', async () => {
      expect(errors).toEqual([]);
      await waitForLive(stack, 'matchers');
    });

    it('an exact path matches only itself; the prefix takes the rest', async () => {
      expect(await who('GET', '/api')).toBe('exact');
      expect(await who('GET', '/api/')).toBe('prefix');
      expect(await who('GET', '/apix')).toBe('prefix');
      expect(await who('GET', '/other')).toBe('root');
    });

    it('a regular expression matches what Go matches', async () => {
      expect(await who('GET', '/api/v2/users')).toBe('regex');
      expect(await who('GET', '/api/v10/users')).toBe('regex');
      expect(await who('GET', '/api/vx/users')).toBe('prefix');
      expect(await who('GET', '/api/v2/users/7')).toBe('prefix');
    });

    it('Go-only regular expression syntax works as Go reads it', async () => {
      expect(await who('GET', '/DOCS.v1/Intro')).toBe('go-only');
      expect(await who('GET', '/docsxv1/intro')).toBe('root');
      expect(await who('GET', '/docs.v1/intro2')).toBe('root');
    });

    it('a header condition: the exact value, the name in any case', async () => {
      expect(await who('GET', '/api/x', { 'X-Canary': '1' })).toBe('header');
      expect(await who('GET', '/api/x', { 'x-canary': '1' })).toBe('header');
      expect(await who('GET', '/api/x', { 'X-Canary': '2' })).toBe('prefix');
      expect(await who('GET', '/api/x')).toBe('prefix');
    });

    it('a method condition; the route with more conditions wins', async () => {
      expect(await who('POST', '/api/x')).toBe('method');
      expect(await who('PUT', '/api/x')).toBe('method');
      expect(await who('DELETE', '/api/x')).toBe('prefix');
      expect(await who('DELETE', '/api/x', { 'X-Canary': '1' })).toBe('both');
    });

    it('a header value with quotes and parentheses is matched literally and adds nothing to the rule', async () => {
      expect(await who('GET', '/q', { 'X-Q': '") || Host("evil.test' })).toBe('quoted');
      expect(await who('GET', '/q')).toBe('root');
      expect(await who('GET', '/q', {}, 'evil.test')).toBe('status 404');
    });
  });
}
