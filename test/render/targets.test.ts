/**
 * The renderer refuses routes that point Traefik at the pod itself or the cloud metadata service
 * (every spelling of loopback, link-local and unspecified addresses, in every field that holds an
 * address) unless ALLOWED_INTERNAL_TARGETS names them, and middleware options that name files
 * other than the project's own certificate files. Rows written by raw SQL reach the renderer as
 * they are, so it checks itself.
 */
import { describe, expect, it } from 'vitest';
import { parseInternalTargets } from '../../src/address.js';
import type { MiddlewareSpec, ProjectState, Route } from '../../src/model.js';
import { renderProject } from '../../src/render/project.js';
import { shop } from './fixtures.js';

const CONFIG_DIR = '/app/traefik-configs';
const ROUTE_ID = '42222222-2222-4222-8222-222222222222'; // shop.example/api, service "api" (host null), port 3000

function withRoute(patch: Partial<Route>): ProjectState {
  return {
    ...shop,
    domains: shop.domains.map((d) => ({ ...d, routes: d.routes.map((r) => (r.id === ROUTE_ID ? { ...r, ...patch } : r)) })),
  };
}
const withHost = (name: string, host: string | null): ProjectState => ({
  ...shop,
  services: shop.services.map((s) => (s.name === 'api' ? { ...s, name, host } : s)),
});
const withMiddleware = (m: MiddlewareSpec): ProjectState => withRoute({ middleware: [m] });

const render = (state: ProjectState, allowed = '') =>
  renderProject(state, { configDir: CONFIG_DIR, allowedInternalTargets: parseInternalTargets(allowed) });

/** Every spelling of an address that reaches the pod or the metadata service. */
const INTERNAL_URLS = [
  'http://127.0.0.1:9090',
  'http://127.1:9090',
  'http://127.255.255.254',
  'http://2130706433:9090',
  'http://0x7f000001:9090',
  'http://0x7f.0.0.1:9090',
  'http://0177.0.0.1:9090',
  'http://017700000001',
  'http://localhost:9090',
  'http://LOCALHOST:9090',
  'http://localhost.:9090',
  'http://api.localhost:9090',
  'http://localhost.localdomain',
  'http://ip6-localhost',
  'http://%6c%6fcalhost:9090',
  'http://[::1]:9090',
  'http://[0:0:0:0:0:0:0:1]:9090',
  'http://[::ffff:127.0.0.1]:9090',
  'http://[::ffff:7f00:1]:9090',
  'http://[::127.0.0.1]:9090',
  'http://0.0.0.0:9090',
  'http://0:9090',
  'http://[::]:9090',
  'http://169.254.169.254/latest/meta-data/',
  'http://169.254.170.2/v2/credentials',
  'http://[::ffff:169.254.169.254]/',
  'http://[fe80::1]:80',
  'http://[fd00:ec2::254]/',
  'http://metadata.google.internal/computeMetadata/v1/',
  'http://100.100.100.200/latest/meta-data/',
  'http://user:pw@127.0.0.1:9090',
  'http://evil.example@127.0.0.1:9090',
  'http://a@b@127.0.0.1:9090',
  'https://127.0.0.1',
  'h2c://127.0.0.1:9090',
];

