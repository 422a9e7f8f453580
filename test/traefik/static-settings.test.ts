/**
 * The static-config settings (TRAEFIK_ENTRYPOINTS, TRAEFIK_API_ADDR, TRAEFIK_THROTTLE,
 * TRAEFIK_STATIC_FILE, TRAEFIK_API_URL): what they generate, and the one-line errors naming the
 * setting, the value (or the file and the key) that a bad value stops the start with.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { renderStatic, staticDocument } from '../../src/render/static.js';
import { tempDir } from '../helpers/temp-dir.js';

const load = (flags: Record<string, string>, env: Record<string, string> = {}) => loadConfig(flags, env);
const docOf = (flags: Record<string, string>, env: Record<string, string> = {}) =>
  staticDocument({ ...load(flags, env).traefikStatic, configDir: '/cfg', resolvers: ['letsencrypt'] }) as any;

async function overlayFile(text: string): Promise<string> {
  const file = path.join(await tempDir('tsync-overlay-'), 'static.yml');
  await writeFile(file, text);
  return file;
}

describe('defaults', () => {
  it('web :80, websecure :443, metrics :8082, the API on 127.0.0.1:8080, ping and metrics on metrics, throttle 500ms', () => {
    const doc = docOf({});
    expect(doc.entryPoints).toEqual({
      web: { address: ':80' },
      websecure: { address: ':443' },
      metrics: { address: ':8082' },
      traefik: { address: '127.0.0.1:8080' },
    });
    expect(doc.api).toEqual({ insecure: true });
    expect(doc.ping).toEqual({ entryPoint: 'metrics' });
    expect(doc.metrics.prometheus.entryPoint).toBe('metrics');
    expect(doc.providers).toEqual({ providersThrottleDuration: '500ms', file: { directory: '/cfg/dynamic', watch: true } });
    expect(load({}).traefikApiUrl).toBeUndefined();
  });
});

describe('TRAEFIK_ENTRYPOINTS', () => {
  it('sets the entry points; flags win over the environment', () => {
    const doc = docOf(
      { 'traefik-entrypoints': 'web=127.0.0.1:8000,websecure=[::1]:8443,dns=:53/udp' },
      { TRAEFIK_ENTRYPOINTS: 'web=:1,websecure=:2' },
    );
    expect(doc.entryPoints).toEqual({
      web: { address: '127.0.0.1:8000' },
      websecure: { address: '[::1]:8443' },
      dns: { address: ':53/udp' },
      traefik: { address: '127.0.0.1:8080' },
    });
  });

  it('without a metrics entry point, metrics and ping go to the API entry point; without the API either, neither is generated', () => {
    const doc = docOf({ 'traefik-entrypoints': 'web=:80,websecure=:443' });
    expect(doc.ping).toEqual({ entryPoint: 'traefik' });
    expect(doc.metrics.prometheus.entryPoint).toBe('traefik');
    const none = docOf({ 'traefik-entrypoints': 'web=:80,websecure=:443', 'traefik-api-addr': '' });
    expect(none.ping).toBeUndefined();
    expect(none.metrics).toBeUndefined();
    expect(none.api).toBeUndefined();
    expect(none.entryPoints.traefik).toBeUndefined();
  });

  it.each([
    ['web=:80', /the entry point "websecure" is required/],
    ['web=:80,websecure=:443,web=:81', /entry point "web" is listed twice/],
    ['web=:80,websecure=:80', /address ":80" is also the address of entry point "web"/],
    ['web=:80,websecure=0.0.0.0:443,x=127.0.0.1:443', /also the address of entry point "websecure"/],
    ['web=:80,websecure=:443/udp', /"websecure" serves HTTP and cannot be UDP/],
    ['web=:80,websecure=:70000', /address ":70000" is not \[host\]:port/],
    ['web=:80,websecure=:0', /address ":0" is not/],
    ['web=80,websecure=:443', /address "80" is not/],
    ['web:80,websecure=:443', /"web:80" has no address/],
    ['web=:80,,websecure=:443', /empty entry/],
    ['web=:80,websecure=:443,traefik=:9000', /reserved for the API entry point/],
    ['web=:80,websecure=:443,a b=:9000', /entry point name "a b"/],
  ])('%s is refused', (value, message) => {
    expect(() => load({ 'traefik-entrypoints': value })).toThrow(message);
    expect(() => load({ 'traefik-entrypoints': value })).toThrow(/^--traefik-entrypoints \(TRAEFIK_ENTRYPOINTS\): /);
  });
});

describe('TRAEFIK_API_ADDR', () => {
  it('empty (flag or environment) means no API; unset means the default', () => {
    expect(load({ 'traefik-api-addr': '' }).traefikStatic.apiAddress).toBeNull();
    expect(load({}, { TRAEFIK_API_ADDR: '' }).traefikStatic.apiAddress).toBeNull();
    expect(load({}, {}).traefikStatic.apiAddress).toBe('127.0.0.1:8080');
    expect(load({}, { TRAEFIK_API_ADDR: '[::1]:9000' }).traefikStatic.apiAddress).toBe('[::1]:9000');
  });

  it.each([
    [':8080', /loopback only/],
    ['0.0.0.0:8080', /loopback only/],
    ['10.0.0.1:8080', /loopback only/],
    ['127.0.0.1', /expected a loopback host:port/],
    ['127.0.0.1:8080/udp', /expected a loopback host:port/],
    ['127.0.0.1:8082', /also the address of entry point "metrics"/],
  ])('%s is refused', (value, message) => {
    expect(() => load({ 'traefik-api-addr': value })).toThrow(message);
    expect(() => load({ 'traefik-api-addr': value })).toThrow(/^--traefik-api-addr \(TRAEFIK_API_ADDR\): /);
  });
});

describe('TRAEFIK_THROTTLE and TRAEFIK_API_URL', () => {
  it('the throttle is written as given', () => {
    expect(docOf({ 'traefik-throttle': '2s' }).providers.providersThrottleDuration).toBe('2s');
    expect(docOf({}, { TRAEFIK_THROTTLE: '100ms' }).providers.providersThrottleDuration).toBe('100ms');
  });

  it.each(['soon', '5', '-1s', '1d'])('throttle %s is refused', (value) => {
    expect(() => load({ 'traefik-throttle': value })).toThrow(/^--traefik-throttle \(TRAEFIK_THROTTLE\): expected a duration/);
  });

  it('TRAEFIK_API_URL is an http(s) URL without credentials', () => {
    expect(load({ 'traefik-api-url': 'http://127.0.0.1:8080' }).traefikApiUrl).toBe('http://127.0.0.1:8080');
    for (const bad of ['127.0.0.1:8080', 'ftp://x', 'http://u:p@x']) {
      expect(() => load({ 'traefik-api-url': bad })).toThrow(/^--traefik-api-url \(TRAEFIK_API_URL\): expected an http/);
    }
  });
});

describe('TRAEFIK_STATIC_FILE', () => {
  it('is merged over the generated config: maps key by key, lists replaced, null removes', async () => {
    const file = await overlayFile(`
entryPoints:
  web:
    forwardedHeaders:
      trustedIPs: [10.0.0.0/8]
certificatesResolvers:
  letsencrypt:
    acme:
      email: ops@example.com
accessLog: null
log:
  level: DEBUG
`);
    const doc = docOf({ 'traefik-static-file': file });
    expect(doc.entryPoints.web).toEqual({ address: ':80', forwardedHeaders: { trustedIPs: ['10.0.0.0/8'] } });
    expect(doc.certificatesResolvers.letsencrypt.acme).toEqual({
      email: 'ops@example.com',
      storage: '/var/lib/traefik/acme-letsencrypt.json',
      httpChallenge: { entryPoint: 'web' },
    });
    expect(doc.accessLog).toBeUndefined();
    expect(doc.log).toEqual({ level: 'DEBUG', format: 'json' });
  });

  it('renders deterministically, and a {{ in the overlay is written as it is (Traefik does not template its static file)', async () => {
    const file = await overlayFile('log: {filePath: "/var/log/{{x}}.log"}\n');
    const settings = load({ 'traefik-static-file': file }).traefikStatic;
    const a = renderStatic({ ...settings, configDir: '/c', resolvers: ['b', 'a'] });
    const b = renderStatic({ ...settings, configDir: '/c', resolvers: ['a', 'b', 'a'] });
    expect(a.content).toBe(b.content);
    expect(parse(a.content).log.filePath).toBe('/var/log/{{x}}.log');
  });

  it.each([
    ['providers: {file: {directory: /elsewhere}}', /providers\.file: the file provider is traefik-sync's/],
    ['providers: {file: {watch: false}}', /providers\.file: /],
    ['providers: null', /providers\.file: /],
    ['providers: {providersThrottleDuration: 10s}', /providers\.providersThrottleDuration: set by --traefik-throttle/],
    ['entryPoints: {web: {address: ":8000"}}', /entryPoints\.web\.address: set by --traefik-entrypoints/],
    ['entryPoints: {traefik: {address: ":8080"}}', /entryPoints\.traefik\.address: set by --traefik-api-addr/],
    ['entryPoints: {web: {bogus: 1}}', /entryPoints\.web: must NOT have additional properties \(bogus\)/],
    ['log: {level: 5}', /log\.level: must be string/],
    ['ping: {entryPoint: nowhere}', /ping\.entryPoint: no entry point named "nowhere"/],
    ['pilot: {token: x}', /must NOT have additional properties \(pilot\)/],
    ['- a list', /expected a mapping/],
    ['a: [1\n', /not valid YAML \(line/],
    ['a: 1\na: 2\n', /not valid YAML/],
  ])('%s is refused, naming the file and the key', async (text, message) => {
    const file = await overlayFile(text);
    expect(() => load({ 'traefik-static-file': file })).toThrow(message);
    expect(() => load({ 'traefik-static-file': file })).toThrow(`--traefik-static-file (TRAEFIK_STATIC_FILE): ${file}: `);
  });

  it('a missing file is named', () => {
    expect(() => load({}, { TRAEFIK_STATIC_FILE: '/nonexistent/static.yml' })).toThrow(
      /^--traefik-static-file \(TRAEFIK_STATIC_FILE\): \/nonexistent\/static.yml: cannot be read: ENOENT/,
    );
  });

  it('an empty file changes nothing', async () => {
    const file = await overlayFile('');
    expect(docOf({ 'traefik-static-file': file })).toEqual(docOf({}));
  });
});
