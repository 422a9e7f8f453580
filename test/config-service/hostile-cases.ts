/**
 * The hostile / broken spec corpus: each case breaks a valid spec (examples/shop.yaml) in one
 * way and names the field path the error must point at. Used through the service API and
 * through `traefik-sync apply -f` (files written as JSON, which YAML reads, so NUL bytes and
 * lone surrogates survive the round trip as escapes).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export type Spec = Record<string, any>;

/** Held active by project "other", which each test file creates first. */
export const TAKEN_DOMAIN = 'taken.example';
/** A wildcard held active by project "other" (plain HTTP: no resolver needed). */
export const TAKEN_WILDCARD = '*.taken.example';

/** A fresh copy of the valid base spec. */
export function baseSpec(): Spec {
  return parse(readFileSync(new URL('../../examples/shop.yaml', import.meta.url), 'utf8'));
}

export interface HostileCase {
  readonly name: string;
  readonly mutate: (s: Spec) => void;
  /** Path the error must name (an issue path starting with it). */
  readonly field: string;
  /** Text the message must contain, when it matters. */
  readonly says?: RegExp;
}

const api = (s: Spec) => s.domains[0].routes[1];
const mw = (s: Spec, v: unknown) => {
  api(s).middleware = [v];
};
const header = (s: Spec, v: unknown) => {
  api(s).middleware[1] = { headers: { customRequestHeaders: { 'X-Test': v } } };
};

