/**
 * Writes, renames and removals never follow a symbolic link inside the config root: a link swapped
 * in at any level (ssl/keys, dynamic/<project>, services/, a file) is refused and reported — the
 * project fails with the link's path named, nothing outside the root is written or removed, and
 * the other projects proceed. The root itself may be a link (an operator's choice of mount).
 */
import { afterEach, beforeAll, afterAll, beforeEach, describe, expect, it } from 'vitest';
import { lstat, mkdir, readdir, readFile, rename, rm, symlink, writeFile, cp } from 'node:fs/promises';
import path from 'node:path';
import { sql } from '../../src/db/connect.js';
import { AtomicWriter } from '../../src/fs/atomic.js';
import { silentLogger } from '../../src/log.js';
import { TraefikSyncService, type SyncReport } from '../../src/reconcile/sync-service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedSample, type SampleIds } from '../helpers/seed.js';
import { tempDir } from '../helpers/temp-dir.js';

let t: TestDatabase;
let ids: SampleIds;
let base: string;
let root: string;
let outside: string;
let service: TraefikSyncService;

beforeAll(async () => {
  t = await createTestDatabase();
  ids = await seedSample(t.db);
});
afterAll(async () => {
  await t?.drop();
});
beforeEach(async () => {
  base = await tempDir('tsync-nofollow-');
  root = path.join(base, 'configs');
  outside = path.join(base, 'outside');
  await mkdir(outside);
  service = new TraefikSyncService({ db: t.db, root, driftMode: 'repair', maxDeleteFraction: 1, log: silentLogger });
  await service.syncAllProjects();
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Everything below `dir`, relative, with contents (the proof that nothing was written there). */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const p = path.join(e.parentPath, e.name);
    out[path.relative(dir, p)] = await readFile(p, 'utf8');
  }
  return out;
}

/** Replace `rel` (a directory or file in the root) by a link to a copy of it outside; returns the copy's path. */
async function swapForLink(rel: string): Promise<string> {
  const target = path.join(outside, rel.replace(/\//g, '_'));
  await cp(path.join(root, rel), target, { recursive: true });
  await rm(path.join(root, rel), { recursive: true });
  await symlink(target, path.join(root, rel));
  return target;
}

const problemsOf = (report: SyncReport, project: string) =>
  report.results.find((r) => r.projectName === project)?.problems.join('\n') ?? '';

describe('a symbolic link inside the config root is never written through', () => {
  it.each([
    ['ssl/keys', 'shop'],
    ['ssl/certs', 'shop'],
    ['dynamic/blog', 'blog'],
    ['dynamic/shop/services', 'shop'],
  ])('%s swapped for a link: the project fails naming it, nothing outside changes, the others proceed', async (rel, project) => {
    const copy = await swapForLink(rel);
    // Make the project need writes: remove its files from the copy (a link to an empty folder) and change a row.
    await rm(copy, { recursive: true });
    await mkdir(copy);
    await t.db.query(sql`UPDATE route_configs SET priority = priority + 1 WHERE id = ${ids.shopApiRoute}`);
    await t.db.query(
      sql`UPDATE route_configs r SET priority = priority + 1 FROM domain_configs d WHERE d.id = r.domain_config_id AND d.project_id = ${ids.blog}`,
    );
    const before = await tree(outside);
    const report = await service.syncAllProjects();
    expect(await tree(outside)).toEqual(before);
    expect(problemsOf(report, project)).toContain(`${rel} is a symbolic link`);
    expect((await lstat(path.join(root, rel))).isSymbolicLink()).toBe(true);
    const other = project === 'blog' ? 'shop' : 'blog';
    expect(problemsOf(report, other)).toBe('');
  });

  it('a project folder swapped for a link to an identical copy is reported too (its files are not read through it)', async () => {
    await swapForLink('dynamic/blog');
    const before = await tree(outside);
    const one = await service.syncProjectConfigs(ids.blog);
    expect(problemsOf(one, 'blog')).toContain('dynamic/blog is a symbolic link');
    const report = await service.syncAllProjects();
    expect(problemsOf(report, 'blog')).toContain('dynamic/blog is a symbolic link');
    expect(await tree(outside)).toEqual(before);
  });

  it('static/ swapped for a link: the static files fail naming it; the projects proceed', async () => {
    const copy = await swapForLink('static');
    await rm(copy, { recursive: true });
    await mkdir(copy);
    const report = await service.syncAllProjects();
    expect(await readdir(copy)).toEqual([]);
    expect(report.results.find((r) => r.projectId === null)?.problems.join('\n')).toContain('static is a symbolic link');
    expect(problemsOf(report, 'shop')).toBe('');
  });

  it('a file swapped for a link to a file outside: refused and reported, the outside file unchanged', async () => {
    const rel = 'dynamic/shop/domains.yml';
    const copy = await swapForLink(rel);
    await writeFile(copy, 'outside: true\n');
    const report = await service.syncAllProjects();
    expect(await readFile(copy, 'utf8')).toBe('outside: true\n');
    expect(problemsOf(report, 'shop')).toContain(`${rel} is a symbolic link`);
  });

  it('a project deleted while its folder is a link: nothing outside is removed', async () => {
    const copy = await swapForLink('dynamic/blog');
    const before = await tree(outside);
    expect(Object.keys(before).length).toBeGreaterThan(0);
    await t.db.query(sql`DELETE FROM projects WHERE id = ${ids.blog}`);
    try {
      await service.syncAllProjects();
      expect(await tree(outside)).toEqual(before);
      expect(await readdir(copy)).not.toEqual([]);
    } finally {
      ids = await (async () => {
        await t.db.query(sql`TRUNCATE projects CASCADE`);
        return seedSample(t.db);
      })();
    }
  });

  it('the writer refuses a link at any level, also dynamic/ itself', async () => {
    const w = new AtomicWriter(root);
    await rename(path.join(root, 'dynamic'), path.join(outside, 'dynamic'));
    await symlink(path.join(outside, 'dynamic'), path.join(root, 'dynamic'));
    await expect(w.write('dynamic/new/x.yml', 'a: 1\n')).rejects.toThrow(/dynamic is a symbolic link/);
    await expect(w.remove('dynamic/shop/domains.yml')).rejects.toThrow(/dynamic is a symbolic link/);
    expect(await readdir(path.join(outside, 'dynamic'))).not.toContain('new');
    expect(await readdir(path.join(outside, 'dynamic', 'shop'))).toContain('domains.yml');
  });

  it('the config root itself may be a link', async () => {
    const linked = path.join(base, 'root-link');
    await symlink(root, linked);
    const w = new AtomicWriter(linked);
    await w.write('dynamic/shop/extra.yml', 'a: 1\n');
    await w.flush();
    expect(await readFile(path.join(root, 'dynamic/shop/extra.yml'), 'utf8')).toBe('a: 1\n');
  });
});
