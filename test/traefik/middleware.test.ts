/**
 * Each middleware kind the config service accepts does, through a real Traefik, what Traefik
 * documents; a `ref` reaches a middleware of another provider (Traefik's REST provider, enabled
 * by the operator overlay); a header value holding `{{ }}` (written into the database directly:
 * the config service refuses it) reaches the backend byte for byte; a health check marks a dead
 * backend down. Against the newest and the oldest Traefik tested.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../../src/db/connect.js';
import { waitFor } from '../helpers/sidecar.js';
import { traefikForSuite } from '../helpers/traefik.js';
import type { Backend, Reply } from './backends.js';
import { startStack, traefikErrors, waitForDisk, type Stack } from './stack.js';

const HOST = 'mw.test';
const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;
const SHA_USER = `alice:{SHA}${createHash('sha1').update('wonderland').digest('base64')}`;
/** Survives YAML, Go templates and HTTP: braces in every arrangement, quotes, a template action. */
const TEMPLATE_VALUE = 'a{{ env "HOME" }}b}}c{{{d}}}e{{"{{"}}f `g` \'h\' "i"';

/** Route path → middleware chain (and backend behaviour) of the one project this file applies. */
const ROUTES: Record<string, { mw?: unknown[]; healthCheck?: Record<string, unknown> }> = {
  '/plain': {},
  '/strip': { mw: [{ stripPrefix: { prefixes: ['/strip'] } }] },
  '/sre': { mw: [{ stripPrefixRegex: { regex: ['/sre/[0-9]+'] } }] },
  '/add': { mw: [{ addPrefix: { prefix: '/v1' } }] },
  '/chain': { mw: [{ stripPrefix: { prefixes: ['/chain'] } }, { addPrefix: { prefix: '/v2' } }] },
  '/replace': { mw: [{ replacePath: { path: '/replaced' } }] },
  '/rpr': { mw: [{ replacePathRegex: { regex: '^/rpr/(.*)', replacement: '/new/$1' } }] },
  '/headers': {
    mw: [
      { headers: { customRequestHeaders: { 'X-Req': 'v1', 'X-Remove': '' }, customResponseHeaders: { 'X-Resp': 'r1' }, frameDeny: true } },
    ],
  },
  '/basic': { mw: [{ basicAuth: { users: [SHA_USER], realm: 'mw realm' } }] },
  '/digest': { mw: [{ digestAuth: { users: ['bob:r:0123456789abcdef0123456789abcdef'] } }] },
  '/deny': { mw: [{ ipAllowList: { sourceRange: ['10.0.0.0/8'] } }] },
  '/allow': { mw: [{ ipAllowList: { sourceRange: ['127.0.0.1', '::1'] } }] },
  '/rate': { mw: [{ rateLimit: { average: 1, period: '1m', burst: 1 } }] },
  '/old': { mw: [{ redirectRegex: { regex: '^http://([^/]+)/old/(.*)', replacement: 'http://${1}/new/${2}' } }] },
  '/scheme': { mw: [{ redirectScheme: { scheme: 'https', permanent: true } }] },
  '/gzip': { mw: [{ compress: {} }] },
  '/retry': { mw: [{ retry: { attempts: 3, initialInterval: '1s' } }] },
  '/breaker': {
    mw: [{ circuitBreaker: { expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.5', checkPeriod: '100ms', fallbackDuration: '1m' } }],
  },
  '/buffer': { mw: [{ buffering: { maxRequestBodyBytes: 10 } }] },
  '/inflight': { mw: [{ inFlightReq: { amount: 5 } }] },
  '/misc': { mw: [{ contentType: {} }, { grpcWeb: { allowOrigins: ['*'] } }, { passTLSClientCert: { pem: true } }] },
  '/auth-ok': { mw: [{ forwardAuth: { address: 'AUTH_OK', authResponseHeaders: ['X-Auth-User'] } }] },
  '/auth-no': { mw: [{ forwardAuth: { address: 'AUTH_NO' } }] },
  '/ref': { mw: [{ ref: 'rest-mw@rest' }] },
  '/template': {},
  '/hc': { healthCheck: { path: '/health', interval: '1s', timeout: '500ms' } },
};

for (const which of ['newest', 'oldest'] as const) {
  const binary = traefikForSuite(which);
  describe.skipIf(!binary)(`middlewares in Traefik ${binary?.version ?? which}`, () => {
    let stack: Stack;
    const b: Record<string, Backend> = {};
    const get = (path: string, o: { headers?: Record<string, string>; method?: string; body?: string } = {}): Promise<Reply> =>
      stack.request({ host: HOST, path, ...o });

    beforeAll(async () => {
      // Traefik's REST provider, on its API entry point, as "another provider" for `ref`.
      stack = await startStack(binary!, { overlay: { providers: { rest: { insecure: true } } } });
      for (const path of Object.keys(ROUTES)) b[path] = await stack.backends.add(path);
      const authOk = await stack.backends.add('auth-ok', { headers: { 'X-Auth-User': 'alice' } });
      const authNo = await stack.backends.add('auth-no', { status: 401 });
      b['/breaker']!.behaviour.status = 500;
      const rest = await fetch(`${stack.traefik.apiUrl}/api/providers/rest`, {
        method: 'PUT',
        body: JSON.stringify({ http: { middlewares: { 'rest-mw': { headers: { customRequestHeaders: { 'X-Rest': 'from rest' } } } } } }),
      });
      expect(rest.status).toBe(200);
      const routes = Object.entries(ROUTES).map(([path, r]) => ({
        path,
        service: 'svc',
        targetPort: b[path]!.port,
        ...(r.mw
          ? {
              middleware: JSON.parse(
                JSON.stringify(r.mw).replace('AUTH_OK', `${authOk.url}/check`).replace('AUTH_NO', `${authNo.url}/check`),
              ) as unknown[],
            }
          : {}),
        ...(r.healthCheck ? { healthCheck: r.healthCheck } : {}),
      }));
      const { projectId } = await stack.config.apply({
        name: 'mw',
        services: [{ name: 'svc', host: '127.0.0.1' }],
        domains: [{ domain: HOST, ssl: false, routes }],
      });
      // The config service refuses "{{" (docs/spec-format.md); any other client of the database may write it.
      await stack.t.db.query(sql`
        UPDATE route_configs SET middleware = ${JSON.stringify([{ headers: { customRequestHeaders: { 'X-Template': TEMPLATE_VALUE } } }])}::jsonb
        WHERE path_rule = '/template'`);
      await waitFor(async () => {
        await stack.config.waitForSync(projectId);
        return true;
      }, 20_000);
      await waitForDisk(stack);
    }, 90_000);
    afterAll(async () => stack?.stop());

    it('every middleware is built without error', async () => {
      expect(traefikErrors(await stack.traefik.rawdata())).toEqual([]);
    });

    it('stripPrefix, stripPrefixRegex, addPrefix, replacePath, replacePathRegex rewrite the path the backend sees; a chain runs in order', async () => {
      const strip = await get('/strip/x?q=1');
      expect(strip.seen?.url).toBe('/x?q=1');
      expect(strip.seen?.headers['x-forwarded-prefix']).toBe('/strip');
      expect((await get('/sre/123/x')).seen?.url).toBe('/x');
      expect((await get('/add/x')).seen?.url).toBe('/v1/add/x');
      expect((await get('/chain/x')).seen?.url).toBe('/v2/x');
      expect((await get('/replace/anything')).seen?.url).toBe('/replaced');
      expect((await get('/rpr/a/b')).seen?.url).toBe('/new/a/b');
    });

    it('headers: request headers set and removed, response headers added', async () => {
      const r = await get('/headers', { headers: { 'X-Remove': 'gone', 'X-Keep': 'kept' } });
      expect(r.seen?.headers['x-req']).toBe('v1');
      expect(r.seen?.headers['x-remove']).toBeUndefined();
      expect(r.seen?.headers['x-keep']).toBe('kept');
      expect(r.headers['x-resp']).toBe('r1');
      expect(r.headers['x-frame-options']).toBe('DENY');
    });

    it('basicAuth: 401 with its realm without credentials or with wrong ones, the backend with the right ones', async () => {
      const none = await get('/basic');
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Basic realm="mw realm"');
      expect(none.seen).toBeUndefined();
      expect((await get('/basic', { headers: { authorization: basic('alice', 'nope') } })).status).toBe(401);
      expect((await get('/basic', { headers: { authorization: basic('alice', 'wonderland') } })).seen?.backend).toBe('/basic');
      const digest = await get('/digest');
      expect(digest.status).toBe(401);
      expect(digest.headers['www-authenticate']).toMatch(/^Digest /);
    });

    it('ipAllowList: 403 for a client outside the ranges, the backend inside them', async () => {
      const deny = await get('/deny');
      expect(deny.status).toBe(403);
      expect(deny.seen).toBeUndefined();
      expect((await get('/allow')).seen?.backend).toBe('/allow');
    });

    it('rateLimit: 429 once the burst is spent', async () => {
      expect((await get('/rate')).status).toBe(200);
      const second = await get('/rate');
      expect(second.status).toBe(429);
      expect(second.seen).toBeUndefined();
    });

    it('redirectRegex and redirectScheme redirect as configured', async () => {
      const r = await get('/old/x/y');
      expect(r.status).toBe(302);
      expect(r.headers.location).toBe(`http://${HOST}/new/x/y`);
      const s = await get('/scheme/z');
      expect([301, 308]).toContain(s.status);
      expect(s.headers.location).toBe(`https://${HOST}/scheme/z`);
    });

    it('compress: gzip for a client that accepts it, plain for one that does not', async () => {
      b['/gzip']!.behaviour.pad = 4000;
      const z = await get('/gzip', { headers: { 'accept-encoding': 'gzip' } });
      expect(z.headers['content-encoding']).toBe('gzip');
      expect(z.rawBody.length).toBeLessThan(z.body.length);
      expect(z.seen?.backend).toBe('/gzip');
      expect((await get('/gzip')).headers['content-encoding']).toBeUndefined();
    });

    it('retry: a backend that refuses the first connection is tried again after the backoff', async () => {
      const port = b['/retry']!.port;
      await stack.backends.kill(b['/retry']!);
      const started = Date.now();
      const reply = get('/retry/again');
      // Back on the same port well before the second attempt (initialInterval 1s).
      await new Promise((r) => setTimeout(r, 300));
      const revived = await stack.backends.add('/retry revived', {}, port);
      const r = await reply;
      expect(r.status).toBe(200);
      expect(r.seen?.backend).toBe('/retry revived');
      expect(revived.seen).toHaveLength(1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    });

    it('circuitBreaker: once most answers are 5xx, the breaker answers 503 without asking the backend', async () => {
      const hits = () => b['/breaker']!.seen.length;
      await waitFor(async () => (await get('/breaker')).status === 503, 10_000, 50);
      const before = hits();
      const r = await get('/breaker');
      expect(r.status).toBe(503);
      expect(hits()).toBe(before);
    });

    it('buffering: a request body over maxRequestBodyBytes is refused with 413', async () => {
      expect((await get('/buffer', { method: 'POST', body: 'x'.repeat(5) })).status).toBe(200);
      expect((await get('/buffer', { method: 'POST', body: 'x'.repeat(100) })).status).toBe(413);
    });

    it('inFlightReq, contentType, grpcWeb and passTLSClientCert let an ordinary request through', async () => {
      expect((await get('/inflight')).seen?.backend).toBe('/inflight');
      expect((await get('/misc')).seen?.backend).toBe('/misc');
    });

    it('forwardAuth: the auth server decides, and its headers reach the backend', async () => {
      const ok = await get('/auth-ok');
      expect(ok.seen?.headers['x-auth-user']).toBe('alice');
      const no = await get('/auth-no');
      expect(no.status).toBe(401);
      expect(no.seen?.backend).toBe('auth-no'); // the auth server's answer, passed on
      expect(b['/auth-no']!.seen).toEqual([]);
    });

    it('a ref reaches the middleware another provider defines', async () => {
      expect((await get('/ref')).seen?.headers['x-rest']).toBe('from rest');
    });

    it('a header value with {{ }} reaches the backend byte for byte (Go-template escaping)', async () => {
      const r = await get('/template');
      expect(Buffer.from(String(r.seen?.headers['x-template']), 'latin1').toString('utf8')).toBe(TEMPLATE_VALUE);
    });

    it('a health check marks a dead backend down, and Traefik stops sending it requests', async () => {
      expect((await get('/hc')).seen?.backend).toBe('/hc');
      await stack.backends.kill(b['/hc']!);
      const url = `http://127.0.0.1:${b['/hc']!.port}`;
      await waitFor(
        async () => {
          const raw = await stack.traefik.rawdata();
          const svc = Object.entries(raw.services ?? {}).find(
            ([name]) => name.startsWith('mw_svc_') && raw.services?.[name]?.serverStatus?.[url],
          );
          return svc?.[1].serverStatus?.[url] === 'DOWN';
        },
        10_000,
        100,
      );
      expect((await get('/hc')).status).toBe(503);
    });
  });
}
