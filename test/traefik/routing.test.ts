/**
 * What a client sees through a real Traefik fed by traefik-sync: host + path routing and
 * priority, the http→https redirect, a custom certificate presented for its SNI, ACME resolvers
 * accepted at start without network, and each middleware kind behaving as Traefik documents it.
 * The routing and TLS cases run against the newest and the oldest Traefik tested.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CERT_PEM, KEY_PEM } from '../helpers/seed.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/sidecar.js';
import { traefikForSuite } from '../helpers/traefik.js';
import { peerCertificate, type Backend } from './backends.js';
import { startStack, traefikErrors, waitForDisk, type Stack } from './stack.js';

const CERT_HOST = new X509Certificate(CERT_PEM).subject.match(/CN=([^\n]+)/)![1]!;

interface Routes {
  [path: string]: { backend: Backend; middleware?: unknown[]; priority?: number };
}

/** A spec for project `name`: one plain-HTTP domain whose routes each go to their own backend. */
function spec(name: string, domain: string, routes: Routes, ssl = false) {
  return {
    name,
    services: [{ name: 'svc', host: '127.0.0.1' }],
    domains: [
      {
        domain,
        ssl,
        routes: Object.entries(routes).map(([path, r]) => ({
          path,
          service: 'svc',
          targetPort: r.backend.port,
          ...(r.middleware ? { middleware: r.middleware } : {}),
          ...(r.priority !== undefined ? { priority: r.priority } : {}),
        })),
      },
    ],
  };
}

for (const which of ['newest', 'oldest'] as const) {
  const binary = traefikForSuite(which);
  describe.skipIf(!binary)(`routing and TLS in Traefik ${binary?.version ?? which}`, () => {
    let stack: Stack;
    const b: Record<string, Backend> = {};
    beforeAll(async () => {
      stack = await startStack(binary!, {
        // Projects that must be there when Traefik starts: ACME resolvers and a custom certificate.
        beforeTraefik: async (config, backends) => {
          for (const n of ['root', 'api', 'v2', 'prio', 'tls', 'acme', 'custom']) b[n] = await backends.add(n);
          const certDir = await tempDir('tsync-cert-');
          await writeFile(path.join(certDir, 'c.crt'), CERT_PEM);
          await writeFile(path.join(certDir, 'c.key'), KEY_PEM);
          const applied = [
            await config.apply(
              spec('paths', 'paths.test', { '/': { backend: b.root! }, '/api': { backend: b.api! }, '/api/v2': { backend: b.v2! } }),
            ),
            await config.apply(spec('prio', 'prio.test', { '/': { backend: b.prio!, priority: 10 }, '/api': { backend: b.api! } })),
          ];
          applied.push(
            await config.apply(
              {
                name: 'tls',
                services: [{ name: 'svc', host: '127.0.0.1' }],
                domains: [
                  { domain: 'acme.test', provider: 'letsencrypt', routes: [{ path: '/', service: 'svc', targetPort: b.acme!.port }] },
                  { domain: 'zero.test', provider: 'zerossl', routes: [{ path: '/', service: 'svc', targetPort: b.acme!.port }] },
                  {
                    domain: CERT_HOST,
                    provider: 'custom',
                    certificate: { certFile: 'c.crt', keyFile: 'c.key' },
                    routes: [{ path: '/', service: 'svc', targetPort: b.custom!.port }],
                  },
                ],
              },
              { baseDir: certDir },
            ),
          );
          for (const a of applied) await config.waitForSync(a.projectId);
        },
      });
      await waitForDisk(stack);
    }, 60_000);
    afterAll(async () => stack?.stop());

    it('everything written is loaded without error, the ACME routers included (no network needed)', async () => {
      const raw = await stack.traefik.rawdata();
      expect(traefikErrors(raw)).toEqual([]);
      const acme = Object.entries(raw.routers ?? {}).filter(([, r]) => (r.tls as { certResolver?: string } | undefined)?.certResolver);
      expect(acme.map(([, r]) => (r.tls as { certResolver: string }).certResolver).sort()).toEqual(['letsencrypt', 'zerossl']);
    });

    it('host + path: the longest matching path prefix wins', async () => {
      const seen = async (path: string) => (await stack.request({ host: 'paths.test', path })).seen?.backend;
      expect(await seen('/')).toBe('root');
      expect(await seen('/other')).toBe('root');
      expect(await seen('/api')).toBe('api');
      expect(await seen('/api/x')).toBe('api');
      expect(await seen('/api/v2/x')).toBe('v2');
      expect((await stack.request({ host: 'unknown.test', path: '/api' })).status).toBe(404);
    });

    it('an explicit priority wins over a more specific path', async () => {
      expect((await stack.request({ host: 'prio.test', path: '/api/x' })).seen?.backend).toBe('prio');
    });

    it('http on an https domain redirects to https; https reaches the backend with the default certificate', async () => {
      const r = await stack.request({ host: 'acme.test', path: '/a/b?q=1' });
      expect([301, 308]).toContain(r.status);
      expect(r.headers.location).toBe('https://acme.test/a/b?q=1');
      expect(r.seen).toBeUndefined();
      const s = await stack.request({ host: 'acme.test', path: '/', tls: true });
      expect(s.seen?.backend).toBe('acme');
      // No network, no ACME certificate: Traefik serves its default one.
      expect((await peerCertificate(stack.traefik.entryPoints.websecure!, 'acme.test')).subject.CN).toBe('TRAEFIK DEFAULT CERT');
    });

    it('a custom certificate is presented for its SNI, and its backend answers', async () => {
      const cert = await peerCertificate(stack.traefik.entryPoints.websecure!, CERT_HOST);
      const want = new X509Certificate(CERT_PEM);
      expect(cert.fingerprint256).toBe(want.fingerprint256);
      expect(createHash('sha256').update(cert.raw).digest('hex')).toBe(createHash('sha256').update(want.raw).digest('hex'));
      expect((await stack.request({ host: CERT_HOST, tls: true })).seen?.backend).toBe('custom');
      // Another SNI does not get it.
      expect((await peerCertificate(stack.traefik.entryPoints.websecure!, 'acme.test')).fingerprint256).not.toBe(want.fingerprint256);
    });

    it('a route whose backend is gone answers 502, the others keep answering', async () => {
      const dead = await stack.backends.add('dead');
      await stack.config.apply(spec('gone', 'gone.test', { '/': { backend: dead } }));
      await stack.backends.kill(dead);
      await waitForDisk(stack);
      await waitFor(async () => (await stack.request({ host: 'gone.test' })).status === 502, 10_000);
      expect((await stack.request({ host: 'paths.test' })).seen?.backend).toBe('root');
    });
  });
}
