/**
 * docs/contract.md §9: the file API and the operator page never hand out a secret. Route settings
 * that hold credentials (basicAuth/digestAuth users, credential headers, a password in a server
 * URL, a token in a forwardAuth address, a redis password) are written to the files as they are
 * (Traefik needs them), but masked wherever the API shows file content: content, download, diff.
 * The last error of a project (status, sync_replicas.last_error) quotes no secret either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from '../../src/db/connect.js';
import { upsertReplicaStatus } from '../../src/db/status.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertDomain, insertProject, insertRoute, insertService } from '../helpers/seed.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';

const APR1 = '$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/';
const SECRETS = {
  basicAuth: APR1,
  digest: 'a2688e031edb4be6a3797f3882655c05',
  bearer: 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig',
  apiKey: 'k3y-s3cr3t-value-42',
  cookie: 'sid=0123456789abcdef',
  urlPassword: 'hunter2pass',
  forwardToken: 'fwd-token-9876',
  brokenKey: 'broken-s3cret-77',
};

let t: TestDatabase;
let s: TestSidecar;

beforeAll(async () => {
  t = await createTestDatabase();
  const p = await insertProject(t.db, 'vault');
  const svc = await insertService(t.db, p, 'app');
  const d = await insertDomain(t.db, p, { domain: 'vault.example', ssl: false });
  await insertRoute(t.db, d, svc, {
    path: '/',
    url: `http://admin:${SECRETS.urlPassword}@backend.example:8080`,
    middleware: [
      { basicAuth: { users: [`alice:${SECRETS.basicAuth}`] } },
      { digestAuth: { users: [`bob:traefik:${SECRETS.digest}`] } },
      {
        headers: {
          customRequestHeaders: {
            Authorization: `Bearer ${SECRETS.bearer}`,
            'X-Api-Key': SECRETS.apiKey,
            Cookie: SECRETS.cookie,
            'X-Plain': 'shown',
          },
        },
      },
      { forwardAuth: { address: `https://auth.example/check?token=${SECRETS.forwardToken}` } },
    ],
  });
  const b = await insertProject(t.db, 'broken');
  const bs = await insertService(t.db, b, 'app');
  const bd = await insertDomain(t.db, b, { domain: 'broken.example', ssl: false });
  // A control character makes the value unrenderable: the problem quotes the value, which is a secret.
  await insertRoute(t.db, bd, bs, { middleware: [{ headers: { customRequestHeaders: { 'X-Api-Key': `${SECRETS.brokenKey}\u0007` } } }] });
  s = await startTestSidecar(t.url, { interval: '30s' });
  await waitFor(async () => (await s.get('/readyz')).status === 200, 15_000);
});
afterAll(async () => {
  await s?.stop();
  await t?.drop();
});

const leaked = (text: string) =>
  Object.entries(SECRETS).filter(([, v]) => text.includes(v) || text.includes(JSON.stringify(v).slice(1, -1)));

describe('file content with secrets', () => {
  it('the files on disk hold the values (Traefik needs them)', async () => {
    const mw = await readFile(path.join(s.root, 'dynamic/vault/middleware.yml'), 'utf8');
    expect(mw).toContain(SECRETS.apiKey);
  });

  it.each(['dynamic/vault/middleware.yml', 'dynamic/vault/services/app.yml'])(
    'GET /api/v1/files/content?path=%s masks every secret',
    async (p) => {
      const res = await s.get(`/api/v1/files/content?path=${p}`);
      expect(res.status).toBe(200);
      expect(leaked(res.text)).toEqual([]);
      const body = res.json();
      expect(body.masked).toBeGreaterThan(0);
      expect(body.content).toMatch(/\*\*\*/);
    },
  );

  it('what is not a secret is still shown', async () => {
    const mw = (await s.get('/api/v1/files/content?path=dynamic/vault/middleware.yml')).json().content as string;
    expect(mw).toContain('X-Plain: shown');
    expect(mw).toContain('alice:');
    const svc = (await s.get('/api/v1/files/content?path=dynamic/vault/services/app.yml')).json().content as string;
    expect(svc).toContain('backend.example:8080');
  });

  it.each(['dynamic/vault/middleware.yml', 'dynamic/vault/services/app.yml'])(
    'GET /api/v1/files/download?path=%s masks too, and says so',
    async (p) => {
      const res = await fetch(`${s.base}/api/v1/files/download?path=${p}`);
      const text = await res.text();
      expect(res.status).toBe(200);
      expect(leaked(text)).toEqual([]);
      expect(Number(res.headers.get('x-masked-values'))).toBeGreaterThan(0);
    },
  );

  it('GET /api/v1/diff masks both sides of a hand edit', async () => {
    const file = path.join(s.root, 'dynamic/vault/middleware.yml');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('X-Plain: shown', 'X-Plain: edited'));
    const res = await s.get('/api/v1/diff?path=dynamic/vault/middleware.yml');
    expect(res.status).toBe(200);
    expect(res.json().diff).toContain('X-Plain: edited');
    expect(leaked(res.text)).toEqual([]);
  });
});

describe('errors quoting a secret', () => {
  it('the failed project is reported in /api/v1/status without the value', async () => {
    const status = await waitFor(async () => {
      const st = (await s.get('/api/v1/status')).json();
      const projects = Object.values(st.projects ?? {}) as Array<{ name: string; lastError: string | null }>;
      return projects.find((p) => p.name === 'broken' && p.lastError) ? st : null;
    }, 10_000);
    const text = JSON.stringify(status);
    expect(text).toContain('X-Api-Key');
    expect(leaked(text)).toEqual([]);
  });

  it('sync_replicas.last_error is stored redacted', async () => {
    const lastError = `write failed: Authorization: Bearer ${SECRETS.bearer} for http://admin:${SECRETS.urlPassword}@db/x`;
    await upsertReplicaStatus(t.db, {
      replicaId: 'masking-test',
      isLeader: false,
      lastSyncAt: null,
      lastSuccessAt: null,
      lastError,
      driftCount: 0,
      projectsFailed: 1,
      shard: null,
    });
    const rows = await t.db.query(sql`SELECT last_error FROM sync_replicas WHERE replica_id = 'masking-test'`);
    expect(rows[0]!.last_error).toContain('write failed');
    expect(leaked(rows[0]!.last_error)).toEqual([]);
  });
});
