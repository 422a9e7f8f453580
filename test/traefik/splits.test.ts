/**
 * Weighted routing between services and failover, as a client sees them through a real Traefik:
 * a 90/10 split measured over many requests, a branch whose health check fails taking no
 * traffic, and a route falling back on another service while its health check finds the
 * primary down — and back once it recovers. Against the newest and the oldest Traefik.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traefikForSuite } from '../helpers/traefik.js';
import type { Backend } from './backends.js';
import { applyLoaded, startStack, waitForLive, type Stack } from './stack.js';

/** How many of `n` requests to `host` each backend answered. */
async function count(stack: Stack, host: string, n: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await stack.request({ host, path: '/' });
    const who = r.seen?.backend ?? `status ${r.status}`;
    seen[who] = (seen[who] ?? 0) + 1;
  }
  return seen;
}

/**
 * Ask `host` until `backend` answers `streak` requests in a row (health checks run every 200 ms);
 * the answers seen on the way.
 */
async function until(stack: Stack, host: string, backend: string, streak = 1, timeoutMs = 15_000): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  let run = 0;
  while (Date.now() < deadline) {
    const r = await stack.request({ host, path: '/' });
    const who = r.seen?.backend ?? `status ${r.status}`;
    seen.push(who);
    run = who === backend ? run + 1 : 0;
    if (run >= streak) return seen;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${host} never answered from ${backend} within ${timeoutMs} ms; last answers: ${seen.slice(-5).join(', ')}`);
}

for (const which of ['newest', 'oldest'] as const) {
  const binary = traefikForSuite(which);
  describe.skipIf(!binary)(`splits and failover in Traefik ${binary?.version ?? which}`, () => {
    let stack: Stack;
    let errors: string[] = [];
    const b: Record<string, Backend> = {};

    beforeAll(async () => {
      // readApi: the controller compares what it wrote with what Traefik's API reports (live).
      stack = await startStack(binary!, { readApi: true });
      for (const n of ['stable', 'canary', 'blue', 'green', 'primary', 'fallback']) b[n] = await stack.backends.add(n);
      const healthCheck = { path: '/health', interval: '200ms', timeout: '150ms' };
      errors = await applyLoaded(stack, {
        name: 'splits',
        services: [
          { name: 'app', host: '127.0.0.1' },
          { name: 'app-canary', host: '127.0.0.1' },
          { name: 'backup', host: '127.0.0.1' },
        ],
        domains: [
          {
            domain: 'canary.test',
            ssl: false,
            routes: [
              {
                path: '/',
                service: 'app',
                targetPort: b.stable!.port,
                split: [
                  { service: 'app', weight: 90 },
                  { service: 'app-canary', port: b.canary!.port, weight: 10 },
                ],
              },
            ],
          },
          {
            domain: 'blue-green.test',
            ssl: false,
            routes: [
              {
                path: '/',
                service: 'app',
                targetPort: b.blue!.port,
                healthCheck,
                split: [{ service: 'app' }, { service: 'app', port: b.green!.port }],
              },
            ],
          },
          {
            domain: 'failover.test',
            ssl: false,
            routes: [
              {
                path: '/',
                service: 'app',
                targetPort: b.primary!.port,
                healthCheck,
                failover: { service: 'backup', port: b.fallback!.port },
              },
            ],
          },
        ],
      });
    }, 60_000);
    afterAll(async () => stack?.stop());

    it('loads without an error, and the controller sees Traefik serve exactly what it wrote', async () => {
      expect(errors).toEqual([]);
      await waitForLive(stack, 'splits');
    });

    it('splits 90/10 between two services over 500 requests', async () => {
      const seen = await count(stack, 'canary.test', 500);
      // Traefik's weighted round robin is deterministic (earliest deadline first): exactly 9:1.
      expect(seen).toEqual({ stable: 450, canary: 50 });
    });

    it('a branch whose health check fails gets no traffic, and gets its share back when it recovers', async () => {
      expect(Object.keys(await count(stack, 'blue-green.test', 20)).sort()).toEqual(['blue', 'green']);
      b.green!.behaviour.health = 503;
      // Round robin alternates while both are up: 30 answers in a row from blue mean green is out.
      await until(stack, 'blue-green.test', 'blue', 30);
      b.green!.behaviour.health = 200;
      await until(stack, 'blue-green.test', 'green');
    });

    it('fails over to the fallback service while the primary health check fails, and back once it passes', async () => {
      expect(await count(stack, 'failover.test', 10)).toEqual({ primary: 10 });
      expect(b.fallback!.seen).toEqual([]);
      b.primary!.behaviour.health = 503;
      const during = await until(stack, 'failover.test', 'fallback');
      expect(during.every((who) => who === 'primary' || who === 'fallback')).toBe(true);
      expect(await count(stack, 'failover.test', 20)).toEqual({ fallback: 20 });
      b.primary!.behaviour.health = 200;
      await until(stack, 'failover.test', 'primary');
      expect(await count(stack, 'failover.test', 10)).toEqual({ primary: 10 });
    });
  });
}
