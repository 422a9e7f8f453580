/**
 * Backend transports and TLS options per domain, as a client sees them through a real Traefik
 * (docs/spec-format.md "Backend transport", "TLS options"): an HTTPS upstream with a CA of its
 * own reached by its serverName (and not reached without the CA), an upstream that requires a
 * client certificate reached with the route's, insecureSkipVerify reported by apply, an h2c
 * upstream spoken to in HTTP/2; a domain whose minimum is TLS 1.3 refusing a TLS 1.2 client, and
 * a domain refusing a client without a certificate of its CA while accepting one with it. The
 * client key is written 0600 under ssl/keys/. Against the newest and the oldest Traefik.
 */
import { stat } from 'node:fs/promises';
import { createServer as createH2cServer } from 'node:http2';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSpecFile } from '../../src/config-service/spec.js';
import { traefikForSuite } from '../helpers/traefik.js';
import { peerCertificate } from './backends.js';
import { ourObjects, providerErrors, traefikErrors, waitForDisk, type Stack, startStack } from './stack.js';
import { makeCa, signed, type Pair } from '../helpers/tls-certs.js';

type Closer = () => Promise<void>;

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/backend-tls/backend-tls.yaml', import.meta.url));

/** An HTTPS backend answering `{backend, client}` (the CN of the client certificate, if any). */
async function httpsBackend(name: string, server: Pair, clientCa?: string): Promise<{ port: number; close: Closer }> {
  const s = createHttpsServer(
    { cert: server.cert, key: server.key, ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: true } : {}) },
    (req, res) => {
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate?.();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ backend: name, client: peer?.subject?.CN ?? null }));
    },
  );
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    port: (s.address() as AddressInfo).port,
    close: () =>
      new Promise((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  };
}

/** An h2c backend (HTTP/2 without TLS) answering `{backend, httpVersion}`. */
async function h2cBackend(): Promise<{ port: number; close: Closer }> {
  const s = createH2cServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ backend: 'h2c', httpVersion: req.httpVersion }));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { port: (s.address() as AddressInfo).port, close: () => new Promise((r) => s.close(() => r())) };
}

