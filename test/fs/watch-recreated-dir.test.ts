/**
 * A watched directory that is removed (its last file deleted: AtomicWriter prunes empty folders)
 * and later re-created is watched again: hand edits there are repaired within ~2 s.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from '../../src/db/connect.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertDomain, insertProject, insertRoute, insertService, seedSample } from '../helpers/seed.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';

let t: TestDatabase;
let s: TestSidecar | undefined;
beforeEach(async () => {
  t = await createTestDatabase();
});
afterEach(async () => {
  await s?.stop();
  s = undefined;
  await t.drop();
});

const read = (p: string) => readFile(path.join(s!.root, p), 'utf8').catch(() => null);

/** Hand-edit `file` and tell whether the sidecar puts it back (by the file event: the timer is 1 h). */
async function repairedAfterEdit(file: string, from: string): Promise<boolean> {
  const original = (await read(file))!;
  expect(original).toContain(from);
  await writeFile(path.join(s!.root, file), original.replace(from, '6666'));
  return waitFor(async () => (await read(file)) === original, 15_000).then(
    () => true,
    () => false,
  );
}

it('hand edits in a re-created folder are seen by file events', async () => {
  const ids = await seedSample(t.db);
  s = await startTestSidecar(t.url, { interval: '1h' }); // drift must be seen by file events, not the timer
  await waitFor(async () => (await s!.get('/readyz')).status === 200);

  // blog's only service goes (dynamic/blog/services/ is removed with its last file) ...
  await t.db.query(sql`DELETE FROM route_configs r USING services sv WHERE r.service_id = sv.id AND sv.project_id = ${ids.blog}`);
  await t.db.query(sql`DELETE FROM services WHERE project_id = ${ids.blog}`);
  await waitFor(() => !existsSync(path.join(s!.root, 'dynamic/blog/services')), 15_000);
  // ... and comes back.
  const ghost = await insertService(t.db, ids.blog, 'ghost');
  const [d] = await t.db.query(sql`SELECT id FROM domain_configs WHERE project_id = ${ids.blog}`);
  await insertRoute(t.db, d!.id, ghost, { path: '/', port: 2368 });
  const file = 'dynamic/blog/services/ghost.yml';
  await waitFor(async () => (await read(file)) !== null, 15_000);
  await s.controller.idle(); // the pass that wrote it has finished, watching its new folders too

  // Control: an edit in a folder that was never removed is repaired at once.
  expect(await repairedAfterEdit('dynamic/shop/services/web.yml', '8080')).toBe(true);
  expect(await repairedAfterEdit(file, '2368')).toBe(true);
});

it('hand edits in a re-created project folder are seen by file events', async () => {
  const ids = await seedSample(t.db);
  s = await startTestSidecar(t.url, { interval: '1h' });
  await waitFor(async () => (await s!.get('/readyz')).status === 200);

  // The whole project goes (dynamic/blog/ and everything below it is removed) ...
  await t.db.query(sql`DELETE FROM projects WHERE id = ${ids.blog}`);
  await waitFor(() => !existsSync(path.join(s!.root, 'dynamic/blog')), 15_000);

  // ... and a project of the same name comes back.
  const blog = await insertProject(t.db, 'blog');
  const ghost = await insertService(t.db, blog, 'ghost');
  const domain = await insertDomain(t.db, blog, { domain: 'blog.example' });
  await insertRoute(t.db, domain, ghost, { path: '/', port: 2368 });
  const file = 'dynamic/blog/services/ghost.yml';
  await waitFor(async () => (await read(file)) !== null && (await read('dynamic/blog/domains.yml')) !== null, 15_000);
  await s.controller.idle(); // the pass that wrote it has finished, watching its new folders too

  expect(await repairedAfterEdit(file, '2368')).toBe(true);
  expect(await repairedAfterEdit('dynamic/blog/domains.yml', 'blog.example')).toBe(true);
});
