/**
 * Backend transports and TLS options through the config service (docs/spec-format.md "Backend
 * transport", "TLS options"): apply → export → apply changes nothing; the client key is written
 * 0600 and is never in the audit log, the export, a diff or history; rollback restores a
 * transport with its key; the database refuses invalid rows written by hand; hostile variants
 * are refused with the field named and nothing written.
 */
import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ValidationError } from '../../src/config-service/errors.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { sql } from '../../src/db/connect.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { tempDir } from '../helpers/temp-dir.js';
import { makeCa, signed, type Pair } from '../helpers/tls-certs.js';
import { rowCounts } from './helpers.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

let t: TestDatabase;
let svc: TraefikConfigService;
let ca: Pair & { dir: string };
let client: Pair;
let other: Pair;
let junk: string;

type Spec = Record<string, any>;

/** A project with a transport (CA, serverName, client certificate) and a domain with TLS options and the default certificate. */
function tlsSpec(name = 'btls'): Spec {
  return {
    name,
    services: [{ name: 'api', host: 'api.btls.internal' }],
    domains: [
      {
        domain: `${name}.example.org`,
        provider: 'letsencrypt',
        routes: [
          {
            path: '/',
            service: 'api',
            targetPort: 8443,
            targetUrl: 'https://api.btls.internal:8443',
            transport: {
              serverName: 'api.btls.internal',
              caFile: ca.certFile,
              clientCertificate: { certFile: client.certFile, keyFile: client.keyFile },
            },
          },
        ],
      },
      {
        domain: 'secure.shop.example',
        provider: 'custom',
        certificate: { certFile: path.join(FIXTURES, 'secure.shop.example.crt'), keyFile: path.join(FIXTURES, 'secure.shop.example.key') },
        defaultCertificate: true,
        tlsOptions: {
          minVersion: 'VersionTLS12',
          cipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'],
          sniStrict: true,
          clientAuth: { ca: ca.cert, mode: 'RequireAndVerifyClientCert' },
        },
        routes: [{ path: '/', service: 'api', targetPort: 8080 }],
      },
    ],
  };
}