/** A request to Traefik's websecure entry point with TLS settings of the client's own. */
function tlsGet(
  stack: Stack,
  host: string,
  o: { maxVersion?: 'TLSv1.2' | 'TLSv1.3'; cert?: string; key?: string } = {},
): Promise<{ status: number; body: string }> {
  const address = stack.traefik.entryPoints.websecure!;
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        hostname: '127.0.0.1',
        port,
        path: '/',
        headers: { host },
        servername: host,
        rejectUnauthorized: false,
        agent: false,
        timeout: 10_000,
        ...o,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** A plain-HTTP domain whose one route goes to https://127.0.0.1:`port` with `transport`. */
function httpsDomain(domain: string, port: number, transport: Record<string, unknown>) {
  return {
    domain,
    ssl: false,
    routes: [{ path: '/', service: 'app', targetPort: port, targetUrl: `https://127.0.0.1:${port}`, transport }],
  };
}

for (const which of ['newest', 'oldest'] as const) {
  const binary = traefikForSuite(which);
  describe.skipIf(!binary)(`backend TLS and TLS options in Traefik ${binary?.version ?? which}`, () => {
    let stack: Stack;
    let errors: string[] = [];
    let warnings: string[] = [];
    const closers: Closer[] = [];
    let clientCert: Pair;
    let strangerCert: Pair;

    beforeAll(async () => {
      stack = await startStack(binary!);
      const backendCa = await makeCa('backend test CA');
      const served = await signed(backendCa, 'backend', 'backend.internal', { dns: 'backend.internal' });
      const upstreamClientCa = await makeCa('upstream client CA');
      const routeClient = await signed(upstreamClientCa, 'route-client', 'traefik-route', 'client');
      const userCa = await makeCa('user client CA');
      clientCert = await signed(userCa, 'alice', 'alice', 'client');
      strangerCert = await signed(await makeCa('stranger CA'), 'mallory', 'mallory', 'client');

      const plain = await httpsBackend('own-ca', served);
      const mtls = await httpsBackend('mtls', served, upstreamClientCa.cert);
      const h2c = await h2cBackend();
      const echo = await stack.backends.add('echo');
      closers.push(plain.close, mtls.close, h2c.close);

      const applied = await stack.config.apply({
        name: 'btls',
        services: [{ name: 'app', host: '127.0.0.1' }],
        domains: [
          httpsDomain('own-ca.test', plain.port, { serverName: 'backend.internal', caFile: backendCa.certFile }),
          httpsDomain('no-ca.test', plain.port, { serverName: 'backend.internal' }),
          httpsDomain('mtls.test', mtls.port, {
            serverName: 'backend.internal',
            ca: backendCa.cert,
            clientCertificate: { certFile: routeClient.certFile, keyFile: routeClient.keyFile },
          }),
          httpsDomain('no-client-cert.test', mtls.port, { serverName: 'backend.internal', ca: backendCa.cert }),
          httpsDomain('insecure.test', plain.port, { insecureSkipVerify: true }),
          {
            domain: 'h2c.test',
            ssl: false,
            routes: [{ path: '/', service: 'app', targetPort: h2c.port, targetUrl: `h2c://127.0.0.1:${h2c.port}` }],
          },
          {
            domain: 'tls13.test',
            tlsOptions: { minVersion: 'VersionTLS13' },
            routes: [{ path: '/', service: 'app', targetPort: echo.port }],
          },
          {
            domain: 'tls12.test',
            tlsOptions: {
              minVersion: 'VersionTLS12',
              cipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'],
            },
            routes: [{ path: '/', service: 'app', targetPort: echo.port }],
          },
          {
            domain: 'secure.shop.example',
            provider: 'custom',
            certificate: {
              certFile: path.join(FIXTURES, 'secure.shop.example.crt'),
              keyFile: path.join(FIXTURES, 'secure.shop.example.key'),
            },
            defaultCertificate: true,
            routes: [{ path: '/', service: 'app', targetPort: echo.port }],
          },
          { domain: 'strict.test', tlsOptions: { sniStrict: true }, routes: [{ path: '/', service: 'app', targetPort: echo.port }] },
          {
            domain: 'members.test',
            tlsOptions: { clientAuth: { caFile: userCa.certFile, mode: 'RequireAndVerifyClientCert' } },
            routes: [{ path: '/', service: 'app', targetPort: echo.port }],
          },
        ],
      });
      warnings = applied.warnings ?? [];
      await stack.config.waitForSync(applied.projectId);
      // examples/backend-tls as a user applies it (files relative to the spec).
      const [example] = await stack.config.applyProjects([await loadSpecFile(EXAMPLE)]);
      await stack.config.waitForSync(example!.projectId);
      errors = [...traefikErrors(await waitForDisk(stack)), ...providerErrors(stack.traefik)];
    }, 90_000);
    afterAll(async () => {
      await stack?.stop();
      for (const c of closers) await c();
    });

    it('loads everything, examples/backend-tls included, without an error', async () => {
      expect(errors).toEqual([]);
      const raw = await waitForDisk(stack);
      expect(ourObjects(raw, 'ledger_').filter((o) => o.kind === 'services').length).toBe(3);
    });

    it('reaches an HTTPS upstream through the CA and serverName of the route, and not without the CA', async () => {
      const ok = await stack.request({ host: 'own-ca.test' });
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body)).toMatchObject({ backend: 'own-ca' });
      // The system's CAs do not know the backend's: Traefik refuses to talk to it.
      expect((await stack.request({ host: 'no-ca.test' })).status).toBe(500);
    });

    it('presents the route client certificate to an upstream that requires one', async () => {
      const ok = await stack.request({ host: 'mtls.test' });
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body)).toMatchObject({ backend: 'mtls', client: 'traefik-route' });
      expect((await stack.request({ host: 'no-client-cert.test' })).status).toBeGreaterThanOrEqual(500);
      // The client key is a 0600 file under ssl/keys/, never beside the certificates.
      const keys = await import('node:fs/promises').then((fs) => fs.readdir(path.join(stack.root, 'ssl/keys')));
      const key = keys.find((k) => k.endsWith('-client.key'));
      expect(key).toBeDefined();
      expect((await stat(path.join(stack.root, 'ssl/keys', key!))).mode & 0o777).toBe(0o600);
    });

    it('skips verification only where asked, and apply says so', async () => {
      const r = await stack.request({ host: 'insecure.test' });
      expect(r.status).toBe(200);
      expect(warnings).toEqual([
        expect.stringMatching(/^domains\[4\]\.routes\[0\]\.transport\.insecureSkipVerify: insecure\.test\/: .*not verified/),
      ]);
      // The controller's status says it too, on the project (GET /api/v1/status).
      const status = (await stack.sidecar.get('/api/v1/status')).json();
      const btls = Object.values(status.projects as Record<string, { name: string; warnings?: string[] }>).find((p) => p.name === 'btls');
      expect(btls?.warnings).toEqual([`route "insecure.test/": transport.insecureSkipVerify: the upstream's certificate is not verified`]);
      const ledger = Object.values(status.projects as Record<string, { name: string; warnings?: string[] }>).find(
        (p) => p.name === 'ledger',
      );
      expect(ledger).toBeDefined();
      expect(ledger!.warnings).toBeUndefined();
    });

    it('speaks HTTP/2 without TLS to an h2c upstream', async () => {
      const r = await stack.request({ host: 'h2c.test' });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ backend: 'h2c', httpVersion: '2.0' });
    });

    it('refuses a TLS 1.2 client on a domain whose minimum is TLS 1.3, and serves TLS 1.3', async () => {
      await expect(tlsGet(stack, 'tls13.test', { maxVersion: 'TLSv1.2' })).rejects.toThrow(/version|alert|socket|ECONNRESET/i);
      expect((await tlsGet(stack, 'tls13.test')).status).toBe(200);
      // Another domain keeps TLS 1.2: the option is the host's own.
      expect((await tlsGet(stack, 'tls12.test', { maxVersion: 'TLSv1.2' })).status).toBe(200);
    });

    it('refuses a client without a certificate of the domain CA, and accepts one with it', async () => {
      await expect(tlsGet(stack, 'members.test')).rejects.toThrow();
      await expect(tlsGet(stack, 'members.test', { cert: strangerCert.cert, key: strangerCert.key })).rejects.toThrow();
      const ok = await tlsGet(stack, 'members.test', { cert: clientCert.cert, key: clientCert.key });
      expect(ok.status).toBe(200);
      // A host without client authentication does not ask for a certificate.
      expect((await tlsGet(stack, 'tls12.test')).status).toBe(200);
    });

    it('serves the default certificate to a name without one, and sniStrict refuses that name instead', async () => {
      const served = await peerCertificate(stack.traefik.entryPoints.websecure!, 'nobody.test');
      expect(served.subject.CN).toBe('secure.shop.example');
      // tls12.test has no certificate of its own: the default one answers it.
      expect((await tlsGet(stack, 'tls12.test')).status).toBe(200);
      await expect(tlsGet(stack, 'strict.test')).rejects.toThrow();
    });
  });
}
