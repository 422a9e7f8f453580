/**
 * Entry points and TCP/UDP routes through the config service (docs/spec-format.md "Entry points",
 * "TCP and UDP"): apply → export → apply changes nothing, what they render to, history and
 * rollback, the service API, one owner per server name per entry point across projects, the
 * database's own refusals, audit and notification (raw SQL), and hostile variants refused on the
 * field with nothing written. Import and examples/l4: l4-import.test.ts.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { parse } from 'yaml';
import { ValidationError } from '../../src/config-service/errors.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { sql } from '../../src/db/connect.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { waitFor } from '../helpers/sidecar.js';
import { expectRefused } from './http-cases.js';
import { rowCounts } from './helpers.js';
import { L4_HOSTILE, L4_STATIC, l4Spec } from './l4-cases.js';

let t: TestDatabase;
let svc: TraefikConfigService;

beforeAll(async () => {
  t = await createTestDatabase();
  svc = new TraefikConfigService(t.db, { actor: 'l4', configDir: '/cfg', traefikStatic: L4_STATIC });
});
afterAll(async () => {
  await t?.drop();
});

const fileOf = async (project: string, path: string) => {
  const p = await svc.preview(project);
  expect(p.problems).toEqual([]);
  const f = p.files.find((x) => x.path === path);
  return f ? parse(f.content) : undefined;
};

describe('entry points and TCP/UDP routes', () => {
  it('apply → export → apply changes nothing', async () => {
    await svc.apply(l4Spec());
    const exported = parse((await svc.exportSpec('edge')).yaml);
    expect(exported.tcp).toEqual(l4Spec().tcp);
    expect(exported.udp).toEqual(l4Spec().udp);
    expect(exported.domains.find((d: { subdomain?: string }) => d.subdomain === 'ops').entryPoints).toEqual(['internal']);
    expect((await svc.apply(exported)).changes).toEqual([]);
  });

  it('renders routers on the chosen entry points, the redirect only where the domain is on websecure', async () => {
    const domains = await fileOf('edge', 'dynamic/edge/domains.yml');
    const redirects = Object.values(domains.http.routers) as Array<{ rule: string; entryPoints: string[] }>;
    // The apex is on websecure (redirect on web); ops is internal only: no router of it on web.
    expect(redirects.map((r) => [r.rule, r.entryPoints])).toEqual([['Host(`edge.example.org`)', ['web']]]);
    const web = await fileOf('edge', 'dynamic/edge/services/web.yml');
    const routers = Object.values(web.http.routers) as Array<{ rule: string; entryPoints: string[]; tls?: unknown }>;
    const byRule = Object.fromEntries(routers.map((r) => [r.rule, r]));
    expect(byRule['Host(`edge.example.org`)']).toMatchObject({ entryPoints: ['websecure'], tls: { certResolver: 'letsencrypt' } });
    expect(byRule['Host(`edge.example.org`) && PathPrefix(`/admin`)']).toMatchObject({
      entryPoints: ['internal'],
      tls: { certResolver: 'letsencrypt' },
    });
    expect(byRule['Host(`ops.edge.example.org`)']).toMatchObject({ entryPoints: ['internal'], tls: {} });
  });

  it('a redirecting domain answers on its entry points only', async () => {
    const spec = l4Spec('moved');
    delete spec.tcp;
    delete spec.udp;
    spec.domains[1] = { domain: 'moved.example.org', subdomain: 'old', entryPoints: ['internal'], redirect: { to: 'moved.example.org' } };
    await svc.apply(spec);
    const routers = (await fileOf('moved', 'dynamic/moved/domains.yml')).http.routers as Record<
      string,
      { rule: string; entryPoints: string[]; tls?: unknown }
    >;
    const old = Object.values(routers).filter((r) => r.rule === 'Host(`old.moved.example.org`)');
    expect(old.map((r) => [r.entryPoints, r.tls])).toEqual([[['internal'], {}]]);
  });

  it('renders tcp.yml and udp.yml: HostSNI with TLS terminated or passed through, several servers, PROXY protocol', async () => {
    const tcp = await fileOf('edge', 'dynamic/edge/tcp.yml');
    expect(tcp.tcp.routers).toEqual({
      'edge_tcp-db': { entryPoints: ['postgres'], rule: 'HostSNI(`db.edge.example.org`)', service: 'edge_tcp-db', tls: {} },
      'edge_tcp-mqtt': {
        entryPoints: ['mqtts'],
        rule: 'HostSNI(`mqtt.edge.example.org`)',
        service: 'edge_tcp-mqtt',
        tls: { passthrough: true },
      },
    });
    expect(tcp.tcp.services['edge_tcp-mqtt']).toEqual({
      loadBalancer: {
        servers: [{ address: 'mqtt-0.edge.internal:8883' }, { address: 'mqtt-1.edge.internal:8883' }],
        proxyProtocol: { version: 2 },
      },
    });
    const udp = await fileOf('edge', 'dynamic/edge/udp.yml');
    expect(udp.udp).toEqual({
      routers: { 'edge_udp-dns': { entryPoints: ['dns'], service: 'edge_udp-dns' } },
      services: { 'edge_udp-dns': { loadBalancer: { servers: [{ address: 'dns.edge.internal:53' }] } } },
    });
  });

  it('a project without TCP/UDP routes gets no tcp.yml or udp.yml', async () => {
    const plain = l4Spec('plain');
    delete plain.tcp;
    delete plain.udp;
    await svc.apply(plain);
    const p = await svc.preview('plain');
    expect(p.files.map((f) => f.path).filter((x) => /\/(tcp|udp)\.yml$/.test(x))).toEqual([]);
  });

  it('history names the route; rollback restores it', async () => {
    const [{ id: before }] = await t.db.query(sql`SELECT max(id) AS id FROM audit_log`);
    const changed = l4Spec();
    changed.tcp[0].servers = [{ host: 'db-9.edge.internal', port: 6432 }];
    await svc.apply(changed);
    const { entries } = await svc.history('edge', { limit: 1 });
    expect(entries[0]!.summary).toMatch(/^tcp route db \(postgres db\.edge\.example\.org, tls terminate\)/);
    await svc.rollback('edge', String(before));
    expect(parse((await svc.exportSpec('edge')).yaml).tcp).toEqual(l4Spec().tcp);
  });

  it('two projects cannot claim one SNI on one entry point (nor one UDP entry point); another entry point is fine', async () => {
    const other = l4Spec('other');
    other.tcp[0].sni = 'db.edge.example.org';
    other.udp[0].entryPoint = 'dns';
    const before = await rowCounts(t.db);
    const err = await svc.apply(other).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    const issues = (err as ValidationError).issues;
    expect(issues).toContainEqual({ path: 'tcp[0].sni', message: expect.stringMatching(/already active in project "edge"/) });
    expect(issues).toContainEqual({ path: 'udp[0].entryPoint', message: expect.stringMatching(/already taken by project "edge"/) });
    expect(await rowCounts(t.db)).toEqual(before);
    other.tcp[0].entryPoint = 'mqtts';
    delete other.udp;
    await svc.apply(other);
  });

  it('a TCP route written by hand is audited and notifies its project', async () => {
    const [{ id: project }] = await t.db.query(sql`SELECT id FROM projects WHERE name = 'edge'`);
    const listener = new pg.Client({ connectionString: t.url });
    const got: string[] = [];
    await listener.connect();
    onTestFinished(() => listener.end());
    listener.on('notification', (n) => got.push(n.payload ?? ''));
    await listener.query('LISTEN traefik_sync');
    await t.db.query(sql`UPDATE l4_routes SET proxy_protocol = 1 WHERE project_id = ${project} AND name = 'mqtt'`);
    // Notifications arrive in commit order: once 'end' is here, the update's has come too.
    await t.db.query(sql`SELECT pg_notify('traefik_sync', 'end')`);
    await waitFor(async () => got.includes('end'), 5_000);
    expect(got.slice(0, got.indexOf('end'))).toEqual([project]);
    const [entry] = await t.db.query(sql`SELECT project_id, op, old_row->>'proxy_protocol' AS before FROM audit_log
                                          WHERE table_name = 'l4_routes' ORDER BY id DESC LIMIT 1`);
    expect(entry).toEqual({ project_id: project, op: 'UPDATE', before: '2' });
    await t.db.query(sql`UPDATE l4_routes SET proxy_protocol = 2 WHERE project_id = ${project} AND name = 'mqtt'`);
  });

  it('the database refuses what can never be valid (raw SQL)', async () => {
    const [{ id: project }] = await t.db.query(sql`SELECT id FROM projects WHERE name = 'edge'`);
    const insert = (cols: string) =>
      t.db.query(sql`INSERT INTO l4_routes (project_id, protocol, name, entry_point, sni, tls, servers, proxy_protocol)
                     SELECT ${project}, x.protocol, 'raw', x.entry_point, x.sni, x.tls, x.servers::jsonb, x.pp
                       FROM json_to_record(${cols}::json) AS x(protocol text, entry_point text, sni text, tls text, servers text, pp smallint)`);
    const servers = JSON.stringify([{ host: 'a.internal', port: 1 }]);
    const cases: Array<[object, string]> = [
      [{ protocol: 'tcp', entry_point: 'postgres', sni: 'raw.example.org', servers }, 'l4_routes_sni_needs_tls'],
      [{ protocol: 'udp', entry_point: 'dns', sni: 'raw.example.org', tls: 'terminate', servers }, 'l4_routes_tcp_sni'],
      [
        {
          protocol: 'tcp',
          entry_point: 'postgres',
          sni: 'a.example.org',
          tls: 'terminate',
          servers: JSON.stringify([{ host: 'a', port: 70000 }]),
        },
        'l4_routes_servers_format',
      ],
      [{ protocol: 'tcp', entry_point: 'postgres', sni: 'db.edge.example.org', tls: 'passthrough', servers }, 'l4_routes_active_sni'],
      [{ protocol: 'tcp', entry_point: 'postgres', sni: '*', servers, pp: 3 }, 'l4_routes_proxy_protocol_format'],
      [{ protocol: 'tcp', entry_point: 'traefik', sni: '*', servers }, 'l4_routes_entry_point_format'],
    ];
    for (const [row, constraint] of cases) await expect(insert(JSON.stringify(row))).rejects.toMatchObject({ constraint });
    await expect(
      t.db.query(sql`UPDATE domain_configs SET entry_points = '{web}' WHERE ssl_enabled AND project_id = ${project}`),
    ).rejects.toMatchObject({ constraint: 'domain_configs_entry_points_tls' });
  });
});

describe('the service API', () => {
  it('sets entry points on a domain and a route, and refuses an unknown one on the field', async () => {
    const [{ id: projectId }] = await t.db.query(sql`SELECT id FROM projects WHERE name = 'plain'`);
    const [{ id: serviceId }] = await t.db.query(sql`SELECT id FROM services WHERE project_id = ${projectId}`);
    const d = await svc.createDomainConfig({ projectId, domain: 'api.plain.example.org', sslEnabled: false, entryPoints: ['internal'] });
    expect(d.entryPoints).toEqual(['internal']);
    const r = await svc.createRouteConfig({ domainConfigId: d.id, serviceId, targetPort: 8080, entryPoints: ['web', 'internal'] });
    expect(r.entryPoints).toEqual(['web', 'internal']);
    // A change of another field keeps them.
    expect((await svc.updateDomainConfig(d.id, { isActive: true })).entryPoints).toEqual(['internal']);
    const err = await svc.updateRouteConfig(r.id, { entryPoints: ['intranet'] }).catch((e: unknown) => e);
    expect((err as ValidationError).issues).toEqual([
      { path: 'entryPoints[0]', message: expect.stringMatching(/no entry point named "intranet"/) },
    ]);
    expect((await svc.updateRouteConfig(r.id, { entryPoints: null })).entryPoints).toBeNull();
  });
});

describe('hostile entry points and TCP/UDP routes', () => {
  for (const c of L4_HOSTILE) {
    it(`refuses ${c.name}, naming ${c.field}, and writes nothing`, () => expectRefused(svc, t.db, l4Spec('hostile'), c));
  }
});