beforeAll(async () => {
  t = await createTestDatabase();
  svc = new TraefikConfigService(t.db, { actor: 'backend-tls', configDir: '/cfg' });
  ca = await makeCa('btls CA');
  client = await signed(ca, 'client', 'btls-client', 'client');
  other = await signed(ca, 'other', 'btls-other', 'client');
  junk = path.join(ca.dir, 'junk.crt');
  await writeFile(junk, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
}, 60_000);
afterAll(async () => {
  await t?.drop();
});

describe('backend transport and TLS options', () => {
  it('apply → export → apply changes nothing; the key is in no export, audit row or history line', async () => {
    const first = await svc.apply(tlsSpec());
    expect(first.changes.length).toBeGreaterThan(0);
    const exported = await svc.exportSpec('btls');
    expect(exported.yaml).not.toMatch(/PRIVATE KEY/);
    const spec = parse(exported.yaml);
    expect(spec.domains[0].routes[0].transport).toEqual({
      serverName: 'api.btls.internal',
      ca: ca.cert,
      clientCertificate: { fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
    });
    expect(spec.domains[1]).toMatchObject({ defaultCertificate: true, tlsOptions: tlsSpec().domains[1].tlsOptions });
    const again = await svc.apply(spec);
    expect(again.changes).toEqual([]);

    // The service API shows the route's transport, never its client key.
    const project = await svc.getProjectConfigs(first.projectId);
    expect(JSON.stringify(project)).not.toMatch(/PRIVATE KEY/);
    expect(JSON.stringify(project)).toMatch(/serverName/);
    const [audit] = await t.db.query(
      sql`SELECT count(*)::int AS n FROM audit_log WHERE old_row::text ~ 'PRIVATE KEY' OR new_row::text ~ 'PRIVATE KEY'`,
    );
    expect(audit!.n).toBe(0);
    const history = await svc.history('btls');
    const lines = history.entries.map((e) => e.summary).join('\n');
    expect(lines).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
  });

  it('renders the key 0600 under ssl/keys, one TLS option used by every TLS router of the host, and the default store', async () => {
    const preview = await svc.preview('btls');
    const files = new Map(preview.files.map((f) => [f.path, f]));
    // The client key goes where the file API never serves (its 0600 mode: test/traefik/backend-tls.test.ts).
    expect([...files.keys()].filter((f) => f.endsWith('-client.key'))).toEqual([
      expect.stringMatching(/^ssl\/keys\/btls_api_[0-9a-f]{12}_transport-client\.key$/),
    ]);
    const keyPath = [...files.keys()].find((f) => f.endsWith('-client.key'))!;
    expect(files.get(keyPath)!.content).not.toMatch(/PRIVATE KEY/);
    const domains = parse(files.get('dynamic/btls/domains.yml')!.content);
    const [option] = Object.keys(domains.tls.options);
    expect(domains.tls.options[option!]).toMatchObject({
      minVersion: 'VersionTLS12',
      sniStrict: true,
      clientAuth: { clientAuthType: 'RequireAndVerifyClientCert' },
    });
    expect(domains.tls.stores.default.defaultCertificate.certFile).toBe('/cfg/ssl/certs/secure.shop.example.crt');
    const api = parse(files.get('dynamic/btls/services/api.yml')!.content);
    const tlsRouters = Object.values(api.http.routers as Record<string, any>).filter((r) => r.tls);
    expect(tlsRouters.filter((r) => r.rule.includes('secure.shop.example')).every((r) => r.tls.options === option)).toBe(true);
    const [lb] = Object.values(api.http.services as Record<string, any>).filter((s) => s.loadBalancer.serversTransport);
    expect(api.http.serversTransports[lb.loadBalancer.serversTransport]).toMatchObject({ serverName: 'api.btls.internal' });
  });

  it('export --cert-dir writes the client certificate and key (0600) and apply takes them back unchanged', async () => {
    const dir = await tempDir('tsync-btls-export-');
    const out = await svc.exportSpec('btls', { certDir: path.join(dir, 'certs'), specDir: dir });
    const keyFile = out.files.find((f) => f.endsWith('-client.key'))!;
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(await readFile(keyFile, 'utf8')).toBe(client.key);
    expect((await svc.apply(parse(out.yaml), { baseDir: dir })).changes).toEqual([]);
  });

  it('diffs show certificates by fingerprint; rollback restores the transport with its key', async () => {
    const before = (await svc.history('btls', { limit: 1 })).entries[0]!.id;
    const spec = tlsSpec();
    spec.domains[0].routes[0].transport.serverName = 'api2.btls.internal';
    spec.domains[0].routes[0].transport.clientCertificate = { certFile: other.certFile, keyFile: other.keyFile };
    const r = await svc.apply(spec, { dryRun: true });
    const text = JSON.stringify(r.changes);
    expect(text).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
    expect(text).toMatch(/\(certificate sha256:[0-9a-f]{64}\)/);
    expect(text).toMatch(/\(private key\)/);
    await svc.apply(spec);
    // The old client certificate's key is not in the audit log: rollback refuses, unless told to keep the current one.
    await expect(svc.rollback('btls', String(before))).rejects.toThrow(/client certificate .*private keys are never stored/);
    const kept = await svc.rollback('btls', String(before), { skipCertificates: true });
    expect(kept.notes.join('\n')).toMatch(/was not restored/);
    const [row] = await t.db.query(sql`SELECT transport->>'serverName' AS sn, key_pem FROM route_configs WHERE transport IS NOT NULL`);
    expect(row).toEqual({ sn: 'api2.btls.internal', key_pem: other.key });
    // Same client certificate at both points: the key comes from the stored row.
    const point = (await svc.history('btls', { limit: 1 })).entries[0]!.id;
    spec.domains[0].routes[0].transport.serverName = 'api3.btls.internal';
    await svc.apply(spec);
    await svc.rollback('btls', String(point));
    const [back] = await t.db.query(sql`SELECT transport->>'serverName' AS sn, key_pem FROM route_configs WHERE transport IS NOT NULL`);
    expect(back).toEqual({ sn: 'api2.btls.internal', key_pem: other.key });
  });

  it('the database refuses invalid rows written by hand', async () => {
    const [route] = await t.db.query(sql`SELECT id FROM route_configs WHERE transport IS NOT NULL`);
    const bad = [
      sql`UPDATE route_configs SET transport = '{"insecureSkipVerify": true, "ca": "-----BEGIN CERTIFICATE-----"}' WHERE id = ${route!.id}`,
      sql`UPDATE route_configs SET key_pem = NULL WHERE id = ${route!.id}`,
      sql`UPDATE route_configs SET transport = '{"serverName": "Not A Host"}', key_pem = NULL WHERE id = ${route!.id}`,
      sql`UPDATE domain_configs SET tls_options = '{"minVersion": "VersionTLS14"}' WHERE full_domain = 'secure.shop.example'`,
      sql`UPDATE domain_configs SET tls_options = '{"cipherSuites": ["TLS_NOT_A_SUITE"]}' WHERE full_domain = 'secure.shop.example'`,
      sql`UPDATE domain_configs SET tls_options = '{"clientAuth": {"mode": "RequireAndVerifyClientCert"}}' WHERE full_domain = 'secure.shop.example'`,
      sql`UPDATE domain_configs SET default_certificate = true WHERE full_domain = 'btls.example.org'`,
    ];
    for (const q of bad) await expect(t.db.query(q)).rejects.toMatchObject({ code: '23514' });
  });
});

/** A hostile variant: how to spoil the spec, the field its error must name, and what it says. */
interface Case {
  readonly name: string;
  readonly mutate: (s: Spec) => void;
  readonly field: string;
  readonly says: RegExp;
}

const HOSTILE: Case[] = [
  {
    name: 'a CA that is not a certificate',
    mutate: (s) => (s.domains[0].routes[0].transport.caFile = junk),
    field: 'domains[0].routes[0].transport.caFile',
    says: /does not parse as an X\.509 certificate/,
  },
  {
    name: 'a CA given inline that is not PEM',
    mutate: (s) => {
      delete s.domains[0].routes[0].transport.caFile;
      s.domains[0].routes[0].transport.ca = 'hello';
    },
    field: 'domains[0].routes[0].transport.ca',
    says: /expected a PEM certificate/,
  },
  {
    name: 'a client key that does not match its certificate',
    mutate: (s) => (s.domains[0].routes[0].transport.clientCertificate.keyFile = other.keyFile),
    field: 'domains[0].routes[0].transport.clientCertificate.keyFile',
    says: /does not belong to the certificate/,
  },
  {
    name: 'a CA with insecureSkipVerify',
    mutate: (s) => (s.domains[0].routes[0].transport.insecureSkipVerify = true),
    field: 'domains[0].routes[0].transport.caFile',
    says: /not with insecureSkipVerify/,
  },
  {
    name: 'a transport on a plain-http upstream',
    mutate: (s) => (s.domains[0].routes[0].targetUrl = 'http://api.btls.internal:8443'),
    field: 'domains[0].routes[0].transport.serverName',
    says: /needs an https:\/\/ upstream/,
  },
  {
    name: 'an unknown cipher suite',
    mutate: (s) => (s.domains[1].tlsOptions.cipherSuites = ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_RSA_WITH_ROT13']),
    field: 'domains[1].tlsOptions.cipherSuites[1]',
    says: /not a cipher suite Traefik knows/,
  },
  {
    name: 'an unknown TLS version',
    mutate: (s) => (s.domains[1].tlsOptions.minVersion = '1.3'),
    field: 'domains[1].tlsOptions.minVersion',
    says: /use "VersionTLS13"/,
  },
  {
    name: 'a maximum below the minimum',
    mutate: (s) => Object.assign(s.domains[1].tlsOptions, { minVersion: 'VersionTLS13', maxVersion: 'VersionTLS12' }),
    field: 'domains[1].tlsOptions.maxVersion',
    says: /below minVersion/,
  },
  {
    name: 'an unknown client auth mode',
    mutate: (s) => (s.domains[1].tlsOptions.clientAuth.mode = 'RequireEverything'),
    field: 'domains[1].tlsOptions.clientAuth.mode',
    says: /expected one of NoClientCert/,
  },
  {
    name: 'verifying client certificates without a CA',
    mutate: (s) => delete s.domains[1].tlsOptions.clientAuth.ca,
    field: 'domains[1].tlsOptions.clientAuth.ca',
    says: /is required with mode/,
  },
  {
    name: 'a client CA that is a private key',
    mutate: (s) => (s.domains[1].tlsOptions.clientAuth.ca = client.key),
    field: 'domains[1].tlsOptions.clientAuth.ca',
    says: /holds a private key block/,
  },
  {
    name: 'TLS options on a plain-http domain',
    mutate: (s) => Object.assign(s.domains[1], { ssl: false, provider: null, certificate: null, defaultCertificate: false }),
    field: 'domains[1].tlsOptions',
    says: /need ssl: true/,
  },
  {
    name: 'a default certificate without a certificate',
    mutate: (s) => (s.domains[0].defaultCertificate = true),
    field: 'domains[0].defaultCertificate',
    says: /provider "custom" and a certificate/,
  },
];

describe('hostile TLS specs', () => {
  for (const c of HOSTILE) {
    it(`refuses ${c.name}, naming ${c.field}, and writes nothing`, async () => {
      const spec = tlsSpec('hostile');
      spec.domains[1].domain = 'hostile-secure.example';
      delete spec.domains[1].certificate;
      spec.domains[1].provider = 'letsencrypt';
      spec.domains[1].defaultCertificate = false;
      c.mutate(spec);
      const before = await rowCounts(t.db);
      const err = await svc.apply(spec).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      const issues = (err as ValidationError).issues;
      expect(issues.map((i) => i.path)).toContain(c.field);
      expect(issues.find((i) => i.path === c.field)!.message).toMatch(c.says);
      expect(JSON.stringify(issues)).not.toMatch(/PRIVATE KEY/);
      expect(await rowCounts(t.db)).toEqual(before);
    });
  }

  it('refuses a second owner of the default certificate (another project), naming defaultCertificate', async () => {
    const before = await rowCounts(t.db);
    const spec = tlsSpec('second');
    spec.domains[1].domain = 'secure.shop.example';
    spec.domains.shift();
    // A domain of its own (the wildcard fixture covers it) claiming the default certificate too.
    spec.domains[0] = {
      domain: 'a.wild.test',
      provider: 'custom',
      certificate: { certFile: path.join(FIXTURES, 'wildcard.wild.test.crt'), keyFile: path.join(FIXTURES, 'wildcard.wild.test.key') },
      defaultCertificate: true,
      routes: [],
    };
    const err = await svc.apply(spec).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path)).toContain('domains[0].defaultCertificate');
    expect(await rowCounts(t.db)).toEqual(before);
  });
});

describe('the service API', () => {
  it('creates a route with a transport and a domain with TLS options; reads them back without the key; refuses a CA that is not one', async () => {
    const project = await svc.createProject({ name: 'api-tls' });
    const service = await svc.createService({ projectId: project.id, name: 'api', host: 'api.internal' });
    const domain = await svc.createDomainConfig({
      projectId: project.id,
      domain: 'api-tls.example.org',
      sslProvider: 'letsencrypt',
      tlsOptions: { minVersion: 'VersionTLS13' },
    });
    expect(domain.tlsOptions).toEqual({ minVersion: 'VersionTLS13' });
    const route = await svc.createRouteConfig({
      domainConfigId: domain.id,
      serviceId: service.id,
      targetPort: 8443,
      targetUrl: 'https://api.internal:8443',
      transport: { serverName: 'api.internal', ca: ca.cert, clientCertificate: { certPem: client.cert, keyPem: client.key } },
    });
    expect(route.transport).toEqual({ serverName: 'api.internal', ca: ca.cert, clientCert: client.cert });
    expect(JSON.stringify(route)).not.toMatch(/PRIVATE KEY/);
    // Another field changes: the transport and its key stay.
    await svc.updateRouteConfig(route.id, { priority: 5 });
    const [row] = await t.db.query(sql`SELECT key_pem, transport->>'serverName' AS sn FROM route_configs WHERE id = ${route.id}`);
    expect(row).toEqual({ key_pem: client.key, sn: 'api.internal' });

    const before = await rowCounts(t.db);
    const err = await svc.updateRouteConfig(route.id, { transport: { ca: 'not a certificate' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path)).toContain('transport.ca');
    const bad = await svc
      .updateRouteConfig(route.id, {
        transport: { serverName: 'api.internal', clientCertificate: { certPem: client.cert, keyPem: other.key } },
      })
      .catch((e: unknown) => e);
    expect((bad as ValidationError).issues.map((i) => i.path)).toContain('transport.clientCertificate.keyPem');
    const cipher = await svc.updateDomainConfig(domain.id, { tlsOptions: { cipherSuites: ['TLS_NOPE'] } }).catch((e: unknown) => e);
    expect((cipher as ValidationError).issues.map((i) => i.path)).toContain('tlsOptions.cipherSuites[0]');
    expect(await rowCounts(t.db)).toEqual(before);
  });
});

describe('import of serversTransports and TLS options', () => {
  it('maps a load balancer transport to the route and a router TLS option to the domain, reporting what it drops', async () => {
    const dir = await tempDir('tsync-btls-import-');
    await copyFile(ca.certFile, path.join(dir, 'ca.crt'));
    const yaml = {
      http: {
        routers: {
          api: { rule: 'Host(`imported.example.org`)', service: 'api', tls: { options: 'modern' } },
          other: { rule: 'Host(`imported.example.org`) && PathPrefix(`/v2`)', service: 'api', tls: { options: 'old' } },
        },
        services: { api: { loadBalancer: { servers: [{ url: 'https://api.internal:8443' }], serversTransport: 'internal' } } },
        serversTransports: {
          internal: {
            serverName: 'api.internal',
            rootCAs: ['ca.crt'],
            certificates: [{ certFile: client.certFile, keyFile: client.keyFile }],
            maxIdleConnsPerHost: 7,
          },
          unused: { insecureSkipVerify: true },
        },
      },
      tls: {
        options: {
          modern: { minVersion: 'VersionTLS13', clientAuth: { caFiles: ['ca.crt'] }, curvePreferences: ['CurveP521'] },
          old: { minVersion: 'VersionTLS10' },
        },
      },
    };
    await writeFile(path.join(dir, 'legacy.yml'), stringify(yaml));
    const o = await svc.importDirectory(dir, { project: 'imported' });
    const note = (item: string) =>
      o.notes
        .filter((n) => n.item === item)
        .map((n) => n.reason)
        .join('\n');
    expect(note('http.routers.other')).toMatch(/other TLS options; traefik-sync has one TLS option per domain/);
    expect(note('http.routers.api')).toMatch(/serversTransport internal: maxIdleConnsPerHost ignored/);
    expect(note('http.routers.api')).toMatch(/TLS options modern: curvePreferences ignored/);
    expect(note('http.serversTransports.unused')).toMatch(/not used by any imported router/);
    const spec = parse((await svc.exportSpec('imported')).yaml);
    expect(spec.domains[0].tlsOptions).toEqual({
      minVersion: 'VersionTLS13',
      clientAuth: { ca: `${ca.cert.trim()}\n`, mode: 'RequireAndVerifyClientCert' },
    });
    expect(spec.domains[0].routes[0].transport).toEqual({
      serverName: 'api.internal',
      ca: `${ca.cert.trim()}\n`,
      clientCertificate: { fingerprint: expect.stringMatching(/^sha256:/) },
    });
    const [row] = await t.db.query(
      sql`SELECT r.key_pem FROM route_configs r JOIN domain_configs d ON d.id = r.domain_config_id WHERE d.full_domain = 'imported.example.org'`,
    );
    expect(row!.key_pem).toBe(client.key);
  });
});
