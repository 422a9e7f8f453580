/**
 * Edge cases of a pass that a code review reproduced (each failed before its fix):
 * - a custom-certificate domain moved to another project keeps its certificate and key;
 * - the delete guard judges a pass against what was managed when it began, so a wrong database
 *   with as many projects as the right one cannot wipe the config by creating files first;
 * - renaming a project or a service moves its files and routers, which removes nothing: the
 *   delete guard lets it through (it refused renaming a project that holds most routers);
 * - a pass that wrote files and then failed (a database blip while recording them) leaves a
 *   marker rename owed: the retry renames it, so Traefik re-reads the change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { access, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { sql, type Queryable } from '../../src/db/connect.js';
import { silentLogger } from '../../src/log.js';
import { TraefikSyncService } from '../../src/reconcile/sync-service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertProject, seedSample } from '../helpers/seed.js';
import { tempDir } from '../helpers/temp-dir.js';

let t: TestDatabase;
let wrong: TestDatabase;
let empty: TestDatabase;
beforeAll(async () => {
  [t, wrong, empty] = await Promise.all([createTestDatabase(), createTestDatabase(), createTestDatabase()]);
  // Another environment: the same kind of projects under other names (e.g. a staging database).
  await seedSample(wrong.db);
  await wrong.db.query(sql`UPDATE projects SET name = name || '-staging'`);
});
afterAll(async () => {
  await Promise.all([t.drop(), wrong.drop(), empty.drop()]);
});

const svc = (db: Queryable, root: string) =>
  new TraefikSyncService({ db, root, driftMode: 'repair', maxDeleteFraction: 0.5, log: silentLogger });
const exists = (root: string, rel: string) =>
  access(path.join(root, rel)).then(
    () => true,
    () => false,
  );
const projectDirs = async (root: string) => (await readdir(path.join(root, 'dynamic'))).filter((n) => !n.startsWith('.')).sort();

async function fresh() {
  await t.db.query(sql`TRUNCATE projects, traefik_configs, audit_log, project_versions CASCADE`);
  return { root: await tempDir('tsync-edges-'), ids: await seedSample(t.db) };
}

describe('a custom-certificate domain moved to another project', () => {
  const CRT = 'ssl/certs/secure.shop.example.crt';
  const KEY = 'ssl/keys/secure.shop.example.key';

  for (const mode of ['project pass', 'full pass'] as const) {
    it(`keeps its certificate and key (${mode}), owned by the new project`, async () => {
      const { root, ids } = await fresh();
      // The new owner sorts after "shop", so a full pass meets shop (and its old files) first.
      const zeta = await insertProject(t.db, 'zeta');
      const sync = svc(t.db, root);
      await sync.syncAllProjects();
      expect(sync.inventory.get(CRT)?.projectId).toBe(ids.shop);

      await t.db.tx(async (tx) => {
        await tx.query(
          sql`DELETE FROM route_configs r USING domain_configs d WHERE r.domain_config_id = d.id AND d.full_domain = 'secure.shop.example'`,
        );
        await tx.query(sql`UPDATE domain_configs SET project_id = ${zeta} WHERE full_domain = 'secure.shop.example'`);
      });
      // Both projects were notified by one transaction: reconciled together (or by a full pass).
      const r = mode === 'project pass' ? await sync.syncProjects([ids.shop, zeta]) : await sync.syncAllProjects();
      expect(r.blocked).toBeNull();
      expect(r.results.filter((x) => x.status === 'failed')).toEqual([]);
      const owner = sync.inventory.get(CRT)?.projectId;
      // The periodic stat() check must not see the moved files as changed under shop…
      const changed = await sync.verifyDisk();
      expect(changed.has(ids.shop)).toBe(false);
      // …and a later pass of shop alone (say, another change to it) leaves them alone.
      await sync.syncProjects([ids.shop]);
      expect({ owner, crt: await exists(root, CRT), key: await exists(root, KEY) }).toEqual({ owner: zeta, crt: true, key: true });
    });
  }
});

describe('the delete guard', () => {
  it('refuses an empty database (a new process pointed at the wrong one)', async () => {
    const { root } = await fresh();
    await svc(t.db, root).syncAllProjects();
    const r = await svc(empty.db, root).syncAllProjects();
    expect(r.blocked).not.toBeNull();
    expect(await projectDirs(root)).toEqual(['blog', 'empty', 'shop']);
  });

  it('refuses a wrong database with as many projects: files it creates do not dilute the fraction', async () => {
    const { root } = await fresh();
    await svc(t.db, root).syncAllProjects();
    const r = await svc(wrong.db, root).syncAllProjects();
    const deleted = r.results.reduce((n, x) => n + x.deleted, 0);
    expect({ blocked: r.blocked !== null, deleted }).toEqual({ blocked: true, deleted: 0 });
    expect(await projectDirs(root)).toEqual(expect.arrayContaining(['blog', 'empty', 'shop']));
  });
});

describe('renames, which remove nothing', () => {
  it('renaming the project that holds most routers is applied, not refused by the delete guard', async () => {
    const { root, ids } = await fresh();
    const sync = svc(t.db, root);
    await sync.syncAllProjects();
    await t.db.query(sql`UPDATE projects SET name = 'store' WHERE id = ${ids.shop}`);
    const r = await sync.syncProjects([ids.shop]); // what its NOTIFY triggers
    expect(r.blocked).toBeNull();
    expect(await projectDirs(root)).toEqual(['blog', 'empty', 'store']);
    expect((await svc(t.db, root).preview()).changes).toEqual([]);
  });

  it('renaming a service is applied too; emptying that project is still refused', async () => {
    const { root, ids } = await fresh();
    const sync = svc(t.db, root);
    await sync.syncAllProjects();
    await t.db.query(sql`UPDATE services SET name = 'backend' WHERE project_id = ${ids.shop} AND name = 'api'`);
    expect((await sync.syncProjects([ids.shop])).blocked).toBeNull();
    expect(await exists(root, 'dynamic/shop/services/backend.yml')).toBe(true);
    expect(await exists(root, 'dynamic/shop/services/api.yml')).toBe(false);
    await t.db.query(
      sql`DELETE FROM route_configs r USING domain_configs d WHERE r.domain_config_id = d.id AND d.project_id = ${ids.shop}`,
    );
    expect((await sync.syncProjects([ids.shop])).blocked).not.toBeNull();
  });
});

describe('a pass that wrote files and then failed', () => {
  const fmt = { escapeIdentifier: (s: string) => s, formatValue: (v: unknown, i: number) => ({ placeholder: `$${i + 1}`, value: v }) };

  it('leaves the marker rename owed: the retry renames it after the file', async () => {
    const { root, ids } = await fresh();
    let failRecord = false;
    // The pool, except that recording files fails once while `failRecord` (a database blip).
    const db = {
      query: (q: { format(f: typeof fmt): { text: string } }) => {
        if (failRecord && /INSERT INTO traefik_configs/.test(q.format(fmt).text)) {
          failRecord = false;
          return Promise.reject(new Error('Connection terminated unexpectedly'));
        }
        return t.db.query(q as never);
      },
    } as unknown as Queryable;
    const sync = svc(db, root);
    await sync.syncAllProjects();

    await t.db.query(sql`UPDATE route_configs SET target_port = 9999 WHERE id = ${ids.shopApiRoute}`);
    await new Promise((r) => setTimeout(r, 20));
    failRecord = true;
    await expect(sync.syncProjects([ids.shop])).rejects.toThrow(/terminated/); // the controller retries it
    const retry = await sync.syncProjects([ids.shop]);
    const file = await stat(path.join(root, 'dynamic/shop/services/api.yml'));
    const marker = await stat(path.join(root, 'dynamic/.traefik-sync-reload'));
    expect({ renamed: retry.markerRenamed, markerAfterFile: marker.mtimeMs >= file.mtimeMs }).toEqual({
      renamed: true,
      markerAfterFile: true,
    });
    // Paid: the pass after that has nothing to announce.
    expect((await sync.syncProjects([ids.shop])).markerRenamed).toBe(false);
  });
});
