/**
 * Rows that passed validation but rendered files Traefik (go-yaml v3 + paerser) refuses or reads
 * differently — and a refused file freezes the whole file provider (docs/traefik-facts.md §2 items 9–12).
 * Found by review; every case failed before. Each is now either refused with a problem naming
 * the field, or written so that it reads back as written.
 */
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { MiddlewareSpec, ProjectState } from '../../src/model.js';
import { renderProject } from '../../src/render/project.js';
import { fastYaml } from '../../src/render/fast-yaml.js';
import { YAML_OPTIONS, unescapeGoTemplate } from '../../src/render/serialize.js';

const SVC = '21111111-1111-4111-8111-111111111111';

function project(middleware: MiddlewareSpec[] | null, healthCheck: Record<string, unknown> | null = null): ProjectState {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    name: 'shop',
    version: 1,
    changedAt: null,
    services: [{ id: SVC, name: 'api', host: null }],
    domains: [
      {
        id: '31111111-1111-4111-8111-111111111111',
        domain: 'shop.example',
        subdomain: null,
        fullDomain: 'shop.example',
        sslEnabled: false,
        sslProvider: null,
        isActive: true,
        certificate: null,
        routes: [
          {
            id: '41111111-1111-4111-8111-111111111111',
            serviceId: SVC,
            pathRule: '/',
            priority: 1,
            middleware,
            targetPort: 8080,
            targetUrl: null,
            healthCheck,
            isActive: true,
          },
        ],
      },
    ],
  };
}

const render = (s: ProjectState) => renderProject(s, { configDir: '/etc/traefik' });
/** The YAML Traefik parses: our text after its Go-template pass, without the header comments. */
const bodyOf = (content: string) => unescapeGoTemplate(content.split('\n').slice(3).join('\n'));
const headers = (h: Record<string, string>) => [{ headers: { customRequestHeaders: h } }];
type Read = { http: { middlewares: Record<string, { headers: { customRequestHeaders: Record<string, unknown> } }> } };
/** The middleware file's headers as go-yaml would read them (YAML 1.1 resolution, merge keys). */
function readBack(s: ProjectState): Record<string, unknown> {
  const r = render(s);
  expect(r.problems).toEqual([]);
  const text = bodyOf(r.files.find((f) => f.path.endsWith('middleware.yml'))!.content);
  const read = parse(text, { version: '1.1', merge: true }) as Read;
  return Object.values(read.http.middlewares)[0]!.headers.customRequestHeaders;
}

describe('written so that Traefik reads back what was written', () => {
  it('a header name longer than 1024 characters (an explicit key; the fast path defers to the library)', () => {
    const name = `X-${'a'.repeat(1100)}`;
    const doc = render(project(headers({ [name]: 'v' }))).documents.get('dynamic/shop/middleware.yml');
    expect(fastYaml(doc)).toBeUndefined();
    expect(readBack(project(headers({ [name]: 'v' })))[name]).toBe('v');
  });

  it('a header named "<<" is refused (not an HTTP header name), so it never becomes a merge key', () => {
    expect(render(project(headers({ '<<': 'x' }))).problems).toEqual([
      'route "shop.example/": middleware[0].headers.customRequestHeaders: header name "<<" is not a valid HTTP header name',
    ]);
  });

  it.each(['1_000', '0b101', '0x_1f', '+1_0', '-0b11', '0o17'])('the string %s stays a string', (value) => {
    expect(readBack(project(headers({ 'X-Version': value })))['X-Version']).toBe(value);
  });

  it('plain strings still take the fast path, byte for byte the library', () => {
    const doc = render(project(headers({ 'X-Plain': 'value 1', 'X-Num': '10' }))).documents.get('dynamic/shop/middleware.yml');
    expect(fastYaml(doc)).toBe(stringify(doc, YAML_OPTIONS));
  });
});

describe('refused with a problem naming the field', () => {
  it.each([
    ['C1 control U+0080', 'a\u0080b'],
    ['U+009B', '\u009bx'],
    ['noncharacter U+FFFE', 'a\ufffeb'],
    ['noncharacter U+FFFF', 'a\uffffb'],
    ['line separator U+2028', 'a\u2028b'],
    ['paragraph separator U+2029', 'a\u2029b'],
    ['next line U+0085', 'a\u0085b'],
  ])('a header value with %s', (_label, value) => {
    expect(render(project(headers({ 'X-Test': value }))).problems.join('\n')).toMatch(
      /X-Test: contains a control character or line separator/,
    );
  });

  it.each<[string, MiddlewareSpec[] | null, Record<string, unknown> | null, RegExp]>([
    ['healthCheck.interval not a duration', null, { path: '/h', interval: 'soon' }, /health_check\.interval: expected a duration/],
    ['healthCheck.timeout not a duration', null, { path: '/h', timeout: '5 seconds' }, /health_check\.timeout: expected a duration/],
    ['healthCheck.port beyond int64', null, { path: '/h', port: 1e20 }, /health_check\.port: expected a whole number/],
    ['rateLimit.average as text', [{ rateLimit: { average: 'fast' } }], null, /rateLimit\.average: expected a whole number/],
    ['rateLimit.average fractional', [{ rateLimit: { average: 1.5 } }], null, /rateLimit\.average: expected a whole number/],
    ['rateLimit.burst fractional', [{ rateLimit: { average: 10, burst: 2.5 } }], null, /rateLimit\.burst: expected a whole number/],
    ['rateLimit.period not a duration', [{ rateLimit: { average: 10, period: 'minute' } }], null, /rateLimit\.period: expected a duration/],
    [
      'retry.initialInterval not a duration',
      [{ retry: { attempts: 3, initialInterval: 'later' } }],
      null,
      /retry\.initialInterval: expected a duration/,
    ],
    ['basicAuth unknown option', [{ basicAuth: { users: ['u:$apr1$x$y'], realmName: 'x' } }], null, /realmName/],
    ['forwardAuth.tls unknown option', [{ forwardAuth: { address: 'http://auth', tls: { verify: false } } }], null, /verify/],
  ])('%s', (_label, middleware, hc, message) => {
    const problems = render(project(middleware, hc)).problems;
    expect(problems.join('\n')).toMatch(message);
  });

  it.each<[string, MiddlewareSpec[] | null, Record<string, unknown> | null]>([
    [
      'durations in Go syntax',
      [{ rateLimit: { average: 100, burst: 50, period: '1m30s' } }, { retry: { attempts: 3, initialInterval: '100ms' } }],
      { path: '/h', interval: '10s', timeout: '3s' },
    ],
    ['numbers as digit strings', [{ rateLimit: { average: '100' } }], { path: '/h', port: 8081 }],
  ])('but accepts %s', (_label, middleware, hc) => {
    expect(render(project(middleware, hc)).problems).toEqual([]);
  });
});
