import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { rawGet, startHostileFixture, type HostileFixture } from './fixture.js';

let t: TestDatabase;
let f: HostileFixture;

beforeAll(async () => {
  t = await createTestDatabase();
  f = await startHostileFixture(t);
});
afterAll(async () => {
  await f?.s.stop();
  await t?.drop();
  if (f) await rm(f.base, { recursive: true, force: true });
});

type Status = 400 | 403 | 404;
/** Expected status per endpoint: one for all, or [tree, content/download, diff]. */
interface Case {
  /** The query value exactly as sent on the wire (already percent-encoded where needed). */
  readonly q: string;
  readonly want: Status | readonly [Status, Status, Status];
  readonly why: string;
}
const enc = encodeURIComponent;
const KEY = 'secure.shop.example.key';

const corpus: Case[] = [
  { q: '..', want: 400, why: 'parent of the root' },
  { q: '../..', want: 400, why: 'two levels up' },
  { q: '../canary.txt', want: 400, why: 'sibling of the root' },
  { q: '../../../../../../../etc/passwd', want: 400, why: 'deep climb to /etc/passwd' },
  { q: '%2e%2e', want: 400, why: 'percent-encoded .. (decoded once to ..)' },
  { q: '%2e%2e%2fcanary.txt', want: 400, why: 'encoded ../' },
  { q: '%252e%252e', want: 400, why: 'doubly encoded ..' },
  { q: '%252e%252e%252fcanary.txt', want: 400, why: 'doubly encoded ../' },
  { q: '%25252e%25252e%25252fcanary.txt', want: 400, why: 'triply encoded ../' },
  { q: '..%2fcanary.txt', want: 400, why: 'mixed ..%2f' },
  { q: '..%252fcanary.txt', want: 400, why: 'mixed ..%252f' },
  { q: '%2e%2e%5ccanary.txt', want: 400, why: 'encoded ..\\' },
  { q: '%252e%252e%255ccanary.txt', want: 400, why: 'doubly encoded ..\\' },
  { q: '%2Fetc%2Fpasswd', want: 400, why: 'absolute /etc/passwd' },
  { q: '/etc/passwd', want: 400, why: 'absolute, unencoded' },
  { q: '//etc/passwd', want: 400, why: 'network-path style' },
  { q: enc('\\..\\canary.txt'), want: 400, why: 'backslash traversal' },
  { q: enc('C:\\Windows\\win.ini'), want: 400, why: 'Windows path' },
  { q: enc('dynamic\\..\\..\\canary.txt'), want: 400, why: 'backslash inside' },
  { q: 'dynamic/../../canary.txt', want: 400, why: 'climb through a real folder' },
  { q: 'dynamic/shop/../../../canary.txt', want: 400, why: 'deeper climb through real folders' },
  { q: `dynamic/../ssl/keys/${KEY}`, want: 400, why: 'climb into the keys' },
  { q: 'dynamic%2f..%2f..%2fcanary.txt', want: 400, why: 'encoded separators around ..' },
  { q: 'dynamic/shop/domains.yml/..', want: 400, why: 'trailing ..' },
  { q: 'dynamic/shop/domains.yml%00.txt', want: 400, why: 'NUL byte' },
  { q: 'dynamic/shop/domains.yml%2500', want: 400, why: 'doubly encoded NUL' },
  { q: enc('dynamic/shop/domains.yml\r\nX-Injected: 1'), want: 400, why: 'CR LF' },
  { q: enc('dynamic/\u202eshop/domains.yml'), want: 400, why: 'bidi override' },
  { q: enc('\uff0e\uff0e/canary.txt'), want: 400, why: 'fullwidth full stops' },
  { q: enc('\u2024\u2024/canary.txt'), want: 400, why: 'one-dot leaders' },
  { q: enc('\u2025/canary.txt'), want: 400, why: 'two-dot leader' },
  { q: enc('..\u2215canary.txt'), want: 400, why: 'division slash' },
  { q: enc('..\uff0fcanary.txt'), want: 400, why: 'fullwidth solidus' },
  { q: '%e2%80%a4%e2%80%a4%2fcanary.txt', want: 400, why: 'encoded one-dot leaders' },
  { q: '%c0%ae%c0%ae%c0%afcanary.txt', want: 400, why: 'overlong UTF-8 ../' },
  { q: '%', want: 400, why: 'malformed percent-encoding' },
  { q: '.', want: 400, why: 'dot segment' },
  { q: './dynamic', want: 400, why: 'leading ./' },
  { q: 'dynamic//shop', want: 400, why: 'empty segment' },
  { q: 'dynamic/', want: 400, why: 'trailing slash' },
  { q: 'file:///etc/passwd', want: 400, why: 'file URL' },
  { q: 'a/'.repeat(600) + 'x', want: 400, why: 'very long path' },
  { q: '../'.repeat(400), want: 400, why: 'very long climb' },
  { q: 'dynamic/escape-link/canary.yml', want: 400, why: 'directory symlink to outside' },
  { q: 'dynamic/escape-link', want: 400, why: 'the outside-pointing link itself' },
  { q: 'dynamic/shop/escape.yml', want: 400, why: 'file symlink to the canary' },
  { q: 'dynamic/dangling-out', want: 400, why: 'dangling symlink to outside' },
  { q: 'static/etc/passwd', want: 400, why: 'symlink to /etc' },
  { q: `ssl/keys/${KEY}`, want: 403, why: 'a private key' },
  { q: 'ssl/keys', want: 403, why: 'the keys folder' },
  { q: `ssl/./keys/${KEY}`, want: 400, why: 'dot segment before keys' },
  { q: `ssl//keys/${KEY}`, want: 400, why: 'empty segment before keys' },
  { q: `SSL/KEYS/${KEY}`, want: 403, why: 'upper-case keys path' },
  { q: `ssl/Keys/${KEY}`, want: 403, why: 'mixed-case keys path' },
  { q: 'SSL/KEYS/..', want: 400, why: 'upper-case keys with ..' },
  { q: 'SSL/KEYS/../../canary.txt', want: 400, why: 'climb out via upper-case keys' },
  { q: `ssl%2fkeys%2f${KEY}`, want: 403, why: 'separators encoded once (the usual query encoding) to a key' },
  { q: `ssl%252fkeys%252f${KEY}`, want: 400, why: 'doubly encoded separators to a key' },
  { q: `ssl/keys%2f..%2f..%2f..%2fcanary.txt`, want: 400, why: 'keys path climbing out' },
  { q: 'dynamic/keylink.yml', want: 403, why: 'symlink into ssl/keys' },
  { q: `static/keysdir/${KEY}`, want: 403, why: 'directory symlink to ssl/keys' },
  { q: 'dynamic/shop/secure.key', want: 403, why: '*.key anywhere' },
  { q: 'static/notes.txt', want: [400, 403, 403], why: 'a PEM private key outside ssl/keys (content check)' },
  { q: 'static/hardlink.yml', want: [400, 403, 403], why: 'a hard link to the canary outside the root' },
  { q: '...', want: 404, why: 'three dots is a name, not traversal' },
  { q: '..%3B/canary.txt', want: 404, why: '"..;" is just a name here (the servlet trick does nothing)' },
  { q: '~/.ssh/id_rsa', want: 404, why: 'home directory shorthand is a name' },
  { q: 'dynamic/nope.yml', want: 404, why: 'missing file' },
];

