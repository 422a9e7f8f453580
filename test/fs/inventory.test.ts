/**
 * The periodic disk check (Inventory.changedOnDisk): the backstop for hand edits that file events
 * missed. It must report the owning project of every file edited, replaced or deleted, nothing for
 * untouched files, and — in slices — cover the whole volume within ceil(files / slice) ticks.
 */
import { expect, it } from 'vitest';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { scanRoot } from '../../src/fs/scan.js';
import { Inventory } from '../../src/reconcile/inventory.js';
import { yamlFile } from '../../src/render/serialize.js';
import { tempDir } from '../helpers/temp-dir.js';

const projectId = (p: number) => `00000000-0000-4000-8000-${String(p).padStart(12, '0')}`;

/** A volume of `projects` projects with `perProject` files each, every file owned (header). */
async function volume(projects: number, perProject: number): Promise<{ root: string; inventory: Inventory }> {
  const root = await tempDir('tsync-inv-');
  for (let p = 0; p < projects; p++) {
    const dir = path.join(root, 'dynamic', `p${p}`);
    await mkdir(dir, { recursive: true });
    for (let f = 0; f < perProject; f++) {
      await writeFile(
        path.join(dir, `f${f}.yml`),
        yamlFile({ id: projectId(p), name: `p${p}` }, { http: { services: { [`s${f}`]: {} } } }),
      );
    }
  }
  const inventory = new Inventory();
  const disk = await scanRoot(root);
  inventory.reset(disk);
  return { root, inventory };
}

it('reports the projects whose files were edited, replaced or deleted, and none untouched', async () => {
  const { root, inventory } = await volume(6, 3);
  expect(inventory.size).toBe(18);
  expect(await inventory.changedOnDisk(root)).toEqual(new Set());

  await writeFile(path.join(root, 'dynamic/p1/f0.yml'), 'http: {routers: {evil: {rule: "Host(`x`)", service: s}}}\n'); // edited in place
  await writeFile(path.join(root, 'dynamic/p2/.new'), 'x');
  await rename(path.join(root, 'dynamic/p2/.new'), path.join(root, 'dynamic/p2/f1.yml')); // replaced
  await rm(path.join(root, 'dynamic/p4/f2.yml')); // deleted
  expect(await inventory.changedOnDisk(root)).toEqual(new Set([projectId(1), projectId(2), projectId(4)]));
});

it('in slices, covers every file within ceil(files / slice) calls, wherever the rotation stands', async () => {
  const { root, inventory } = await volume(40, 25); // 1,000 files: 4 chunks of the synchronous stat loop per slice
  const slice = 300;
  const rounds = Math.ceil(inventory.size / slice);
  for (const victim of ['dynamic/p0/f0.yml', 'dynamic/p17/f3.yml', 'dynamic/p39/f24.yml']) {
    await inventory.changedOnDisk(root, 137); // move the rotation somewhere else
    await writeFile(path.join(root, victim), 'hand edit\n');
    const seen = new Set<string | null>();
    for (let i = 0; i < rounds; i++) for (const id of await inventory.changedOnDisk(root, slice)) seen.add(id);
    expect([...seen]).toEqual([projectId(Number(/p(\d+)/.exec(victim)![1]))]);
    // What a repair pass does: record the file as it now is.
    const disk = await scanRoot(root);
    inventory.reset(disk);
  }
});

it('with unwatched folders (a watcher at its limit), checks all their files at every call, the rest in slices', async () => {
  const { root, inventory } = await volume(40, 25);
  let version = 1;
  const unwatched = new Set(['dynamic/p3', 'dynamic/p30']);
  const dirs = {
    get version() {
      return version;
    },
    has: (dir: string) => unwatched.has(dir),
  };
  await inventory.changedOnDisk(root, 100, dirs);
  await writeFile(path.join(root, 'dynamic/p30/f7.yml'), 'hand edit\n');
  // Found at the next call, wherever the slice of 100 (of 1,000 files) stands.
  expect(await inventory.changedOnDisk(root, 100, dirs)).toEqual(new Set([projectId(30)]));
  // A folder left out later (the watcher dropped it): the new set is used once its version changes.
  unwatched.add('dynamic/p12');
  version++;
  await rm(path.join(root, 'dynamic/p12/f0.yml'));
  expect(await inventory.changedOnDisk(root, 1, dirs)).toEqual(new Set([projectId(12), projectId(30)]));
});