export const HOSTILE: readonly HostileCase[] = [
  // Injection: backticks and Go templates.
  {
    name: 'backtick rule injection in domain',
    field: 'domains[0].domain',
    says: /backtick/,
    mutate: (s) => {
      s.domains[0].domain = 'shop.example.com`) || Host(`evil.example';
    },
  },
  {
    name: 'backtick rule injection in path',
    field: 'domains[0].routes[1].path',
    says: /backtick/,
    mutate: (s) => {
      api(s).path = '/api`) || PathPrefix(`/';
    },
  },
  {
    name: 'backtick in subdomain',
    field: 'domains[1].subdomain',
    says: /backtick/,
    mutate: (s) => {
      s.domains[1].subdomain = 'x`';
    },
  },
  {
    name: 'backtick in targetUrl',
    field: 'domains[0].routes[1].targetUrl',
    mutate: (s) => {
      api(s).targetUrl = 'http://api:3000/`)';
    },
  },
  {
    name: '{{ env }} in a header value',
    field: 'domains[0].routes[1].middleware[1].headers.customRequestHeaders.X-Test',
    says: /Go template/,
    mutate: (s) => header(s, '{{ env "DATABASE_URL" }}'),
  },
  {
    name: '}} in a basicAuth user',
    field: 'domains[0].routes[2].middleware[1].basicAuth.users[0]',
    says: /Go template/,
    mutate: (s) => {
      s.domains[0].routes[2].middleware[1] = { basicAuth: { users: ['a:}}'] } };
    },
  },
  {
    name: '{{ in a health check path',
    field: 'domains[0].routes[0].healthCheck.path',
    says: /Go template/,
    mutate: (s) => {
      s.domains[0].routes[0].healthCheck.path = '/{{.}}';
    },
  },
  {
    name: '{{ in the project name',
    field: 'name',
    mutate: (s) => {
      s.name = '{{x}}';
    },
  },
  {
    name: '{{ in a middleware option key',
    field: 'domains[0].routes[1].middleware[0].headers.customRequestHeaders',
    says: /Go template/,
    mutate: (s) => mw(s, { headers: { customRequestHeaders: { '{{x}}': 'v' } } }),
  },
  // Traversal in names.
  {
    name: 'traversal in the project name',
    field: 'name',
    says: /"\/"/,
    mutate: (s) => {
      s.name = '../etc';
    },
  },
  {
    name: 'traversal in a service name',
    field: 'services[0].name',
    says: /"\/"/,
    mutate: (s) => {
      s.services[0].name = '../../root';
    },
  },
  {
    name: 'slash in a service name',
    field: 'services[1].name',
    mutate: (s) => {
      s.services[1].name = 'a/b';
    },
  },
  {
    name: 'dot-dot service name',
    field: 'services[2].name',
    mutate: (s) => {
      s.services[2].name = '..';
    },
  },
  {
    name: 'absolute path as project name',
    field: 'name',
    mutate: (s) => {
      s.name = '/etc/passwd';
    },
  },
  // IDN and case.
  {
    name: 'IDN domain',
    field: 'domains[0].domain',
    says: /punycode.*xn--bcher-kva/,
    mutate: (s) => {
      s.domains[0].domain = 'bücher.example';
    },
  },
  {
    name: 'upper-case domain',
    field: 'domains[0].domain',
    says: /lower case/,
    mutate: (s) => {
      s.domains[0].domain = 'Shop.Example.com';
    },
  },
  {
    name: 'upper-case subdomain',
    field: 'domains[1].subdomain',
    says: /lower case/,
    mutate: (s) => {
      s.domains[1].subdomain = 'STATUS';
    },
  },
  {
    name: 'upper-case project name',
    field: 'name',
    says: /lower case/,
    mutate: (s) => {
      s.name = 'Shop';
    },
  },
  {
    name: 'upper-case service host',
    field: 'services[1].host',
    says: /lower case/,
    mutate: (s) => {
      s.services[1].host = 'API.internal';
    },
  },
  {
    name: 'wildcard in the middle of a domain',
    field: 'domains[0].domain',
    says: /only be the whole leftmost label/,
    mutate: (s) => {
      s.domains[0].domain = 'shop.*.example.com';
    },
  },
  {
    name: 'wildcard inside a label',
    field: 'domains[0].domain',
    says: /only be the whole leftmost label/,
    mutate: (s) => {
      s.domains[0].domain = '*shop.example.com';
    },
  },
  {
    name: 'wildcard not leftmost in a subdomain',
    field: 'domains[0].subdomain',
    says: /only be the whole leftmost label/,
    mutate: (s) => {
      s.domains[0].subdomain = 'a.*';
    },
  },
  {
    name: 'wildcard service host',
    field: 'services[1].host',
    says: /wildcards are not supported here/,
    mutate: (s) => {
      s.services[1].host = '*.internal';
    },
  },
  {
    name: '64-character label',
    field: 'domains[0].domain',
    mutate: (s) => {
      s.domains[0].domain = `${'a'.repeat(64)}.example`;
    },
  },
  // Ports, paths, numbers.
  {
    name: 'port 0',
    field: 'domains[0].routes[1].targetPort',
    says: /expected 1–65535, got 0/,
    mutate: (s) => {
      api(s).targetPort = 0;
    },
  },
  {
    name: 'port 70000',
    field: 'domains[0].routes[1].targetPort',
    says: /expected 1–65535, got 70000/,
    mutate: (s) => {
      api(s).targetPort = 70000;
    },
  },
  {
    name: 'negative port',
    field: 'domains[0].routes[1].targetPort',
    mutate: (s) => {
      api(s).targetPort = -1;
    },
  },
  {
    name: 'fractional port',
    field: 'domains[0].routes[1].targetPort',
    mutate: (s) => {
      api(s).targetPort = 80.5;
    },
  },
  {
    name: 'port as a string',
    field: 'domains[0].routes[1].targetPort',
    says: /expected a number, got "3000" \(a string\)/,
    mutate: (s) => {
      api(s).targetPort = '3000';
    },
  },
  {
    name: 'path without a leading slash',
    field: 'domains[0].routes[1].path',
    says: /must start with "\/"/,
    mutate: (s) => {
      api(s).path = 'api';
    },
  },
  {
    name: 'path with a space',
    field: 'domains[0].routes[1].path',
    mutate: (s) => {
      api(s).path = '/a b';
    },
  },
  {
    name: 'priority out of range',
    field: 'domains[0].routes[2].priority',
    mutate: (s) => {
      s.domains[0].routes[2].priority = -5;
    },
  },
  {
    name: 'targetUrl with another scheme',
    field: 'domains[0].routes[1].targetUrl',
    mutate: (s) => {
      api(s).targetUrl = 'javascript:alert(1)';
    },
  },
  // Middlewares and health checks.
  {
    name: 'unknown middleware type',
    field: 'domains[0].routes[1].middleware[0]',
    says: /unknown or unsupported middleware type "evilPlugin"/,
    mutate: (s) => mw(s, { evilPlugin: {} }),
  },
  {
    name: 'ipWhiteList (v2 name)',
    field: 'domains[0].routes[2].middleware[0]',
    says: /ipAllowList/,
    mutate: (s) => {
      s.domains[0].routes[2].middleware[0] = { ipWhiteList: { sourceRange: ['10.0.0.0/8'] } };
    },
  },
  { name: 'chain middleware inline', field: 'domains[0].routes[1].middleware[0]', mutate: (s) => mw(s, { chain: { middlewares: ['x'] } }) },
  {
    name: 'two types in one element',
    field: 'domains[0].routes[1].middleware[0]',
    says: /exactly one key/,
    mutate: (s) => mw(s, { headers: {}, compress: {} }),
  },
  {
    name: 'reference into the file provider',
    field: 'domains[0].routes[1].middleware[0].ref',
    mutate: (s) => mw(s, { ref: 'other@file' }),
  },
  {
    name: 'header value of the wrong type (schema)',
    field: 'domains[0].routes[1].middleware[1].headers.customRequestHeaders.X-Test',
    says: /string/,
    mutate: (s) => header(s, 42),
  },
  {
    name: 'unknown middleware option (schema)',
    field: 'domains[0].routes[1].middleware[0]',
    mutate: (s) => mw(s, { stripPrefix: { prefixes: ['/api'], nonsense: true } }),
  },
  {
    name: 'unknown health check option',
    field: 'domains[0].routes[0].healthCheck.bogus',
    mutate: (s) => {
      s.domains[0].routes[0].healthCheck.bogus = 1;
    },
  },
  {
    name: 'health check path without slash',
    field: 'domains[0].routes[0].healthCheck.path',
    mutate: (s) => {
      s.domains[0].routes[0].healthCheck.path = 'healthz';
    },
  },
  {
    name: 'reserved __proto__ key',
    field: 'domains[0].routes[1].middleware[0].headers.__proto__',
    says: /reserved/,
    mutate: (s) => mw(s, JSON.parse('{"headers":{"__proto__":{"x":1}}}')),
  },
  {
    name: 'nesting 20 levels deep',
    field: 'domains[0].routes[1].middleware[0]',
    says: /nested/,
    mutate: (s) => {
      let v: any = 'x';
      for (let i = 0; i < 20; i++) v = { a: v };
      mw(s, { headers: v });
    },
  },
  // Huge payloads.
  {
    name: 'huge middleware jsonb (> 64 KiB)',
    field: 'domains[0].routes[1].middleware',
    says: /bytes as JSON/,
    mutate: (s) => {
      const h: Record<string, string> = {};
      for (let i = 0; i < 100; i++) h[`X-H${i}`] = 'v'.repeat(1000);
      mw(s, { headers: { customRequestHeaders: h } });
    },
  },
  {
    name: 'huge string (100 KB)',
    field: 'domains[0].routes[1].middleware[1].headers.customRequestHeaders.X-Test',
    says: /characters long/,
    mutate: (s) => header(s, 'x'.repeat(100_000)),
  },
  {
    name: 'too many routes',
    field: 'domains[1].routes',
    says: /at most 1000/,
    mutate: (s) => {
      s.domains[1].routes = Array.from({ length: 1001 }, (_, i) => ({ path: `/p${i}`, service: 'web', targetPort: 80 }));
    },
  },
  // Duplicates.
  {
    name: 'domain active in another project',
    field: 'domains[0].domain',
    says: /already active in project "other"/,
    mutate: (s) => {
      s.domains[0].domain = TAKEN_DOMAIN;
    },
  },
  {
    name: 'wildcard active in another project',
    field: 'domains[0].domain',
    says: /"\*\.taken\.example" is already active in project "other"/,
    mutate: (s) => {
      s.domains[0].domain = TAKEN_WILDCARD;
    },
  },
  // Wildcard certificates.
  {
    name: 'wildcard with a resolver that is not a DNS-01 resolver',
    field: 'domains[0].provider',
    says: /needs a DNS-01 resolver, and TRAEFIK_STATIC_FILE \(not set\) does not define it/,
    mutate: (s) => {
      s.domains[0].domain = '*.shop.example.com';
    },
  },
  {
    name: 'certificate name with a wildcard in the middle',
    field: 'domains[0].sans[0]',
    says: /only be the whole leftmost label/,
    mutate: (s) => {
      s.domains[0].sans = ['www.*.example.com'];
    },
  },
  {
    name: 'certificate names on a plain-HTTP domain',
    field: 'domains[1].sans',
    says: /need ssl: true/,
    mutate: (s) => {
      s.domains[1].sans = ['www.shop.example.com'];
    },
  },
  {
    name: 'same domain twice in the spec',
    field: 'domains[1].domain',
    says: /listed twice/,
    mutate: (s) => {
      s.domains[1].subdomain = null;
    },
  },
  {
    name: 'same service twice',
    field: 'services[1].name',
    says: /listed twice/,
    mutate: (s) => {
      s.services[1].name = 'web';
    },
  },
  {
    name: 'same path twice on a domain',
    field: 'domains[0].routes[1].path',
    says: /listed twice/,
    mutate: (s) => {
      api(s).path = '/';
    },
  },
  {
    name: 'route to an unknown service',
    field: 'domains[0].routes[0].service',
    says: /no service named "ghost"/,
    mutate: (s) => {
      s.domains[0].routes[0].service = 'ghost';
    },
  },
  // NUL bytes, invalid UTF-8, control characters.
  {
    name: 'NUL byte in a domain',
    field: 'domains[0].domain',
    says: /NUL/,
    mutate: (s) => {
      s.domains[0].domain = 'shop\u0000.example.com';
    },
  },
  {
    name: 'NUL byte in a header value',
    field: 'domains[0].routes[1].middleware[1].headers.customRequestHeaders.X-Test',
    says: /NUL/,
    mutate: (s) => header(s, 'a\u0000b'),
  },
  {
    name: 'lone surrogate (invalid UTF-8) in a header value',
    field: 'domains[0].routes[1].middleware[1].headers.customRequestHeaders.X-Test',
    says: /UTF-8/,
    mutate: (s) => header(s, 'a\ud800b'),
  },
  {
    name: 'newline in a header value',
    field: 'domains[0].routes[1].middleware[1].headers.customRequestHeaders.X-Test',
    says: /control character U\+000A/,
    mutate: (s) => header(s, 'a\nInjected: 1'),
  },
  // Wrong types and shapes.
  {
    name: 'ssl as a string',
    field: 'domains[0].ssl',
    says: /expected true or false, got "yes"/,
    mutate: (s) => {
      s.domains[0].ssl = 'yes';
    },
  },
  {
    name: 'routes not a list',
    field: 'domains[0].routes',
    says: /expected a list/,
    mutate: (s) => {
      s.domains[0].routes = { path: '/' };
    },
  },
  {
    name: 'services a string',
    field: 'services',
    mutate: (s) => {
      s.services = 'web';
    },
  },
  {
    name: 'middleware not a list',
    field: 'domains[0].routes[1].middleware',
    mutate: (s) => {
      api(s).middleware = { headers: {} };
    },
  },
  {
    name: 'unknown field (port for targetPort)',
    field: 'domains[0].routes[0].port',
    says: /did you mean "targetPort"/,
    mutate: (s) => {
      s.domains[0].routes[0].port = 80;
    },
  },
  {
    name: 'missing project name',
    field: 'name',
    says: /required/,
    mutate: (s) => {
      delete s.name;
    },
  },
  {
    name: 'wrong apiVersion',
    field: 'apiVersion',
    mutate: (s) => {
      s.apiVersion = 'v2';
    },
  },
  {
    name: 'invalid resolver name',
    field: 'domains[0].provider',
    mutate: (s) => {
      s.domains[0].provider = 'lets encrypt!';
    },
  },
  {
    name: 'custom provider without certificate',
    field: 'domains[0].certificate',
    says: /no certificate/,
    mutate: (s) => {
      s.domains[0].provider = 'custom';
    },
  },
  {
    name: 'certificate without provider custom',
    field: 'domains[0].certificate',
    says: /provider "custom"/,
    mutate: (s) => {
      s.domains[0].certificate = { fingerprint: `sha256:${'0'.repeat(64)}` };
    },
  },
  {
    name: 'certificate file that does not exist',
    field: 'domains[0].certificate.certFile',
    says: /no such file/,
    mutate: (s) => {
      s.domains[0].provider = 'custom';
      s.domains[0].certificate = { certFile: 'missing.crt', keyFile: 'missing.key' };
    },
  },
  // Internal targets (Traefik shares the pod's network) and middleware options that name files.
  ...(
    [
      ['target_url at the sidecar', 'http://127.0.0.1:9090'],
      ['target_url at the metadata service', 'http://169.254.169.254/latest/meta-data/'],
      ['target_url in decimal', 'http://2130706433:9090'],
      ['target_url in IPv4-mapped IPv6', 'http://[::ffff:127.0.0.1]:9090'],
      ['target_url at localhost', 'http://localhost:9090'],
      ['target_url at 0.0.0.0', 'http://0.0.0.0:9090'],
    ] as const
  ).map(([name, url]): HostileCase => ({
    name,
    field: 'domains[0].routes[1].targetUrl',
    says: /points at/,
    mutate: (s) => {
      api(s).targetUrl = url;
    },
  })),
  ...(
    [
      ['service host 127.0.0.1', '127.0.0.1'],
      ['service host localhost', 'localhost'],
      ['service host 169.254.169.254', '169.254.169.254'],
      ['service host in hex', '0x7f000001'],
    ] as const
  ).map(([name, host]): HostileCase => ({
    name,
    field: 'services[1].host',
    says: /points at/,
    mutate: (s) => {
      s.services[1].host = host;
    },
  })),
  {
    name: 'a service named localhost (the name is the host)',
    field: 'services[0].host',
    says: /points at/,
    mutate: (s) => {
      s.services[0].name = 'localhost';
      for (const d of s.domains) for (const r of d.routes) if (r.service === 'web') r.service = 'localhost';
    },
  },
  {
    name: 'forwardAuth at the sidecar',
    field: 'domains[0].routes[1].middleware[0].forwardAuth.address',
    says: /points at/,
    mutate: (s) => mw(s, { forwardAuth: { address: 'http://127.0.0.1:9090/api/v1/status' } }),
  },
  {
    name: 'basicAuth usersFile',
    field: 'domains[0].routes[1].middleware[0].basicAuth.usersFile',
    says: /names a file/,
    mutate: (s) => mw(s, { basicAuth: { usersFile: '/app/traefik-configs/ssl/keys/other.example.key' } }),
  },
  {
    name: 'digestAuth usersFile',
    field: 'domains[0].routes[1].middleware[0].digestAuth.usersFile',
    says: /names a file/,
    mutate: (s) => mw(s, { digestAuth: { usersFile: '/etc/shadow' } }),
  },
  {
    name: 'forwardAuth client key of another project',
    field: 'domains[0].routes[1].middleware[0].forwardAuth.tls.key',
    says: /does not write for this project/,
    mutate: (s) =>
      mw(s, { forwardAuth: { address: 'https://auth.example', tls: { key: '/app/traefik-configs/ssl/keys/other.example.key' } } }),
  },
];
