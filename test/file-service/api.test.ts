import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv, type ValidateFunction } from 'ajv';
import { readFile, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { sql } from '../../src/db/connect.js';
import { sidecarRoutes } from '../../src/sidecar/routes.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { waitFor } from '../helpers/sidecar.js';
import { rawGet, startHostileFixture, type HostileFixture } from './fixture.js';

let t: TestDatabase;
let f: HostileFixture;
let doc: any;
let ajv: Ajv;
/** "METHOD path status" of every answer checked against the document. */
const observed = new Set<string>();

beforeAll(async () => {
  t = await createTestDatabase();
  f = await startHostileFixture(t, { 'drift-mode': 'report' });
  doc = (await f.s.get('/api/v1/openapi.json')).json();
  ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  ajv.addFormat('binary', true);
  ajv.addSchema(doc, 'openapi.json');
});
afterAll(async () => {
  await f?.s.stop();
  await t?.drop();
  if (f) await rm(f.base, { recursive: true, force: true });
});

const validators = new Map<string, ValidateFunction>();

/** GET `target`, check status and that the answer matches the document's schema for it; returns the body. */
async function call(target: string, status: number): Promise<any> {
  const res = await rawGet(f.s.port, target);
  const body = res.body.toString();
  expect(res.status, `${target} → ${body.slice(0, 300)}`).toBe(status);
  const route = target.split('?')[0]!;
  const response = doc.paths[route]?.get?.responses?.[status];
  expect(response, `documented: GET ${route} ${status}`).toBeDefined();
  const [mediaType, media] = Object.entries(response.content ?? {})[0] as [string, any];
  expect(res.headers['content-type']).toContain(mediaType === 'application/octet-stream' ? mediaType : mediaType.split(';')[0]);
  observed.add(`GET ${route} ${status}`);
  if (mediaType !== 'application/json') return body;
  const key = `${route} ${status}`;
  let validate = validators.get(key);
  if (!validate) {
    const pointer = ['paths', route, 'get', 'responses', String(status), 'content', 'application/json', 'schema']
      .map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1')))
      .join('/');
    validate = ajv.compile({ $ref: `openapi.json#/${pointer}` });
    validators.set(key, validate);
  }
  const json = JSON.parse(body);
  expect(validate(json), `${key}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  return json;
}

const WEB = 'dynamic/shop/services/web.yml';
const q = encodeURIComponent;

describe('the file API, checked against its OpenAPI document', () => {
  it('documents exactly the routes the sidecar serves', async () => {
    const config = loadConfig({ 'config-dir': f.s.root }, {});
    const served = [...sidecarRoutes({ db: f.s.db, config, controller: f.s.controller, metrics: f.s.metrics }).keys()].filter(
      (p) => !p.startsWith('/ui/'),
    );
    expect(Object.keys(doc.paths).sort()).toEqual(served.sort());
    expect(doc.openapi).toMatch(/^3\.0\./);
  });

  it('probes, status, metrics and the document itself', async () => {
    await call('/healthz', 200);
    await call('/readyz', 200);
    const status = await call('/api/v1/status', 200);
    expect(status.ready).toBe(true);
    expect(await call('/metrics', 200)).toContain('traefik_sync_reconcile_total');
    await call('/api/v1/openapi.json', 200);
    expect(await call('/', 200)).toContain('<main id="main">');
  });

  it('lists projects and bounded trees (depth, paging, project shortcut)', async () => {
    expect(await call('/api/v1/projects', 200)).toEqual(['blog', 'empty', 'shop']); // a bare JSON list (docs/contract.md §5)
    const root = await call('/api/v1/files', 200);
    expect(root.children.map((e: any) => e.name)).toEqual(['dynamic', 'ssl', 'static']);
    const shop = root.children[0].children.find((e: any) => e.name === 'shop');
    const services = shop.children.find((e: any) => e.name === 'services');
    expect(services.children.map((e: any) => [e.name, e.owned])).toEqual([
      ['api.yml', true],
      ['web.yml', true],
      ['worker.yml', true],
    ]);

    const flat = await call('/api/v1/files?depth=0', 200);
    expect(flat.truncated).toBe(true);
    expect(flat.children.every((e: any) => e.children === undefined && e.truncated === true)).toBe(true);

    const page1 = await call(`/api/v1/files?path=${q('dynamic/shop/services')}&limit=2`, 200);
    expect(page1).toMatchObject({ total: 3, offset: 0, limit: 2, nextOffset: 2, truncated: true });
    expect(page1.children.map((e: any) => e.name)).toEqual(['api.yml', 'web.yml']);
    const page2 = await call(`/api/v1/files?path=${q('dynamic/shop/services')}&limit=2&offset=2`, 200);
    expect(page2).toMatchObject({ nextOffset: null });
    expect(page2.children.map((e: any) => e.name)).toEqual(['worker.yml']);

    const byProject = await call('/api/v1/files?project=shop', 200);
    expect(byProject.path).toBe('dynamic/shop');
    await call('/api/v1/files?project=..', 400);
    await call('/api/v1/files?project=shop&path=dynamic', 400);
    await call('/api/v1/files?depth=11', 400);
    await call('/api/v1/files?limit=0', 400);
    await call('/api/v1/files?offset=-1', 400);
    await call(`/api/v1/files?path=${q('dynamic/shop/domains.yml')}`, 400);
    await call('/api/v1/files?path=nope', 404);
    await call('/api/v1/files?path=ssl/keys', 403);
  });

  it('reads a file with its checksum, ownership and in-sync state from traefik_configs', async () => {
    const file = await call(`/api/v1/files/content?path=${q('dynamic/shop/domains.yml')}`, 200);
    const [row] = await t.db.query(
      sql`SELECT checksum, content, project_id FROM traefik_configs WHERE file_path = 'dynamic/shop/domains.yml'`,
    );
    expect(file).toMatchObject({
      owned: true,
      inSync: true,
      checksum: row!.checksum,
      recordedChecksum: row!.checksum,
      projectId: row!.project_id,
      content: row!.content,
    });
    expect(file.size).toBe(Buffer.byteLength(row!.content));
    await call('/api/v1/files/content', 400);
    await call(`/api/v1/files/content?path=${q('dynamic/shop')}`, 400);
    await call(`/api/v1/files/content?path=${q('ssl/keys/secure.shop.example.key')}`, 403);
    await call(`/api/v1/files/content?path=${q('dynamic/none.yml')}`, 404);
    await call(`/api/v1/files/content?path=${q('static/big.yml')}`, 413);
    await call(`/api/v1/files/content?path=${q('static/pipe')}`, 400);
  });

  it('downloads raw bytes as an attachment with a safely quoted name', async () => {
    const text = await call(`/api/v1/files/download?path=${q('dynamic/shop/domains.yml')}`, 200);
    expect(text).toBe(await readFile(path.join(f.s.root, 'dynamic/shop/domains.yml'), 'utf8'));
    await writeFile(path.join(f.s.root, 'static', 'we"ird\\ na;me.yml'), 'a: 1\n');
    const res = await rawGet(f.s.port, `/api/v1/files/download?path=${q('static/we"ird')}%5C${q(' na;me.yml')}`);
    expect(res.status).toBe(400); // backslashes are refused outright
    await writeFile(path.join(f.s.root, 'static', 'we"ird na;mé.yml'), 'a: 1\n');
    const ok = await rawGet(f.s.port, `/api/v1/files/download?path=${q('static/we"ird na;mé.yml')}`);
    expect(ok.status).toBe(200);
    expect(ok.headers['content-disposition']).toBe(`attachment; filename="we_ird_na_m_.yml"; filename*=UTF-8''we%22ird%20na%3Bm%C3%A9.yml`);
    expect(ok.headers['x-content-type-options']).toBe('nosniff');
    expect(ok.body.toString()).toBe('a: 1\n');
    const head = await rawGet(f.s.port, `/api/v1/files/download?path=${q('dynamic/shop/domains.yml')}`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    await call(`/api/v1/files/download?path=${q('static/big.yml')}`, 413);
    await call(`/api/v1/files/download?path=${q('static/notes.txt')}`, 403);
    await call(`/api/v1/files/download?path=${q('../canary.txt')}`, 400);
    await call(`/api/v1/files/download?path=${q('static/nothing.yml')}`, 404);
  });

  it('diffs the database against a hand-edited, a missing and an unowned file, and lists drift records', async () => {
    expect(await call(`/api/v1/diff?path=${q(WEB)}`, 200)).toEqual({ path: WEB, recorded: true, onDisk: true, inSync: true, diff: '' });
    const original = await readFile(path.join(f.s.root, WEB), 'utf8');
    await writeFile(path.join(f.s.root, WEB), original.replace('http://web:8080', 'http://web:6666'));
    const edited = await call(`/api/v1/diff?path=${q(WEB)}`, 200);
    expect(edited).toMatchObject({ recorded: true, onDisk: true, inSync: false });
    expect(edited.diff).toContain(`--- a/${WEB}\n+++ b/${WEB}\n`);
    expect(edited.diff).toMatch(/^-\s+- url: http:\/\/web:6666$/m);
    expect(edited.diff).toMatch(/^\+\s+- url: http:\/\/web:8080$/m);
    expect((await call(`/api/v1/files/content?path=${q(WEB)}`, 200)).inSync).toBe(false);

    await unlink(path.join(f.s.root, 'dynamic/blog/middleware.yml'));
    const missing = await call(`/api/v1/diff?path=${q('dynamic/blog/middleware.yml')}`, 200);
    expect(missing).toMatchObject({ recorded: true, onDisk: false, inSync: false });
    expect(missing.diff).toContain('--- /dev/null\n+++ b/dynamic/blog/middleware.yml');

    const unowned = await call(`/api/v1/diff?path=${q('static/we"ird na;mé.yml')}`, 200);
    expect(unowned).toMatchObject({ recorded: false, onDisk: true, inSync: false });
    expect(unowned.diff).toContain('+++ /dev/null');
    const content = await call(`/api/v1/files/content?path=${q('static/we"ird na;mé.yml')}`, 200);
    expect(content).toMatchObject({ owned: false, inSync: false, recordedChecksum: null, projectId: null });

    await call(`/api/v1/diff?path=${q('dynamic/none.yml')}`, 404);
    await call(`/api/v1/diff?path=${q('static/big.yml')}`, 413);
    await call(`/api/v1/diff?path=${q('ssl/keys/secure.shop.example.key')}`, 403);
    await call('/api/v1/diff?path=..', 400);

    const drift = await waitFor(async () => {
      const list = await call('/api/v1/drift', 200);
      return list.records.length >= 2 ? list : null;
    }, 5000);
    expect(drift.records.map((r: any) => [r.file, r.kind, r.repaired, r.project]).sort()).toEqual([
      ['dynamic/blog/middleware.yml', 'missing', false, 'blog'],
      [WEB, 'modified', false, 'shop'],
    ]);
    expect((await call(`/api/v1/drift?replica=${q('someone-else')}`, 200)).records).toEqual([]);
    expect((await call('/api/v1/drift?limit=1', 200)).records).toHaveLength(1);
    await call('/api/v1/drift?limit=0', 400);
    await call('/api/v1/drift?limit=abc', 400);
  });

  it('its schemas reject answers that break them (the check has teeth)', () => {
    const fileContent = ajv.compile({ $ref: 'openapi.json#/components/schemas/FileContent' });
    expect(
      fileContent({
        path: 'x',
        content: 'y',
        checksum: 'md5:1',
        size: -1,
        modifiedAt: 'yesterday',
        owned: 'yes',
        projectId: null,
        inSync: null,
        recordedChecksum: null,
      }),
    ).toBe(false);
    expect(ajv.compile({ $ref: 'openapi.json#/components/schemas/Error' })({ error: 'x', stack: 'at y' })).toBe(false);
    const tree = ajv.compile({ $ref: 'openapi.json#/components/schemas/DirectoryTree' });
    expect(
      tree({
        name: '',
        path: '',
        type: 'directory',
        modifiedAt: new Date().toISOString(),
        children: [{ name: 'a', path: 'a', type: 'socket' }],
        total: 1,
        offset: 0,
        limit: 1,
        nextOffset: null,
        depth: 0,
        truncated: false,
      }),
    ).toBe(false);
  });

  it('exercised every documented answer of the file API except server-side failures', () => {
    // 401 and the access 403s are exercised by test/observability/access.test.ts.
    const exempt =
      /^GET (\/healthz 503|\/readyz 503|\/api\/v1\/projects (400|500)|\/api\/v1\/diff 503|\/api\/v1\/drift 503|\S+ 401|(\/|\/api\/v1\/(status|projects|drift|openapi\.json)) 403)$/;
    const documented: string[] = [];
    for (const [route, item] of Object.entries<any>(doc.paths)) {
      for (const status of Object.keys(item.get.responses)) documented.push(`GET ${route} ${status}`);
    }
    expect(documented.filter((d) => !exempt.test(d) && !observed.has(d))).toEqual([]);
  });
});
