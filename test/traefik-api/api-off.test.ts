/**
 * Readiness stays about our files: without TRAEFIK_API_URL nothing is asked of Traefik (its
 * metrics are absent, `live` is null) and unowned files are still counted; with an API that does
 * not answer, traefik_sync_traefik_up is 0 and syncing, /readyz and the status go on as before.
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../../src/db/connect.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertDomain, insertProject, insertRoute, insertService } from '../helpers/seed.js';
import { freePort } from '../helpers/traefik.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';

let t: TestDatabase;
let s: TestSidecar | undefined;

beforeAll(async () => {
  t = await createTestDatabase();
  const id = await insertProject(t.db, 'shop');
  await insertRoute(t.db, await insertDomain(t.db, id, { domain: 'shop.example', ssl: false }), await insertService(t.db, id, 'web'));
});
afterEach(async () => {
  await s?.stop();
  s = undefined;
});
afterAll(async () => t.drop());

const project = async () => Object.values((await s!.get('/api/v1/status')).json().projects as Record<string, { live: unknown }>)[0]!;

describe("Traefik's API", () => {
  it('not read without TRAEFIK_API_URL: no Traefik metrics, live null; unowned files counted anyway', async () => {
    s = await startTestSidecar(t.url);
    await waitFor(async () => (await s!.get('/readyz')).status === 200);
    const metrics = (await s.get('/metrics')).text;
    expect(metrics).not.toMatch(/^traefik_sync_(traefik_up|change_live_seconds|traefik_config_lag_seconds|traefik_errors)/m);
    expect(await s.metric('traefik_sync_unowned_files')).toBe(0);
    expect(await project()).toMatchObject({ live: null, traefikErrors: [], shadowedBy: [] });
    expect((await s.get('/api/v1/status')).json().traefik).toMatchObject({ apiRead: false, up: null, unownedFiles: [] });

    const foreign = path.join(s.root, 'dynamic/hand-made.yml');
    await writeFile(foreign, 'http:\n  routers: {}\n');
    await waitFor(async () => (await s!.metric('traefik_sync_unowned_files')) === 1, 5000, 50);
    expect((await s.get('/api/v1/status')).json().traefik.unownedFiles).toEqual(['dynamic/hand-made.yml']);
    await rm(foreign);
    await waitFor(async () => (await s!.metric('traefik_sync_unowned_files')) === 0, 5000, 50);
  }, 30_000);

  it('unreachable: traefik_up 0, and the files, /readyz and changes go on', async () => {
    s = await startTestSidecar(t.url, { 'traefik-api-url': `http://127.0.0.1:${await freePort()}` });
    await waitFor(async () => (await s!.get('/readyz')).status === 200);
    await waitFor(async () => (await s!.get('/api/v1/status')).json().traefik.up === false, 5000, 50);
    expect(await s.metric('traefik_sync_traefik_up')).toBe(0);
    expect((await s.get('/api/v1/status')).json().traefik).toMatchObject({ apiRead: true, up: false });
    await t.db.query(sql`UPDATE route_configs SET target_port = 8081`);
    await waitFor(async () => (await s!.get('/api/v1/files/content?path=dynamic/shop/services/web.yml')).text.includes(':8081'), 5000, 50);
    expect((await s.get('/readyz')).status).toBe(200);
    // The change is written; Traefik was not seen serving it.
    expect(await project()).toMatchObject({ live: false });
    expect(await s.metric('traefik_sync_traefik_config_lag_seconds')).toBeGreaterThan(0);
  }, 30_000);
});
