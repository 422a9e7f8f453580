/**
 * Wildcard domains through a real Traefik, with examples/wildcard as the user would apply it:
 * its TRAEFIK_STATIC_FILE defines the DNS-01 resolver (the CA a closed loopback port, so no
 * certificate is ever requested), the spec's wildcard host reaches its backend while an exact
 * host of the same domain goes elsewhere, a name two labels deep and the apex are not routed, and
 * a second project claiming the wildcard is refused while Traefik keeps serving the first.
 * Against the newest and the oldest Traefik tested (Traefik 3.0 has no `Host(`*.…`)`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ValidationError } from '../../src/config-service/errors.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { loadConfig } from '../../src/config.js';
import { tempDir } from '../helpers/temp-dir.js';
import { traefikForSuite } from '../helpers/traefik.js';
import type { Backend } from './backends.js';
import { startStack, traefikErrors, waitForDisk, type Stack } from './stack.js';

const EXAMPLE = new URL('../../examples/wildcard/', import.meta.url);
type Spec = { name: string; services: Array<{ name: string; host?: string }>; domains: Array<Record<string, any>> };
const exampleSpec = () => parse(readFileSync(new URL('wildcard.yaml', EXAMPLE), 'utf8')) as Spec;
const exampleStatic = () =>
  parse(readFileSync(new URL('traefik-static.yml', EXAMPLE), 'utf8')) as {
    certificatesResolvers: Record<string, { acme: Record<string, unknown> }>;
  };

for (const which of ['newest', 'oldest'] as const) {
  const binary = traefikForSuite(which);
  describe.skipIf(!binary)(`wildcard domains in Traefik ${binary?.version ?? which}`, () => {
    let stack: Stack;
    let config: TraefikConfigService;
    const b: Record<string, Backend> = {};
    const seen = async (host: string, tls = true) => {
      const r = await stack.request({ host, path: '/x', tls });
      return r.seen?.backend ?? r.status;
    };

    beforeAll(async () => {
      const acme = await tempDir('tsync-acme-dns-');
      const resolvers = exampleStatic().certificatesResolvers;
      for (const [name, r] of Object.entries(resolvers)) {
        r.acme.caServer = 'https://127.0.0.1:9/directory';
        r.acme.storage = path.join(acme, `${name}.json`);
      }
      stack = await startStack(binary!, { overlay: { certificatesResolvers: resolvers } });
      // The config service checks resolvers against the same static settings as the controller.
      config = new TraefikConfigService(stack.t.db, {
        actor: 'wildcard-e2e',
        configDir: stack.root,
        traefikStatic: loadConfig(stack.flags, {}).traefikStatic,
        allowedInternalTargets: stack.config.render.allowedInternalTargets,
      });
      for (const n of ['app', 'site']) b[n] = await stack.backends.add(n);
      const spec = exampleSpec();
      spec.services = spec.services.map((s) => ({ name: s.name, host: '127.0.0.1' }));
      for (const d of spec.domains) for (const r of d.routes) r.targetPort = b[r.service]!.port;
      await config.waitForSync((await config.apply(spec)).projectId);
      await waitForDisk(stack);
    }, 90_000);
    afterAll(async () => stack?.stop());

    it('loads the wildcard router with its DNS-01 resolver and tls.domains, without an error', async () => {
      const raw = await waitForDisk(stack);
      expect(traefikErrors(raw)).toEqual([]);
      const wild = Object.values(raw.routers ?? {}).find((r) => String(r.rule).startsWith('HostRegexp'));
      expect(wild?.tls).toEqual({ certResolver: 'dns', domains: [{ main: '*.tenants.example.com', sans: ['tenants.example.com'] }] });
    });

    it('a one-label name goes to the wildcard, the exact host of the same domain elsewhere; deeper names and the apex are not routed', async () => {
      expect(await seen('acme.tenants.example.com')).toBe('app');
      expect(await seen('Other-1.Tenants.Example.com')).toBe('app');
      expect(await seen('www.tenants.example.com')).toBe('site');
      expect(await seen('a.b.tenants.example.com')).toBe(404);
      expect(await seen('tenants.example.com')).toBe(404);
      expect(await seen('acmeXtenants.example.com')).toBe(404);
      // Plain http on the wildcard redirects to https on the same host.
      const r = await stack.request({ host: 'acme.tenants.example.com', path: '/p' });
      expect([301, 308]).toContain(r.status);
      expect(r.headers.location).toBe('https://acme.tenants.example.com/p');
    });

    it('a second project claiming the wildcard is refused at domains[0].domain, and Traefik keeps routing it to the first', async () => {
      const other = exampleSpec();
      other.name = 'squatter';
      other.domains = [other.domains[0]!];
      other.services = [{ name: 'app', host: '127.0.0.1' }];
      other.domains[0]!.routes[0].targetPort = b.site!.port;
      const err = await config.apply(other).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues.map((i) => i.path)).toEqual(['domains[0].domain']);
      expect(await seen('acme.tenants.example.com')).toBe('app');
    });
  });
}
