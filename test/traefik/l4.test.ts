/**
 * Entry points and TCP/UDP routes through a real Traefik (docs/spec-format.md "Entry points",
 * "TCP and UDP"), started with the static/traefik.yml the controller generated from
 * TRAEFIK_ENTRYPOINTS (an internal HTTP entry point, TCP ones for SNI and for a catch-all, a UDP
 * one) and TRAEFIK_STATIC_FILE (one more TCP entry point): what a client sees.
 * - A TCP echo reached by SNI over TLS that Traefik terminates (Traefik's certificate), balanced
 *   over two servers; another SNI on that entry point is not routed.
 * - Passthrough: the client gets the backend's own certificate, and its echo.
 * - A catch-all on its own entry point, sending PROXY protocol v2 with the client's address.
 * - A UDP echo on the UDP entry point.
 * - A route on the internal entry point answers there and not on `web`; the http→https redirect
 *   stays for a domain on websecure and is not generated for an internal-only one.
 * Against the newest and the oldest Traefik tested.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInternalTargets } from '../../src/address.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { enabledProviders } from '../../src/render/providers.js';
import { DEFAULT_STATIC_SETTINGS, parseEntryPoints } from '../../src/render/static-settings.js';
import { waitFor } from '../helpers/sidecar.js';
import { freePort, traefikForSuite } from '../helpers/traefik.js';
import { request } from './backends.js';
import { proxyProtocolEcho, tcpAsk, tcpEcho, tlsEcho, udpAsk, udpEcho, type L4Backend } from './l4-backends.js';
import { STACK_INTERNAL_TARGETS, startStack, traefikErrors, waitForDisk, type Stack } from './stack.js';

const fixture = (f: string) => readFileSync(new URL(`../fixtures/${f}`, import.meta.url), 'utf8');
const BACKEND_CERT = fixture('secure.shop.example.crt');
const BACKEND_KEY = fixture('secure.shop.example.key');
const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

/** Entry points and the overlay for this suite: names → loopback addresses on free ports. */
async function settings() {
  const port = async () => `127.0.0.1:${await freePort()}`;
  const eps = `web=${await port()},websecure=${await port()},metrics=${await port()},internal=${await port()},sni=${await port()},plain=${await port()},dns=${await port()}/udp`;
  const overlay = { entryPoints: { mqtts: { address: await port() } } };
  return { eps, overlay };
}

interface TraefikRouter {
  readonly name: string;
  readonly status: string;
}

