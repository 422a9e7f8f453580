/**
 * Modes on the volume (README "Files on the volume"): private keys are 0600 and every other
 * generated file 0644 — when first written and after any sequence of updates (a rotated key, a
 * renamed project rewriting every header, a domain switched off and on again, a hand chmod
 * repaired, project passes and full passes in any order), and whatever the process umask
 * (a umask never widens a key nor narrows a config).
 */
import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { chmod, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { sql } from '../../src/db/connect.js';
import { listFiles } from '../../src/fs/scan.js';
import { silentLogger } from '../../src/log.js';
import { TraefikSyncService } from '../../src/reconcile/sync-service.js';
import { databaseForFile, emptyTables } from '../helpers/db.js';
import { CERT_PEM, KEY_PEM, seedSample } from '../helpers/seed.js';
import { tempDir } from '../helpers/temp-dir.js';

const t = databaseForFile();
/** A file of test/fixtures/config-service (a second certificate and key for secure.shop.example). */
const fixture = (name: string) => readFile(new URL(`../fixtures/config-service/${name}`, import.meta.url), 'utf8');

/** Path → mode of every file under the managed folders. */
async function modes(root: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const dir of ['static', 'dynamic', 'ssl'])
    for (const rel of await listFiles(root, dir)) out[rel] = (await stat(path.join(root, rel))).mode & 0o7777;
  return out;
}

/** Each file at its desired mode: 0600 under ssl/keys/, else 0644. Returns the wrong ones. */
async function wrongModes(root: string): Promise<string[]> {
  return Object.entries(await modes(root))
    .filter(([rel, mode]) => mode !== (rel.startsWith('ssl/keys/') ? 0o600 : 0o644))
    .map(([rel, mode]) => `${rel} 0${mode.toString(8)}`);
}

type Op = 'rotate' | 'port' | 'rename' | 'off-on' | 'chmod' | 'full' | 'project';
const KEY = 'ssl/keys/secure.shop.example.key';

describe('key files stay 0600, the rest 0644', () => {
  it('after any sequence of updates and passes', async () => {
    const rotated = { cert: await fixture('rotated.crt'), key: await fixture('rotated.key') };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Op>('rotate', 'port', 'rename', 'off-on', 'chmod', 'full', 'project'), { minLength: 1, maxLength: 6 }),
        fc.constantFrom(0o644, 0o640, 0o666, 0o400, 0o700),
        async (ops, chmodTo) => {
          await emptyTables(t.db);
          const ids = await seedSample(t.db);
          const root = await tempDir('tsync-modes-');
          const sync = new TraefikSyncService({ db: t.db, root, driftMode: 'repair', maxDeleteFraction: 1, log: silentLogger });
          await sync.syncAllProjects();
          expect(await wrongModes(root)).toEqual([]);
          let swapped = false;
          let port = 8080;
          for (const op of ops) {
            if (op === 'rotate') {
              swapped = !swapped;
              await t.db.query(sql`UPDATE certificates SET cert_pem = ${swapped ? rotated.cert : CERT_PEM},
                                   key_pem = ${swapped ? rotated.key : KEY_PEM}`);
            } else if (op === 'port') {
              await t.db.query(sql`UPDATE route_configs SET target_port = ${++port} WHERE path_rule = '/api'`);
            } else if (op === 'rename') {
              await t.db.query(sql`UPDATE projects SET name = CASE name WHEN 'shop' THEN 'store' ELSE 'shop' END WHERE id = ${ids.shop}`);
            } else if (op === 'off-on') {
              await t.db.query(sql`UPDATE domain_configs SET is_active = false WHERE full_domain = 'secure.shop.example'`);
              await sync.syncProjects([ids.shop]);
              await t.db.query(sql`UPDATE domain_configs SET is_active = true WHERE full_domain = 'secure.shop.example'`);
            } else if (op === 'chmod') {
              await chmod(path.join(root, KEY), chmodTo);
            }
            const pass = op === 'full' ? sync.syncAllProjects() : sync.syncProjects([ids.shop]);
            expect((await pass).results.filter((r) => r.status === 'failed')).toEqual([]);
            expect(await wrongModes(root), `after ${op}`).toEqual([]);
          }
          expect((await stat(path.join(root, KEY))).mode & 0o777).toBe(0o600);
        },
      ),
      { numRuns: 12 },
    );
  });

  for (const umask of [0o077, 0o000, 0o027]) {
    it(`whatever the umask of the process (0${umask.toString(8).padStart(3, '0')})`, async () => {
      await emptyTables(t.db);
      await seedSample(t.db);
      const root = await tempDir('tsync-umask-');
      const old = process.umask(umask);
      try {
        // The writer reads the umask once, when loaded: load a fresh copy under this one.
        vi.resetModules();
        const { TraefikSyncService: Fresh } = await import('../../src/reconcile/sync-service.js');
        await new Fresh({ db: t.db, root, driftMode: 'repair', maxDeleteFraction: 0.5, log: silentLogger }).syncAllProjects();
      } finally {
        process.umask(old);
      }
      const all = await modes(root);
      expect(all[KEY]).toBe(0o600);
      expect(Object.keys(all).length).toBeGreaterThan(10);
      expect(await wrongModes(root)).toEqual([]);
    });
  }
});
