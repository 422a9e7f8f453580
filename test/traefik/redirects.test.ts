/**
 * Domain redirects as a client sees them through a real Traefik (docs/spec-format.md "Domain
 * redirects"): www → apex keeps the path, the query, the scheme and the port and is permanent
 * (301 for GET, 308 for POST so the body is sent again); an old name → the new one over https
 * with `permanent: false` is temporary (302); the apex still serves its route. Against the newest
 * and the oldest Traefik.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traefikForSuite } from '../helpers/traefik.js';
import { applyLoaded, startStack, type Stack } from './stack.js';

/** A path and query with escapes, kept as sent. */
const SENT = '/shop/item%20one?size=xl&colour=r%C3%B6d';

for (const which of ['newest', 'oldest'] as const) {
  const binary = traefikForSuite(which);
  describe.skipIf(!binary)(`domain redirects in Traefik ${binary?.version ?? which}`, () => {
    let stack: Stack;
    let errors: string[] = [];

    beforeAll(async () => {
      stack = await startStack(binary!);
      const apex = await stack.backends.add('apex');
      errors = await applyLoaded(stack, {
        name: 'moves',
        services: [{ name: 'app', host: '127.0.0.1' }],
        domains: [
          { domain: 'moves.test', subdomain: 'www', provider: 'letsencrypt', redirect: { to: 'moves.test' } },
          { domain: 'moves.test', ssl: false, routes: [{ path: '/', service: 'app', targetPort: apex.port }] },
          { domain: 'old-moves.test', ssl: false, redirect: { to: 'moves.test', scheme: 'https', permanent: false } },
        ],
      });
    }, 60_000);
    afterAll(async () => stack?.stop());

    it('loads without an error', () => {
      expect(errors).toEqual([]);
    });

    it('www → apex: 301 with path and query, over http and https, keeping the port', async () => {
      const plain = await stack.request({ host: 'www.moves.test', path: SENT });
      expect(plain.status).toBe(301);
      expect(plain.headers.location).toBe(`http://moves.test${SENT}`);
      const secure = await stack.request({ host: 'www.moves.test', path: SENT, tls: true });
      expect(secure.status).toBe(301);
      expect(secure.headers.location).toBe(`https://moves.test${SENT}`);
      const port = await stack.request({ host: 'www.moves.test:8443', path: '/x?y=1' });
      expect(port.headers.location).toBe('http://moves.test:8443/x?y=1');
    });

    it('a POST is redirected with 308, so the client sends its body again', async () => {
      const r = await stack.request({ host: 'www.moves.test', path: '/form?a=1', method: 'POST', body: 'x=1' });
      expect(r.status).toBe(308);
      expect(r.headers.location).toBe('http://moves.test/form?a=1');
    });

    it('old name → https://apex, temporary (302), the port dropped', async () => {
      const r = await stack.request({ host: 'old-moves.test:8080', path: SENT });
      expect(r.status).toBe(302);
      expect(r.headers.location).toBe(`https://moves.test${SENT}`);
    });

    it('the apex serves its route', async () => {
      const r = await stack.request({ host: 'moves.test', path: SENT });
      expect(r.status).toBe(200);
      expect(r.seen?.backend).toBe('apex');
    });
  });
}
