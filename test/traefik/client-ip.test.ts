/**
 * Real client IPs through the static settings (docs/spec-format.md "Real client IPs"): with
 * TRAEFIK_STATIC_FILE trusting the load balancer in front of Traefik (here the test, 127.0.0.1)
 * on `web` — `forwardedHeaders.trustedIPs` and `proxyProtocol.trustedIPs` — an `ipAllowList`
 * sees the client: from a trusted X-Forwarded-For (with `ipStrategy.depth: 1`) or from the
 * PROXY protocol header (the connection's address), and a `rateLimit` counts per client. On `websecure`, which trusts nobody, the same
 * X-Forwarded-For is a spoof and is refused. Against the newest and the oldest Traefik tested.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traefikForSuite } from '../helpers/traefik.js';
import type { Backend } from './backends.js';
import { startStack, traefikErrors, waitForDisk, type Stack } from './stack.js';

const CLIENT = '203.0.113.7';
const OTHER = '198.51.100.1';
const LOOPBACK = ['127.0.0.1/32'];

/** One HTTP/1.0 GET over a raw connection to `address`, optionally after a PROXY v1 header; the status code. */
function rawGet(address: string, host: string, proxyFrom?: string): Promise<number> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) }, () => {
      const proxy = proxyFrom ? `PROXY TCP4 ${proxyFrom} 127.0.0.1 40000 ${address.slice(i + 1)}\r\n` : '';
      socket.write(`${proxy}GET / HTTP/1.0\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer from ${address} for ${host}`)));
    socket.on('data', (d: string) => (text += d));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.\d (\d{3})/.exec(text)?.[1] ?? 0)));
  });
}

for (const which of ['newest', 'oldest'] as const) {
  const binary = traefikForSuite(which);
  describe.skipIf(!binary)(`real client IPs in Traefik ${binary?.version ?? which}`, () => {
    let stack: Stack;
    let app: Backend;
    beforeAll(async () => {
      stack = await startStack(binary!, {
        overlay: { entryPoints: { web: { forwardedHeaders: { trustedIPs: LOOPBACK }, proxyProtocol: { trustedIPs: LOOPBACK } } } },
      });
      app = await stack.backends.add('app');
      const allow = (sourceRange: string[], ipStrategy?: unknown) => [
        { ipAllowList: { sourceRange, ...(ipStrategy ? { ipStrategy } : {}) } },
      ];
      const domain = (name: string, ssl: boolean, middleware: unknown[]) => ({
        domain: name,
        ssl,
        routes: [{ path: '/', service: 'app', targetPort: app.port, middleware }],
      });
      const applied = await stack.config.apply({
        name: 'clientip',
        services: [{ name: 'app', host: '127.0.0.1' }],
        domains: [
          domain('xff.test', false, allow([`${CLIENT}/32`], { depth: 1 })),
          domain('direct.test', false, allow([`${CLIENT}/32`])),
          domain('spoof.test', true, allow([`${CLIENT}/32`], { depth: 1 })),
          domain('rate.test', false, [
            { rateLimit: { average: 1, period: '1m', burst: 1, sourceCriterion: { ipStrategy: { depth: 1 } } } },
          ]),
        ],
      });
      await stack.config.waitForSync(applied.projectId);
      expect(traefikErrors(await waitForDisk(stack))).toEqual([]);
    }, 90_000);
    afterAll(async () => stack?.stop());

    it('a trusted X-Forwarded-For is the client the allow-list sees', async () => {
      const as = async (xff: string) => (await stack.request({ host: 'xff.test', headers: { 'x-forwarded-for': xff } })).status;
      expect(await as(CLIENT)).toBe(200);
      expect(await as(OTHER)).toBe(403);
      // The load balancer appends the client to what the client sent: the last entry counts.
      expect(await as(`${CLIENT}, ${OTHER}`)).toBe(403);
      expect(await as(`${OTHER}, ${CLIENT}`)).toBe(200);
    });

    it('a rate limit counts per client behind the load balancer, not for the load balancer as a whole', async () => {
      const as = async (xff: string) => (await stack.request({ host: 'rate.test', headers: { 'x-forwarded-for': xff } })).status;
      expect(await as(CLIENT)).toBe(200);
      expect(await as(CLIENT)).toBe(429);
      expect(await as(OTHER)).toBe(200);
    });

    it('the PROXY protocol header is the client address the allow-list sees', async () => {
      const web = stack.traefik.entryPoints.web!;
      expect(await rawGet(web, 'direct.test', CLIENT)).toBe(200);
      expect(await rawGet(web, 'direct.test', OTHER)).toBe(403);
      // Without the header the client is the load balancer itself.
      expect(await rawGet(web, 'direct.test')).toBe(403);
    });

    it('an entry point that trusts nobody ignores X-Forwarded-For: a spoofed client is refused', async () => {
      const r = await stack.request({ host: 'spoof.test', tls: true, headers: { 'x-forwarded-for': CLIENT } });
      expect(r.status).toBe(403);
      expect(app.seen.some((s) => s.headers.host === 'spoof.test')).toBe(false);
    });
  });
}
