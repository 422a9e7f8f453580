/**
 * Wildcard domains in the renderer: the rule (a one-label HostRegexp Traefik 3.0 reads), the
 * priority band that lets an exact host of the same domain win, `tls.domains` for the resolver,
 * DNS-01 resolvers recognised from TRAEFIK_STATIC_FILE, and the static config they produce.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Domain, ProjectState, Route } from '../../src/model.js';
import { renderProject } from '../../src/render/project.js';
import { renderStatic } from '../../src/render/static.js';
import { staticFacts, type StaticFacts } from '../../src/render/static-facts.js';
import { DEFAULT_STATIC_SETTINGS, type StaticSettings } from '../../src/render/static-settings.js';
import { DNS_SETTINGS } from '../helpers/dns-resolver.js';

const SERVICE = '21111111-1111-4111-8111-111111111111';

function route(id: string, r: Partial<Route> = {}): Route {
  return {
    id,
    serviceId: SERVICE,
    pathRule: '/',
    priority: 1,
    middleware: null,
    targetPort: 8080,
    targetUrl: null,
    healthCheck: null,
    isActive: true,
    ...r,
  };
}

function domain(id: string, full: string, d: Partial<Domain> = {}): Domain {
  return {
    id,
    domain: full,
    subdomain: null,
    fullDomain: full,
    sslEnabled: true,
    sslProvider: null,
    isActive: true,
    certificate: null,
    routes: [route(`4${id.slice(1)}`)],
    ...d,
  };
}

function project(domains: Domain[]): ProjectState {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    name: 'wild',
    version: 1,
    changedAt: null,
    services: [{ id: SERVICE, name: 'web', host: null }],
    domains,
  };
}

const SETTINGS: StaticSettings = DNS_SETTINGS;
const FACTS: StaticFacts = staticFacts(SETTINGS);

const render = (domains: Domain[], facts: StaticFacts = FACTS) => renderProject(project(domains), { configDir: '/cfg', static: facts });
const routers = (r: ReturnType<typeof render>) =>
  Object.fromEntries([...r.documents.values()].flatMap((d) => Object.entries(d.http?.routers ?? {})));

describe('wildcard domains', () => {
  it('render a one-label HostRegexp below the exact hosts of the same priority, with tls.domains for the DNS-01 resolver', () => {
    const r = render([
      domain('31111111-1111-4111-8111-111111111111', '*.example.com', { sslProvider: 'dns', tlsSans: ['example.com'] }),
      domain('32222222-2222-4222-8222-222222222222', 'www.example.com', { sslProvider: 'le' }),
    ]);
    expect(r.problems).toEqual([]);
    const all = routers(r);
    const wild = all['wild_web_411111111111']!;
    const exact = all['wild_web_422222222222']!;
    expect(wild.rule).toBe('HostRegexp(`^[a-z0-9-]+\\.example\\.com$`)');
    expect(wild.tls).toEqual({ certResolver: 'dns', domains: [{ main: '*.example.com', sans: ['example.com'] }] });
    expect(exact.rule).toBe('Host(`www.example.com`)');
    expect(exact.tls).toEqual({ certResolver: 'le' });
    expect(exact.priority as number).toBeGreaterThan(wild.priority as number);
    // Still above every exact route one priority lower, even one with a long path.
    expect(wild.priority as number).toBeGreaterThan(0 * 10_000 + 1024);
    // The redirect router on web uses the same HostRegexp.
    expect(all['wild_redirect_311111111111']!.rule).toBe(wild.rule);
  });

  it('an exact host with SANs requests them with its own name as main', () => {
    const r = render([domain('31111111-1111-4111-8111-111111111111', 'example.com', { sslProvider: 'le', tlsSans: ['www.example.com'] })]);
    expect(r.problems).toEqual([]);
    expect(routers(r)['wild_web_411111111111']!.tls).toEqual({
      certResolver: 'le',
      domains: [{ main: 'example.com', sans: ['www.example.com'] }],
    });
  });

  it('is refused with a resolver TRAEFIK_STATIC_FILE does not define with a DNS challenge', () => {
    const undefinedResolver = render([domain('31111111-1111-4111-8111-111111111111', '*.example.com', { sslProvider: 'letsencrypt' })]);
    expect(undefinedResolver.files).toEqual([]);
    expect(undefinedResolver.problems).toEqual([
      'domain "*.example.com": ssl_provider: the wildcard "*.example.com" needs a DNS-01 resolver, and TRAEFIK_STATIC_FILE /etc/traefik-sync/static.yml does not define it (certificatesResolvers.letsencrypt.acme.dnsChallenge; DNS-01 resolvers defined: dns)',
    ]);
    const http01 = render([
      domain('31111111-1111-4111-8111-111111111111', 'example.com', { sslProvider: 'le', tlsSans: ['*.example.com'] }),
    ]);
    expect(http01.problems[0]).toMatch(/the wildcard "\*\.example\.com" needs a DNS-01 resolver, .* defines it without a DNS challenge/);
    const noOverlay = render(
      [domain('31111111-1111-4111-8111-111111111111', '*.example.com', { sslProvider: 'dns' })],
      staticFacts(DEFAULT_STATIC_SETTINGS),
    );
    expect(noOverlay.problems[0]).toMatch(/TRAEFIK_STATIC_FILE \(not set\) does not define it .*DNS-01 resolvers defined: none/);
  });

  it('without an ACME resolver it takes the default or a custom certificate, and SANs are refused', () => {
    expect(render([domain('31111111-1111-4111-8111-111111111111', '*.example.com')]).problems).toEqual([]);
    const sans = render([domain('31111111-1111-4111-8111-111111111111', '*.example.com', { tlsSans: ['example.com'] })]);
    expect(sans.problems).toEqual([
      'domain "*.example.com": tls_sans: names on a certificate request need an ACME resolver as ssl_provider, got null',
    ]);
  });

  it('refuses a wildcard anywhere but the whole leftmost label, and priority 0', () => {
    for (const bad of ['a.*.example.com', '*a.example.com', '*.com']) {
      expect(render([domain('31111111-1111-4111-8111-111111111111', bad)]).problems[0]).toMatch(/^domain ".*": full_domain: a wildcard/);
    }
    const zero = render([
      domain('31111111-1111-4111-8111-111111111111', '*.example.com', {
        routes: [route('41111111-1111-4111-8111-111111111111', { priority: 0 })],
      }),
    ]);
    expect(zero.problems).toEqual([
      'route "*.example.com/": priority must be at least 1 on a wildcard domain (at 0 its routes could not rank below exact hosts), got 0',
    ]);
  });

  it('a custom wildcard certificate is written under a file name without "*"', () => {
    const r = render([
      domain('31111111-1111-4111-8111-111111111111', '*.example.com', {
        sslProvider: 'custom',
        certificate: { id: '51111111-1111-4111-8111-111111111111', certPem: 'CERT', keyPem: 'KEY', notAfter: null },
      }),
    ]);
    expect(r.problems).toEqual([]);
    expect(r.files.map((f) => f.path).filter((p) => p.startsWith('ssl/'))).toEqual([
      'ssl/certs/_wildcard.example.com.crt',
      'ssl/keys/_wildcard.example.com.key',
    ]);
  });
});

describe('resolvers in the static config', () => {
  it("the operator's resolvers keep their challenge and get a storage file; names only in use are HTTP-01", () => {
    const file = renderStatic({ ...SETTINGS, configDir: '/cfg', resolvers: ['dns', 'letsencrypt'] });
    const doc = parse(file.content) as { certificatesResolvers: Record<string, { acme: Record<string, unknown> }> };
    expect(doc.certificatesResolvers.dns!.acme).toEqual({
      email: 'ops@example.com',
      storage: '/var/lib/traefik/acme-dns.json',
      dnsChallenge: { provider: 'cloudflare' },
    });
    expect(doc.certificatesResolvers.le!.acme).toEqual({
      email: 'ops@example.com',
      storage: '/var/lib/traefik/acme-le.json',
      httpChallenge: { entryPoint: 'web' },
    });
    expect(doc.certificatesResolvers.letsencrypt!.acme).toEqual({
      storage: '/var/lib/traefik/acme-letsencrypt.json',
      httpChallenge: { entryPoint: 'web' },
    });
  });
});
