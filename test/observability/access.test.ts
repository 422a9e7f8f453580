/**
 * docs/contract.md §9: the file API and the operator page need the token of API_TOKEN_FILE; without
 * one they answer loopback clients only; /metrics, /healthz and /readyz need neither. Requests that
 * are not authenticated by header must name an accepted Host (DNS rebinding). Real sockets: the
 * sidecar listens on all addresses and is called from loopback and from this machine's own
 * non-loopback address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedSample } from '../helpers/seed.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';
import { tempDir } from '../helpers/temp-dir.js';
import { captureLog } from '../reliability/support.js';
import { sidecarRoutes } from '../../src/sidecar/routes.js';

const TOKEN = 'tok-0123456789abcdef-XYZ';
/** This machine's first non-loopback IPv4 address: a client that is not on loopback. */
const lan = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
if (!lan) {
  if (process.env.CI) throw new Error('access.test.ts needs a non-loopback IPv4 address on this machine');
  console.warn('[skip] access.test.ts: no non-loopback IPv4 address on this machine');
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** GET from `from` (a local address) to the sidecar at `to`, with headers sent as given. */
function get(port: number, p: string, opts: { from?: string; to?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: opts.to ?? '127.0.0.1', port, path: p, localAddress: opts.from, headers: { ...opts.headers }, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

let t: TestDatabase;
let open: TestSidecar;
let locked: TestSidecar;
const logs = captureLog('trace');

beforeAll(async () => {
  t = await createTestDatabase();
  await seedSample(t.db);
  const dir = await tempDir('tsync-token-');
  const tokenFile = path.join(dir, 'token');
  await writeFile(tokenFile, `${TOKEN}\n`);
  open = await startTestSidecar(t.url, { 'http-addr': '0.0.0.0:0' });
  locked = await startTestSidecar(
    t.url,
    { 'http-addr': '0.0.0.0:0', 'api-token-file': tokenFile, 'log-level': 'trace' },
    { log: logs.log },
  );
  await waitFor(async () => (await open.get('/readyz')).status === 200 && (await locked.get('/readyz')).status === 200, 15_000);
});
afterAll(async () => {
  await open?.stop();
  await locked?.stop();
  await t?.drop();
});

const PROTECTED = ['/api/v1/projects', '/api/v1/status', '/api/v1/files/content?path=static/traefik.yml', '/', '/ui/app.css'];
const OPEN = ['/metrics', '/healthz', '/readyz'];

describe('without API_TOKEN_FILE: loopback clients only', () => {
  it.each(PROTECTED)('%s answers a loopback client', async (p) => {
    expect((await get(open.port, p, { headers: { host: `localhost:${open.port}` } })).status).toBe(200);
  });

  it.skipIf(!lan).each(PROTECTED)('%s refuses a client on another address (403)', async (p) => {
    const res = await get(open.port, p, { from: lan, to: lan });
    expect(res.status).toBe(403);
    expect(res.body).toMatch(/loopback/);
  });

  it.skipIf(!lan).each(OPEN)('%s answers anyone', async (p) => {
    expect((await get(open.port, p, { from: lan, to: lan })).status).toBe(200);
  });

  it.each(['evil.example', `evil.example:${1}`, 'attacker.localtest.me', '127.0.0.1.nip.io'])(
    'a loopback request naming Host %s (DNS rebinding) is refused',
    async (host) => {
      const res = await get(open.port, '/api/v1/projects', { headers: { host } });
      expect(res.status).toBe(403);
      expect(res.body).toMatch(/DNS rebinding/);
    },
  );

  it.each(['localhost', '127.0.0.1', '[::1]'])('Host %s is accepted', async (host) => {
    expect((await get(open.port, '/api/v1/projects', { headers: { host: `${host}:${open.port}` } })).status).toBe(200);
  });
});

describe('with API_TOKEN_FILE: a token for everyone', () => {
  it.each(PROTECTED)('%s without a token: 401, also from loopback', async (p) => {
    const res = await get(locked.port, p);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/Bearer/);
  });

  it.each(PROTECTED)('%s with a wrong token: 401', async (p) => {
    expect((await get(locked.port, p, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
  });

  it.skipIf(!lan).each(PROTECTED)('%s with the bearer token: 200 from another address, whatever the Host', async (p) => {
    const res = await get(locked.port, p, {
      from: lan,
      to: lan,
      headers: { authorization: `Bearer ${TOKEN}`, host: 'traefik-sync.ns.svc' },
    });
    expect(res.status).toBe(200);
  });

  it.skipIf(!lan).each(OPEN)('%s needs no token', async (p) => {
    expect((await get(locked.port, p, { from: lan, to: lan })).status).toBe(200);
  });

  it('the page: /?token= sets an HttpOnly, SameSite=Strict cookie (not the token) and redirects to /; the cookie opens the page and the API', async () => {
    const first = await get(locked.port, `/?token=${encodeURIComponent(TOKEN)}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const setCookie = String(first.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toContain(TOKEN);
    const jar = setCookie.split(';')[0]!;
    for (const p of ['/', '/ui/app.css', '/api/v1/projects']) {
      expect((await get(locked.port, p, { headers: { cookie: jar } })).status, p).toBe(200);
    }
    // The cookie does not help a page on another name that resolves here (the browser would not send it, and the Host is checked).
    expect((await get(locked.port, '/api/v1/projects', { headers: { cookie: jar, host: 'evil.example' } })).status).toBe(403);
    expect((await get(locked.port, '/?token=wrong-token-value-123')).status).toBe(401);
  });

  it('the token appears in no log line and no answer', async () => {
    await get(locked.port, `/?token=${TOKEN}`);
    await get(locked.port, '/api/v1/status', { headers: { authorization: `Bearer ${TOKEN}` } });
    const status = await get(locked.port, '/api/v1/status', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(status.body).not.toContain(TOKEN);
    expect(logs.text()).not.toContain(TOKEN);
  });
});

describe('API_TOKEN_FILE errors stop the start with the setting named', () => {
  const route = async (file: string) => {
    const config = loadConfig({ 'api-token-file': file, 'database-url': t.url }, {});
    return () => sidecarRoutes({ db: t.db, config, controller: open.controller, metrics: open.metrics });
  };
  it.each([
    ['a missing file', async () => path.join(await tempDir('tsync-tok-'), 'nope'), /--api-token-file \(API_TOKEN_FILE\): cannot read/],
    [
      'a short token',
      async () => {
        const f = path.join(await tempDir('tsync-tok-'), 't');
        await writeFile(f, 'short\n');
        return f;
      },
      /at least 16/,
    ],
  ])('%s', async (_name, file, says) => {
    expect(await route(await file())).toThrow(says);
  });
});