describe('target_url', () => {
  it.each(INTERNAL_URLS)('%s is refused, naming target_url', (url) => {
    const r = render(withRoute({ targetUrl: url }));
    expect(r.files).toEqual([]);
    expect(r.problems.join('\n')).toMatch(/target_url points at/);
  });

  it.each([
    'http://web.internal:8080',
    'https://10.0.0.5:8443',
    'http://[2001:db8::1]:80',
    'http://evil.example#@127.0.0.1',
    'http://localhost-shop.example',
  ])('%s renders', (url) => {
    expect(render(withRoute({ targetUrl: url })).problems).toEqual([]);
  });

  it('ALLOWED_INTERNAL_TARGETS lets a named host (and port) through, and nothing else', () => {
    expect(render(withRoute({ targetUrl: 'http://127.0.0.1:8081' }), '127.0.0.1:8081').problems).toEqual([]);
    expect(render(withRoute({ targetUrl: 'http://2130706433:8081' }), '127.0.0.1:8081').problems).toEqual([]);
    expect(render(withRoute({ targetUrl: 'http://127.0.0.1:9090' }), '127.0.0.1:8081').problems.join()).toMatch(/target_url/);
    expect(render(withRoute({ targetUrl: 'http://localhost:9090' }), 'localhost').problems).toEqual([]);
    expect(render(withRoute({ targetUrl: 'http://[::1]:9090' }), '[::1]').problems).toEqual([]);
  });
});

describe('service host (and the service name as host)', () => {
  it.each([
    ['api', '127.0.0.1'],
    ['api', 'localhost'],
    ['api', '169.254.169.254'],
    ['api', '2130706433'],
    ['api', '0'],
    ['localhost', null],
    ['metadata', null],
  ])('service %s with host %s is refused, naming the service and host', (name, host) => {
    const r = render(withHost(name, host));
    expect(r.files).toEqual([]);
    expect(r.problems.join('\n')).toMatch(new RegExp(`service "${name}": host .*points at`));
  });

  it('allowed by name with ALLOWED_INTERNAL_TARGETS', () => {
    expect(render(withHost('api', 'localhost'), 'localhost:3000').problems).toEqual([]);
  });
});

describe('middleware options', () => {
  const CASES: ReadonlyArray<[string, MiddlewareSpec, RegExp]> = [
    ['forwardAuth to the sidecar', { forwardAuth: { address: 'http://127.0.0.1:9090/api/v1/status' } }, /forwardAuth\.address points at/],
    ['forwardAuth to metadata', { forwardAuth: { address: 'http://169.254.169.254/' } }, /forwardAuth\.address points at/],
    [
      'basicAuth usersFile',
      { basicAuth: { usersFile: '/app/traefik-configs/ssl/keys/other.example.key' } },
      /basicAuth\.usersFile: names a file/,
    ],
    ['digestAuth usersFile', { digestAuth: { usersFile: '/etc/passwd' } }, /digestAuth\.usersFile: names a file/],
    [
      'forwardAuth tls key of another project',
      { forwardAuth: { address: 'https://auth.example', tls: { key: '/app/traefik-configs/ssl/keys/blog.example.key' } } },
      /forwardAuth\.tls\.key: names a file/,
    ],
    [
      'forwardAuth tls ca elsewhere',
      { forwardAuth: { address: 'https://auth.example', tls: { ca: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt' } } },
      /forwardAuth\.tls\.ca: names a file/,
    ],
    [
      'forwardAuth tls cert through ..',
      { forwardAuth: { address: 'https://auth.example', tls: { cert: '/app/traefik-configs/ssl/certs/../keys/blog.example.key' } } },
      /forwardAuth\.tls\.cert: names a file/,
    ],
    [
      'an inline private key',
      { forwardAuth: { address: 'https://auth.example', tls: { key: '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----' } } },
      /forwardAuth\.tls\.key: holds a private key/,
    ],
  ];
  it.each(CASES)('%s is refused', (_why, m, says) => {
    const r = render(withMiddleware(m));
    expect(r.files).toEqual([]);
    expect(r.problems.join('\n')).toMatch(says);
  });

  it("the project's own certificate and key files are allowed for forwardAuth.tls", () => {
    const m = {
      forwardAuth: {
        address: 'https://auth.example',
        tls: { cert: `${CONFIG_DIR}/ssl/certs/secure.shop.example.crt`, key: `${CONFIG_DIR}/ssl/keys/secure.shop.example.key` },
      },
    };
    expect(render(withMiddleware(m)).problems).toEqual([]);
  });
});