const endpoints = ['/api/v1/files', '/api/v1/files/content', '/api/v1/files/download', '/api/v1/diff'] as const;

function wanted(c: Case, endpoint: (typeof endpoints)[number]): Status {
  if (typeof c.want === 'number') return c.want;
  return endpoint === '/api/v1/files' ? c.want[0] : endpoint === '/api/v1/diff' ? c.want[2] : c.want[1];
}

describe('hostile paths against every file endpoint', () => {
  it(`has a corpus of 30+ hostile paths (${corpus.length})`, () => {
    expect(corpus.length).toBeGreaterThanOrEqual(30);
  });

  for (const endpoint of endpoints) {
    it(`${endpoint}: refuses each with 400/403/404, as JSON {error}, leaking no byte from outside the root and no key`, async () => {
      const seen: Record<number, number> = {};
      for (const c of corpus) {
        for (const method of ['GET', 'HEAD']) {
          const res = await rawGet(f.s.port, `${endpoint}?path=${c.q}`, method);
          const body = res.body.toString('latin1');
          expect(res.status, `${method} ${c.why}: ${c.q.slice(0, 80)} → ${body.slice(0, 200)}`).toBe(wanted(c, endpoint));
          expect(body).not.toContain(f.canary);
          expect(body).not.toContain('PRIVATE KEY');
          for (const line of f.keyLines) expect(body).not.toContain(line);
          if (method === 'HEAD') continue;
          seen[res.status] = (seen[res.status] ?? 0) + 1;
          expect(res.headers['content-type']).toMatch(/^application\/json/);
          const json = JSON.parse(body) as { error: unknown };
          expect(Object.keys(json)).toEqual(['error']);
          expect(typeof json.error).toBe('string');
          expect(json.error).not.toMatch(/\n\s+at |\.ts:\d+|node:internal/);
          expect(json.error).not.toContain(f.base);
        }
      }
      console.log(`${endpoint}: ${corpus.length} hostile paths → ${JSON.stringify(seen)}`);
    });
  }

  it('a repeated path parameter is refused rather than guessed at', async () => {
    const res = await rawGet(f.s.port, '/api/v1/files/content?path=dynamic/shop/domains.yml&path=../canary.txt');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString()).error).toMatch(/given 2 times/);
  });

  it('traversal in the URL path itself never reaches a file', async () => {
    for (const target of [
      '/api/v1/files/../../../canary.txt',
      '/api/v1/files/content/..%2f..%2fcanary.txt',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/ui/../../canary.txt',
    ]) {
      const res = await rawGet(f.s.port, target);
      expect(res.status, target).toBe(404);
      expect(res.body.toString('latin1')).not.toContain(f.canary);
    }
  });

  it('writes are refused: the API is read-only', async () => {
    for (const method of ['PUT', 'POST', 'DELETE', 'PATCH']) {
      const res = await rawGet(f.s.port, '/api/v1/files/content?path=dynamic/shop/domains.yml', method);
      expect(res.status).toBe(405);
    }
  });

  it('a listing of the root never descends through links, and shows keys by name only', async () => {
    const res = await rawGet(f.s.port, '/api/v1/files?depth=10');
    const body = res.body.toString();
    expect(res.status).toBe(200);
    expect(body).not.toContain(f.canary);
    expect(body).not.toContain('canary.yml');
    expect(body).not.toContain('PRIVATE KEY');
    const tree = JSON.parse(body);
    const dynamic = tree.children.find((e: any) => e.name === 'dynamic');
    expect(dynamic.children.find((e: any) => e.name === 'escape-link')).toMatchObject({ type: 'symlink', restricted: true, target: null });
    expect(dynamic.children.find((e: any) => e.name === 'keylink.yml')).toMatchObject({ type: 'symlink', restricted: true, target: null });
    const ssl = tree.children.find((e: any) => e.name === 'ssl');
    const keys = ssl.children.find((e: any) => e.name === 'keys');
    expect(keys).toMatchObject({ type: 'directory', restricted: true });
    expect(keys.children).toBeUndefined();
    expect(keys.truncated).toBeUndefined(); // withheld, not cut short: asking for it answers 403
    const statics = tree.children.find((e: any) => e.name === 'static');
    expect(statics.children.find((e: any) => e.name === 'inside-link.yml')).toMatchObject({
      type: 'symlink',
      target: 'dynamic/shop/domains.yml',
    });
  });
});

