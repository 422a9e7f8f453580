/**
 * Specs for entry points and TCP/UDP routes (docs/spec-format.md "Entry points", "TCP and UDP"):
 * the static settings they are checked against, a valid project using them, and hostile variants
 * naming the field their error must point at. Used by l4.test.ts.
 */
import { DEFAULT_STATIC_SETTINGS, parseEntryPoints, type StaticSettings } from '../../src/render/static-settings.js';
import type { HttpCase, Spec } from './http-cases.js';

/** TRAEFIK_ENTRYPOINTS with an internal HTTP entry point, a TCP one and a UDP one, plus an overlay's extra TCP one. */
export const L4_STATIC: StaticSettings = {
  ...DEFAULT_STATIC_SETTINGS,
  entryPoints: parseEntryPoints('web=:80,websecure=:443,metrics=:8082,internal=:8443,postgres=:5432,dns=:53/udp', 'TRAEFIK_ENTRYPOINTS'),
  overlay: { file: '/etc/traefik-sync/static.yml', doc: { entryPoints: { mqtts: { address: ':8883' } } } },
};

/** A project with an internal-only domain, a route on its own entry point, TCP routes of every kind and a UDP route. */
export function l4Spec(name = 'edge'): Spec {
  return {
    name,
    services: [{ name: 'web', host: `web.${name}.internal` }],
    domains: [
      {
        domain: `${name}.example.org`,
        provider: 'letsencrypt',
        routes: [
          { path: '/', service: 'web', targetPort: 8080 },
          { path: '/admin', service: 'web', targetPort: 9000, entryPoints: ['internal'] },
        ],
      },
      {
        domain: `${name}.example.org`,
        subdomain: 'ops',
        entryPoints: ['internal'],
        routes: [{ path: '/', service: 'web', targetPort: 8081 }],
      },
    ],
    tcp: [
      {
        name: 'db',
        entryPoint: 'postgres',
        sni: `db.${name}.example.org`,
        tls: 'terminate',
        servers: [{ host: `db-0.${name}.internal`, port: 5432 }],
      },
      {
        name: 'mqtt',
        entryPoint: 'mqtts',
        sni: `mqtt.${name}.example.org`,
        tls: 'passthrough',
        servers: [
          { host: `mqtt-0.${name}.internal`, port: 8883 },
          { host: `mqtt-1.${name}.internal`, port: 8883 },
        ],
        proxyProtocol: 2,
      },
    ],
    udp: [{ name: 'dns', entryPoint: 'dns', servers: [{ host: `dns.${name}.internal`, port: 53 }] }],
  };
}

export const L4_HOSTILE: readonly HttpCase[] = [
  {
    name: 'an SNI rule without TLS',
    field: 'tcp[0].sni',
    says: /only sent in a TLS handshake/,
    mutate: (s) => {
      delete s.tcp[0].tls;
    },
  },
  {
    name: 'an unknown entry point on a domain',
    field: 'domains[1].entryPoints[0]',
    says: /no entry point named "intranet".*internal/,
    mutate: (s) => {
      s.domains[1].entryPoints = ['intranet'];
    },
  },
  {
    name: 'an unknown entry point on a route',
    field: 'domains[0].routes[1].entryPoints[0]',
    says: /no entry point named "backoffice"/,
    mutate: (s) => {
      s.domains[0].routes[1].entryPoints = ['backoffice'];
    },
  },
  {
    name: 'an unknown entry point on a TCP route',
    field: 'tcp[0].entryPoint',
    says: /no entry point named "mysql".*mqtts, postgres/,
    mutate: (s) => {
      s.tcp[0].entryPoint = 'mysql';
    },
  },
  {
    name: 'a UDP route on a TCP entry point',
    field: 'udp[0].entryPoint',
    says: /"postgres" is a TCP entry point; this needs a UDP one \(defined: dns\)/,
    mutate: (s) => {
      s.udp[0].entryPoint = 'postgres';
    },
  },
  {
    name: 'an HTTP domain on a UDP entry point',
    field: 'domains[1].entryPoints[0]',
    says: /"dns" is a UDP entry point/,
    mutate: (s) => {
      s.domains[1].entryPoints = ['dns'];
    },
  },
  {
    name: 'a TCP server port out of range',
    field: 'tcp[1].servers[1].port',
    says: /1–65535, got 70000/,
    mutate: (s) => {
      s.tcp[1].servers[1].port = 70000;
    },
  },
  {
    name: 'a UDP server port of 0',
    field: 'udp[0].servers[0].port',
    says: /1–65535, got 0/,
    mutate: (s) => {
      s.udp[0].servers[0].port = 0;
    },
  },
  {
    name: 'a plain catch-all on websecure',
    field: 'tcp[0].entryPoint',
    says: /catch-all without TLS takes every plain connection/,
    mutate: (s) => {
      s.tcp[0] = { name: 'db', entryPoint: 'websecure', sni: '*', servers: [{ host: 'db.edge.internal', port: 5432 }] };
    },
  },
  {
    name: 'web on an ssl domain',
    field: 'domains[0].entryPoints[0]',
    says: /"web" serves plain http/,
    mutate: (s) => {
      s.domains[0].entryPoints = ['web', 'websecure'];
    },
  },
  {
    name: 'a resolver the static settings do not define',
    field: 'tcp[0].provider',
    says: /defines no resolver "letsencrypt"/,
    mutate: (s) => {
      s.tcp[0].provider = 'letsencrypt';
    },
  },
  {
    name: 'two TCP routes of one project on one SNI',
    field: 'tcp[1].sni',
    says: /another TCP route of the project matches/,
    mutate: (s) => {
      s.tcp[1] = { ...s.tcp[0], name: 'db2' };
    },
  },
  {
    name: 'a TCP route name listed twice',
    field: 'tcp[1].name',
    says: /listed twice/,
    mutate: (s) => {
      s.tcp[1].name = 'db';
    },
  },
  {
    name: 'a wildcard SNI',
    field: 'tcp[0].sni',
    says: /host name, or "\*"/,
    mutate: (s) => {
      s.tcp[0].sni = '*.edge.example.org';
    },
  },
];
