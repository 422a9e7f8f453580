/**
 * A file's mode is part of the desired state: private keys 0600, every other generated file 0644.
 * A managed file whose mode differs — a key made readable to all, a config made private — is
 * drift of kind `modified`, like an edit of its text: found by a pass, by the periodic disk check
 * (a chmod changes neither inode, size nor mtime) and by file events (a chmod is one); counted,
 * recorded, and repaired in `repair` mode or only reported in `report` mode. Before, drift compared
 * checksums only: a key chmod'ed to 0644 with the same text was never repaired nor reported.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from '../../src/db/connect.js';
import { silentLogger } from '../../src/log.js';
import { unifiedDiff } from '../../src/reconcile/diff.js';
import { TraefikSyncService } from '../../src/reconcile/sync-service.js';
import { databaseForFile, emptyTables } from '../helpers/db.js';
import { seedSample, type SampleIds } from '../helpers/seed.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';
import { tempDir } from '../helpers/temp-dir.js';

const KEY = 'ssl/keys/secure.shop.example.key';
const CRT = 'ssl/certs/secure.shop.example.crt';
const WEB = 'dynamic/shop/services/web.yml';

const t = databaseForFile();
let root: string;
let ids: SampleIds;
let sidecar: TestSidecar | undefined;

beforeEach(async () => {
  await emptyTables(t.db);
  root = await tempDir('tsync-mode-');
  ids = await seedSample(t.db);
});
afterEach(async () => {
  await sidecar?.stop();
  sidecar = undefined;
});

const modeOf = async (base: string, rel: string) => (await stat(path.join(base, rel))).mode & 0o7777;
const service = (driftMode: 'repair' | 'report') =>
  new TraefikSyncService({ db: t.db, root, driftMode, maxDeleteFraction: 0.5, log: silentLogger });

describe('a pass', () => {
  // Each case: the file, the mode someone gave it, the mode it must have.
  const cases = [
    [KEY, 0o644, 0o600],
    [KEY, 0o640, 0o600],
    [KEY, 0o4600, 0o600], // setuid: the bits above rwx count too
    [CRT, 0o600, 0o644],
    [WEB, 0o666, 0o644],
    ['static/traefik.yml', 0o600, 0o644],
  ] as const;

  for (const [file, wrong, desired] of cases) {
    it(`repair mode: ${file} chmod'ed to 0${wrong.toString(8)} is modified drift and gets 0${desired.toString(8)} back, same text`, async () => {
      const s = service('repair');
      await s.syncAllProjects();
      expect(await modeOf(root, file)).toBe(desired);
      await chmod(path.join(root, file), wrong);
      // The periodic check's stat() sees the chmod (inode, size and mtime are unchanged).
      expect(await s.verifyDisk()).toEqual(new Set([file.startsWith('static/') ? null : ids.shop]));
      const r = await s.syncAllProjects();
      expect(r.results.flatMap((x) => x.drift)).toEqual([{ path: file, kind: 'modified', repaired: true }]);
      expect(await modeOf(root, file)).toBe(desired);
      // Repaired: the next pass finds nothing, and the disk check nothing either.
      expect((await s.syncAllProjects()).results.flatMap((x) => x.drift)).toEqual([]);
      expect(await s.verifyDisk()).toEqual(new Set());
    });
  }

  it('report mode: the chmod is reported on every pass and left as it is', async () => {
    const s = service('report');
    await s.syncAllProjects();
    await chmod(path.join(root, KEY), 0o644);
    for (const pass of [() => s.syncAllProjects(), () => s.syncProjects([ids.shop])]) {
      const r = await pass();
      expect(r.results.flatMap((x) => x.drift)).toEqual([{ path: KEY, kind: 'modified', repaired: false }]);
      expect(r.results.reduce((n, x) => n + x.updated, 0)).toBe(0);
      expect(await modeOf(root, KEY)).toBe(0o644);
    }
    // The disk check does not flag it again and again: the inventory holds the mode it found.
    expect(await s.verifyDisk()).toEqual(new Set());
  });

  it('a project pass (what a file event triggers) repairs it too', async () => {
    const s = service('repair');
    await s.syncAllProjects();
    await chmod(path.join(root, KEY), 0o644);
    const r = await s.syncProjects([ids.shop]);
    expect(r.results.flatMap((x) => x.drift)).toEqual([{ path: KEY, kind: 'modified', repaired: true }]);
    expect(await modeOf(root, KEY)).toBe(0o600);
  });

  it('a file both edited and chmod-ed is one modified drift, repaired in text and mode', async () => {
    const s = service('repair');
    await s.syncAllProjects();
    const abs = path.join(root, WEB);
    await writeFile(abs, (await readFile(abs, 'utf8')).replace('8080', '9999'));
    await chmod(abs, 0o600);
    const r = await s.syncAllProjects();
    expect(r.results.flatMap((x) => x.drift)).toEqual([{ path: WEB, kind: 'modified', repaired: true }]);
    expect(await modeOf(root, WEB)).toBe(0o644);
    expect(await readFile(abs, 'utf8')).toContain('8080');
  });

  it('diff shows a mode-only difference the way git does, the key still masked', async () => {
    const s = service('repair');
    await s.syncAllProjects();
    await chmod(path.join(root, KEY), 0o644);
    await chmod(path.join(root, WEB), 0o600);
    const { changes } = await s.preview();
    const byPath = new Map(changes.map((c) => [c.path, c]));
    expect([...byPath.keys()].sort()).toEqual([WEB, KEY].sort());
    expect(byPath.get(KEY)!.mode).toEqual({ before: 0o644, after: 0o600 });
    const key = unifiedDiff(byPath.get(KEY)!);
    expect(key).toContain('old mode 100644\nnew mode 100600\n');
    expect(key).toContain('private key unchanged, mode differs (content masked)');
    expect(key).not.toContain('PRIVATE KEY');
    expect(unifiedDiff(byPath.get(WEB)!)).toMatch(/^old mode 100600\nnew mode 100644\n--- a\/dynamic\/shop\/services\/web\.yml\n/);
  });
});

/** The drift_events rows, once there are any: [file, kind, repaired]. */
async function driftRecords(): Promise<unknown[][]> {
  const rows = await waitFor(async () => {
    const r = await t.db.query(sql`SELECT file_path, kind, repaired FROM drift_events ORDER BY id`);
    return r.length ? r : null;
  }, 15_000);
  return rows!.map((r) => [r.file_path, r.kind, r.repaired]);
}