describe('hostile Host headers and credentials in files', () => {
  /** GET with a Host header as given (DNS rebinding: a page on another name that resolves to 127.0.0.1). */
  const withHost = (target: string, host: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: f.s.port, path: target, headers: { host } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  const HOSTS = ['evil.example', 'evil.example:9090', '127.0.0.1.nip.io', 'localhost.evil.example', '[::1].evil', 'localhost@evil.example'];

  for (const endpoint of [...endpoints, '/api/v1/status', '/api/v1/projects', '/']) {
    it(`${endpoint}: every rebinding Host is refused (403) and answers no file byte`, async () => {
      for (const host of HOSTS) {
        const res = await withHost(`${endpoint}?path=dynamic/shop/domains.yml`, host);
        expect(res.status, `Host ${JSON.stringify(host)}`).toBe(403);
        expect(res.body).not.toContain('Host(`');
      }
    });
  }

  it('a hand-made file full of credentials is shown masked by content, download and diff', async () => {
    const secrets = [
      'Bearer h4nd-made-t0ken',
      'alice:$apr1$zzzzzzzz$IgXLP6ewTrSuBkTrqE8wj/',
      'sup3r-pass',
      'redis-s3cret',
      'aws-k3y-value',
    ];
    const text = [
      'http:',
      '  middlewares:',
      '    m:',
      '      headers:',
      '        customRequestHeaders:',
      `          Authorization: "${secrets[0]}"`,
      '          X-Aws-Access-Key: aws-k3y-value',
      '    b:',
      '      basicAuth:',
      `        users: ["${secrets[1]}"]`,
      '  services:',
      '    s:',
      '      loadBalancer:',
      `        servers: [{url: "http://u:${secrets[2]}@backend.example"}]`,
      `redis: {password: ${secrets[3]}}`,
      '',
    ].join('\n');
    await writeFile(path.join(f.s.root, 'dynamic', 'hand-made.yml'), text);
    for (const endpoint of ['/api/v1/files/content', '/api/v1/files/download', '/api/v1/diff']) {
      const res = await rawGet(f.s.port, `${endpoint}?path=dynamic/hand-made.yml`);
      const body = res.body.toString();
      expect(res.status, endpoint).toBe(200);
      for (const secret of secrets) expect(body, `${endpoint}: ${secret}`).not.toContain(secret.replace(/^Bearer /, ''));
      expect(body, endpoint).toContain('***');
    }
  });
});
