/**
 * Shared middlewares as a client sees them through a real Traefik (docs/spec-format.md "Shared
 * middlewares"): one forwardAuth, defined once, guards routes of two domains (directly and
 * through a chain) — refused for everyone while the auth server says no, let through with the
 * header it adds once it says yes, every check going to the one auth server; an errors page
 * replaces a failing upstream's answer with the page of another service of the project. Against
 * the newest and the oldest Traefik.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traefikForSuite } from '../helpers/traefik.js';
import type { Backend } from './backends.js';
import { applyLoaded, startStack, type Stack } from './stack.js';

for (const which of ['newest', 'oldest'] as const) {
  const binary = traefikForSuite(which);
  describe.skipIf(!binary)(`shared middlewares in Traefik ${binary?.version ?? which}`, () => {
    let stack: Stack;
    let errors: string[] = [];
    const b: Record<string, Backend> = {};

    beforeAll(async () => {
      stack = await startStack(binary!);
      b.auth = await stack.backends.add('auth', { status: 401 });
      b.app = await stack.backends.add('app');
      b.admin = await stack.backends.add('admin');
      b.broken = await stack.backends.add('broken', { status: 503 });
      b.pages = await stack.backends.add('pages');
      const route = (path: string, backend: Backend, middleware: unknown[]) => ({
        path,
        service: 'app',
        targetPort: backend.port,
        middleware,
      });
      errors = await applyLoaded(stack, {
        name: 'team',
        services: [
          { name: 'app', host: '127.0.0.1' },
          { name: 'pages', host: '127.0.0.1' },
        ],
        middlewares: [
          { name: 'sso', forwardAuth: { address: `${b.auth.url}/verify`, authResponseHeaders: ['X-User'] } },
          { name: 'stamp', headers: { customResponseHeaders: { 'X-Shared': 'yes' } } },
          { name: 'protected', chain: { middlewares: ['sso', 'stamp'] } },
          { name: 'oops', errors: { status: ['500-599'], service: 'pages', port: b.pages.port, query: '/{status}.html' } },
        ],
        domains: [
          {
            domain: 'team.test',
            ssl: false,
            routes: [route('/', b.app, [{ use: 'protected' }]), route('/admin', b.admin, [{ use: 'sso' }])],
          },
          { domain: 'other.team.test', ssl: false, routes: [route('/', b.app, [{ use: 'protected' }])] },
          { domain: 'broken.team.test', ssl: false, routes: [route('/', b.broken, [{ use: 'oops' }])] },
        ],
      });
    }, 60_000);
    afterAll(async () => stack?.stop());

    it('loads without an error', () => {
      expect(errors).toEqual([]);
    });

    it('one forwardAuth guards every route that uses it: all refused, then all let through with its header', async () => {
      const targets = [
        { host: 'team.test', path: '/' },
        { host: 'team.test', path: '/admin/x' },
        { host: 'other.team.test', path: '/y?z=1' },
      ];
      for (const t of targets) expect((await stack.request(t)).status, `${t.host}${t.path}`).toBe(401);
      expect(b.app!.seen.length + b.admin!.seen.length).toBe(0);
      b.auth!.behaviour = { status: 200, headers: { 'X-User': 'alice' } };
      const answers = await Promise.all(targets.map((t) => stack.request(t)));
      expect(answers.map((r) => [r.status, r.seen?.backend, r.seen?.headers['x-user']])).toEqual([
        [200, 'app', 'alice'],
        [200, 'admin', 'alice'],
        [200, 'app', 'alice'],
      ]);
      // The chain adds its headers middleware; the route using sso alone does not.
      expect(answers.map((r) => r.headers['x-shared'])).toEqual(['yes', undefined, 'yes']);
      const asked = b.auth!.seen.map((s) => `${String(s.headers['x-forwarded-host'])}${String(s.headers['x-forwarded-uri'])}`);
      expect(new Set(asked)).toEqual(new Set(['team.test/', 'team.test/admin/x', 'other.team.test/y?z=1']));
    });

    it('an errors page: a 503 of the upstream is answered with the project page for 503', async () => {
      const r = await stack.request({ host: 'broken.team.test', path: '/checkout' });
      expect(r.status).toBe(503);
      expect(r.seen?.backend).toBe('pages');
      expect(r.seen?.url).toBe('/503.html');
      expect(b.broken!.seen.length).toBeGreaterThan(0);
    });
  });
}