describe('the controller (run)', () => {
  it('a chmod is a file event: counted as modified drift, recorded, repaired', async () => {
    sidecar = await startTestSidecar(t.url, { interval: '1h' }); // only the file event can find it
    await waitFor(async () => (await sidecar!.get('/readyz')).status === 200, 15_000);
    await chmod(path.join(sidecar.root, KEY), 0o644);
    expect(await driftRecords()).toEqual([[KEY, 'modified', true]]);
    expect(await sidecar.metric('traefik_sync_drift_detected_total', { kind: 'modified' })).toBe(1);
    await sidecar.controller.idle();
    expect(await modeOf(sidecar.root, KEY)).toBe(0o600);
  });

  it('without file events, the periodic disk check finds the chmod', async () => {
    sidecar = await startTestSidecar(t.url, { interval: '1s' }, { watchFiles: false });
    await waitFor(async () => (await sidecar!.get('/readyz')).status === 200, 15_000);
    await chmod(path.join(sidecar.root, CRT), 0o600);
    await waitFor(async () => (await sidecar!.metric('traefik_sync_drift_detected_total', { kind: 'modified' })) === 1, 15_000);
    await sidecar.controller.idle();
    expect(await modeOf(sidecar.root, CRT)).toBe(0o644);
  });

  it('report mode: counted and recorded as not repaired; the mode is left; the drift gauge shows it', async () => {
    sidecar = await startTestSidecar(t.url, { interval: '1h', 'drift-mode': 'report' });
    await waitFor(async () => (await sidecar!.get('/readyz')).status === 200, 15_000);
    await chmod(path.join(sidecar.root, KEY), 0o644);
    expect(await driftRecords()).toEqual([[KEY, 'modified', false]]);
    await sidecar.controller.idle();
    expect(await sidecar.metric('traefik_sync_drift_files', { kind: 'modified' })).toBe(1);
    expect(await modeOf(sidecar.root, KEY)).toBe(0o644);
    // Later passes see it again: still one drift, counted and recorded once.
    await t.db.query(sql`UPDATE route_configs SET target_port = 3001 WHERE path_rule = '/api'`);
    await waitFor(
      async () => (await readFile(path.join(sidecar!.root, 'dynamic/shop/services/api.yml'), 'utf8')).includes(':3001'),
      15_000,
    );
    await sidecar.controller.idle();
    expect(await sidecar.metric('traefik_sync_drift_detected_total', { kind: 'modified' })).toBe(1);
    expect(await driftRecords()).toEqual([[KEY, 'modified', false]]);
    expect(await modeOf(sidecar.root, KEY)).toBe(0o644);
  });
});