for (const which of ['newest', 'oldest'] as const) {
  const binary = traefikForSuite(which);
  describe.skipIf(!binary)(`entry points, TCP and UDP in Traefik ${binary?.version ?? which}`, () => {
    let stack: Stack;
    let config: TraefikConfigService;
    const backends: L4Backend[] = [];
    let ep: (name: string) => string;
    beforeAll(async () => {
      const { eps, overlay } = await settings();
      stack = await startStack(binary!, { flags: { 'traefik-entrypoints': eps }, overlay });
      ep = (name) => stack.traefik.entryPoints[name]!;
      // The config service checks against the controller's settings (the same entry points and overlay).
      config = new TraefikConfigService(stack.t.db, {
        actor: 'l4-e2e',
        configDir: stack.root,
        allowedInternalTargets: parseInternalTargets(STACK_INTERNAL_TARGETS),
        providers: enabledProviders(overlay),
        traefikStatic: {
          ...DEFAULT_STATIC_SETTINGS,
          entryPoints: parseEntryPoints(eps, 'traefik-entrypoints'),
          overlay: { file: 'overlay', doc: overlay },
        },
      });
      const [one, two, passthrough, pp, dns] = await Promise.all([
        tcpEcho('one'),
        tcpEcho('two'),
        tlsEcho('own-cert', BACKEND_CERT, BACKEND_KEY),
        proxyProtocolEcho(),
        udpEcho('dns'),
      ]);
      backends.push(one!, two!, passthrough!, pp!, dns!);
      const app = await stack.backends.add('app');
      const local = (b: L4Backend) => ({ host: '127.0.0.1', port: b.port });
      const applied = await config.apply({
        name: 'l4',
        services: [{ name: 'app', host: '127.0.0.1' }],
        domains: [
          {
            domain: 'l4.test',
            ssl: false,
            routes: [
              { path: '/', service: 'app', targetPort: app.port },
              { path: '/admin', service: 'app', targetPort: app.port, entryPoints: ['internal'] },
            ],
          },
          { domain: 'ops.l4.test', ssl: false, entryPoints: ['internal'], routes: [{ path: '/', service: 'app', targetPort: app.port }] },
          // With TLS: an internal-only domain gets no redirect on web; a public one keeps it.
          { domain: 'vault.l4.test', entryPoints: ['internal'], routes: [{ path: '/', service: 'app', targetPort: app.port }] },
          {
            domain: 'pub.l4.test',
            routes: [
              { path: '/', service: 'app', targetPort: app.port },
              { path: '/admin', service: 'app', targetPort: app.port, entryPoints: ['internal'] },
            ],
          },
        ],
        tcp: [
          { name: 'db', entryPoint: 'sni', sni: 'db.l4.test', tls: 'terminate', servers: [local(one!), local(two!)] },
          { name: 'mqtt', entryPoint: 'mqtts', sni: 'secure.shop.example', tls: 'passthrough', servers: [local(passthrough!)] },
          { name: 'any', entryPoint: 'plain', sni: '*', servers: [local(pp!)], proxyProtocol: 2 },
        ],
        udp: [{ name: 'dns', entryPoint: 'dns', servers: [local(dns!)] }],
      });
      await config.waitForSync(applied.projectId);
      expect(traefikErrors(await waitForDisk(stack))).toEqual([]);
      // waitForDisk compares HTTP objects: wait for Traefik's TCP and UDP routers too.
      const enabled = async (kind: 'tcp' | 'udp') =>
        (await stack.traefik.api<TraefikRouter[]>(`/api/${kind}/routers`)).filter((r) => r.name.startsWith('l4_') && r.status === 'enabled')
          .length;
      await waitFor(async () => (await enabled('tcp')) === 3 && (await enabled('udp')) === 1, 15_000);
    }, 90_000);
    afterAll(async () => {
      await stack?.stop();
      await Promise.all(backends.map((b) => b.close()));
    });

    it('reaches a TCP echo by SNI over TLS that Traefik terminates, balanced over both servers', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const answer = await tcpAsk(ep('sni'), `ping${i}`, 'db.l4.test');
        expect(answer.text).toMatch(new RegExp(`^(one|two):ping${i}$`));
        // Traefik's own certificate, not a backend's: the TLS ends at Traefik.
        expect(answer.cert?.subject?.CN).toBe('TRAEFIK DEFAULT CERT');
        seen.add(answer.text.split(':')[0]!);
      }
      expect([...seen].sort()).toEqual(['one', 'two']);
    });

    it('does not route another server name on that entry point: Traefik’s HTTPS handler answers it, with a 404', async () => {
      // Not an echo: the connection went to Traefik's HTTPS handler, which has no route for it.
      const answer = await tcpAsk(ep('sni'), 'GET / HTTP/1.0\r\nHost: other.l4.test\r\n\r\n', 'other.l4.test');
      expect(answer.text).toMatch(/^HTTP\/1\.[01] 404 /);
    });

    it('passes TLS through: the client sees the backend’s own certificate and its echo', async () => {
      const answer = await tcpAsk(ep('mqtts'), 'hello', 'secure.shop.example');
      expect(answer.text).toBe('own-cert:hello');
      expect(answer.cert?.fingerprint256).toBe(fingerprint(BACKEND_CERT));
    });

    it('a catch-all on its own entry point sends PROXY protocol v2 naming the client', async () => {
      const answer = await tcpAsk(ep('plain'), 'x');
      expect(answer.text).toBe('pp2 127.0.0.1');
    });

    it('answers a UDP datagram from the UDP echo', async () => {
      expect(await udpAsk(ep('dns'), 'query')).toBe('dns:query');
    });

    it('the http→https redirect: kept for a domain on websecure, none for an internal-only one', async () => {
      const pub = await stack.request({ host: 'pub.l4.test', path: '/admin' });
      expect([pub.status, pub.headers.location]).toEqual([301, 'https://pub.l4.test/admin']);
      expect((await stack.request({ host: 'pub.l4.test', tls: true })).status).toBe(200);
      expect((await request(ep('internal'), { host: 'pub.l4.test', path: '/admin', tls: true })).status).toBe(200);
      expect((await stack.request({ host: 'vault.l4.test' })).status).toBe(404);
      expect((await stack.request({ host: 'vault.l4.test', tls: true })).status).toBe(404);
      expect((await request(ep('internal'), { host: 'vault.l4.test', tls: true })).status).toBe(200);
    });

    it('a route on the internal entry point answers there, not on web', async () => {
      expect((await request(ep('internal'), { host: 'l4.test', path: '/admin' })).status).toBe(200);
      expect((await request(ep('internal'), { host: 'ops.l4.test' })).status).toBe(200);
      expect((await stack.request({ host: 'l4.test', path: '/' })).status).toBe(200);
      expect((await stack.request({ host: 'ops.l4.test' })).status).toBe(404);
      // The domain's other route stays on web only.
      expect((await request(ep('internal'), { host: 'l4.test', path: '/' })).status).toBe(404);
    });
  });
}
