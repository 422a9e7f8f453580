/**
 * Several upstream servers per route, as a client sees them through a real Traefik: the split
 * follows the weights (counted over many requests), a server of weight 0 gets nothing, sticky
 * sessions keep a client on its server (the cookie, with the attributes asked for), and
 * passHostHeader decides which Host the upstream sees. Against the newest and the oldest Traefik.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traefikForSuite } from '../helpers/traefik.js';
import type { Backend } from './backends.js';
import { applyLoaded, startStack, type Stack } from './stack.js';

/** How many of `n` requests to `host` + `path` each backend answered. */
async function count(stack: Stack, host: string, n: number, headers: Record<string, string> = {}): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await stack.request({ host, path: '/', headers });
    const who = r.seen?.backend ?? `status ${r.status}`;
    seen[who] = (seen[who] ?? 0) + 1;
  }
  return seen;
}

for (const which of ['newest', 'oldest'] as const) {
  const binary = traefikForSuite(which);
  describe.skipIf(!binary)(`load balancing in Traefik ${binary?.version ?? which}`, () => {
    let stack: Stack;
    let errors: string[] = [];
    const b: Record<string, Backend> = {};

    beforeAll(async () => {
      stack = await startStack(binary!);
      for (const n of ['w3', 'w1', 'w0', 's1', 's2', 'host']) b[n] = await stack.backends.add(n);
      errors = await applyLoaded(stack, {
        name: 'lb',
        services: [{ name: 'app', host: '127.0.0.1' }],
        domains: [
          {
            domain: 'weights.test',
            ssl: false,
            routes: [
              {
                path: '/',
                service: 'app',
                targetPort: b.w3!.port,
                servers: [
                  { host: '127.0.0.1', weight: 3 },
                  { url: b.w1!.url, weight: 1 },
                  { host: '127.0.0.1', port: b.w0!.port, weight: 0 },
                ],
              },
            ],
          },
          {
            domain: 'sticky.test',
            ssl: false,
            routes: [
              {
                path: '/',
                service: 'app',
                targetPort: b.s1!.port,
                servers: [{ host: '127.0.0.1' }, { host: '127.0.0.1', port: b.s2!.port }],
                sticky: { cookie: { name: 'lb_srv', secure: true, httpOnly: true, sameSite: 'lax' } },
              },
            ],
          },
          {
            domain: 'keep-host.test',
            ssl: false,
            routes: [{ path: '/', service: 'app', targetPort: b.host!.port }],
          },
          {
            domain: 'own-host.test',
            ssl: false,
            routes: [{ path: '/', service: 'app', targetPort: b.host!.port, passHostHeader: false }],
          },
        ],
      });
    }, 60_000);
    afterAll(async () => stack?.stop());

    it('loads without an error', () => {
      expect(errors).toEqual([]);
    });

    it('splits requests by weight (3:1) and sends none to a server of weight 0', async () => {
      const seen = await count(stack, 'weights.test', 400);
      expect(Object.keys(seen).sort()).toEqual(['w1', 'w3']);
      expect(seen.w3).toBeGreaterThanOrEqual(280);
      expect(seen.w3).toBeLessThanOrEqual(320);
      expect(seen.w1! + seen.w3!).toBe(400);
    });

    it('without stickiness both servers answer; the cookie keeps a client on its server, with the attributes asked for', async () => {
      expect(Object.keys(await count(stack, 'sticky.test', 20)).sort()).toEqual(['s1', 's2']);
      const first = await stack.request({ host: 'sticky.test', path: '/' });
      const setCookie = (first.headers['set-cookie'] ?? []).find((c) => c.startsWith('lb_srv='));
      expect(setCookie).toBeDefined();
      expect(setCookie).toMatch(/; Secure/i);
      expect(setCookie).toMatch(/; HttpOnly/i);
      expect(setCookie).toMatch(/; SameSite=Lax/i);
      const cookie = setCookie!.split(';')[0]!;
      const again = await count(stack, 'sticky.test', 30, { cookie });
      expect(again).toEqual({ [first.seen!.backend]: 30 });
    });

    it('passHostHeader: the client Host by default; the upstream own host:port with passHostHeader false', async () => {
      expect((await stack.request({ host: 'keep-host.test', path: '/' })).seen?.headers.host).toBe('keep-host.test');
      expect((await stack.request({ host: 'own-host.test', path: '/' })).seen?.headers.host).toBe(`127.0.0.1:${b.host!.port}`);
    });
  });
}
