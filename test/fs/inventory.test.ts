/**
 * The periodic disk check (Inventory.changedOnDisk): the backstop for hand edits that file events
 * missed. It must report the owning project of every file edited, replaced or deleted, nothing for
 * untouched files, and — in slices — cover the whole volume within ceil(files / slice) ticks.
 */
import { describe, expect, it } from 'vitest';
import { mkdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { scanRoot } from '../../src/fs/scan.js';
import { Inventory } from '../../src/reconcile/inventory.js';
import { unwatchedTurns } from '../../src/reconcile/unwatched-check.js';
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

/** Make the folders of a volume of `projects` a minute old (a younger mtime is not trusted: each check lists them again). */
async function age(root: string, projects: number): Promise<void> {
  const past = new Date(Date.now() - 60_000);
  for (let p = 0; p < projects; p++) await utimes(path.join(root, 'dynamic', `p${p}`), past, past);
}

it('with unwatched folders (a watcher at its limit), uses a new set of them once its version changes', async () => {
  const { root, inventory } = await volume(40, 25);
  await age(root, 40);
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
  // Found at the next call, wherever the slice of 100 (of 1,000 files) stands: 2 folders and 50
  // files fit in the 100 lstat() calls the unwatched folders get.
  expect(await inventory.changedOnDisk(root, 100, dirs)).toEqual(new Set([projectId(30)]));
  unwatched.add('dynamic/p12');
  version++;
  await rm(path.join(root, 'dynamic/p12/f0.yml'));
  expect(await inventory.changedOnDisk(root, 100, dirs)).toEqual(new Set([projectId(12), projectId(30)]));
});

describe('unwatched folders at scale (src/reconcile/unwatched-check.ts)', () => {
  // 300 projects of 2 files; the watcher left out the last 40 folders (80 files). A check of 10:
  // 10 lstat() calls for the whole volume (600 files: 60 checks to cover it) and 10 for the
  // unwatched folders, 5 for folders (8 checks to cover them) and 5 for their files (16 checks).
  const LIMIT = 10;
  const left = (p: number) => p >= 260;
  const unwatched = { version: 1, has: (dir: string) => left(Number(/^dynamic\/p(\d+)$/.exec(dir)?.[1] ?? -1)) };

  /** The volume, its folders a minute old, each looked at once already (10 + 10 calls a check). */
  async function limited(): Promise<{ root: string; inventory: Inventory }> {
    const v = await volume(300, 2);
    await age(v.root, 300);
    expect(await v.inventory.unwatchedCoverage(unwatched)).toEqual({ dirs: 40, files: 80 });
    expect(unwatchedTurns(await v.inventory.unwatchedCoverage(unwatched), LIMIT)).toEqual({ changed: 8, edited: 16 });
    for (let i = 0; i < 8; i++) {
      expect(await v.inventory.changedOnDisk(v.root, LIMIT, unwatched)).toEqual(new Set());
      expect(v.inventory.lastCheckCalls).toBeLessThanOrEqual(2 * LIMIT);
    }
    return v;
  }

  /** What a pass does after writing `rel`: record it in the inventory as it now is. */
  async function recordWrite(v: { root: string; inventory: Inventory }, rel: string): Promise<void> {
    const f = (await scanRoot(v.root)).find((d) => d.path === rel)!;
    expect(f.owned).toBe(true);
    v.inventory.set(rel, { projectId: f.projectId, ino: f.ino, size: f.size, mtimeMs: f.mtimeMs, mode: f.mode, routers: f.routers });
  }

  /** The projects reported by the next `calls` checks. */
  async function within(v: { root: string; inventory: Inventory }, calls: number): Promise<Set<string | null>> {
    const seen = new Set<string | null>();
    for (let i = 0; i < calls; i++) for (const id of await v.inventory.changedOnDisk(v.root, LIMIT, unwatched)) seen.add(id);
    return seen;
  }

  it('makes twice the slice of lstat() calls a check, not one per unwatched file', async () => {
    const v = await limited();
    for (let i = 0; i < 20; i++) {
      expect(await v.inventory.changedOnDisk(v.root, LIMIT, unwatched)).toEqual(new Set());
      expect(v.inventory.lastCheckCalls).toBe(2 * LIMIT);
    }
  });

  it.each([
    ['deleted', (file: string) => rm(file)],
    [
      'replaced by rename (an editor saving)',
      async (file: string) => {
        await writeFile(`${file}.swp`, 'hand edit\n');
        await rename(`${file}.swp`, file);
      },
    ],
  ])('finds a file %s there within ceil(folders / half the slice) checks', async (_, edit) => {
    const v = await limited();
    // A file the turns of the files (and the slice of the volume) do not reach in those 8 checks:
    // found by its folder's mtime.
    await edit(path.join(v.root, 'dynamic/p262/f1.yml'));
    expect(await within(v, 8)).toEqual(new Set([projectId(262)]));
  });

  it('finds a hand-made file there (which no stat() of a known file can) within ceil(folders / half the slice) checks', async () => {
    const v = await limited();
    await writeFile(path.join(v.root, 'dynamic/p299/extra.yml'), 'http: {routers: {evil: {rule: "Host(`x`)", service: s}}}\n');
    expect(await within(v, 8)).toEqual(new Set([projectId(299)]));
  });

  it('finds a file edited in place there within ceil(files / the rest of the slice) checks', async () => {
    const v = await limited();
    // Both files of one project: which one the turn reaches first does not matter.
    for (const f of ['f0', 'f1']) await writeFile(path.join(v.root, `dynamic/p270/${f}.yml`), 'hand edit\n');
    expect(await within(v, 16)).toEqual(new Set([projectId(270)]));
  });

  it('looks at a file written later in an unwatched folder too: an edit in place there is found within its turns', async () => {
    const v = await limited();
    const file = path.join(v.root, 'dynamic/p290/f2.yml');
    await writeFile(file, yamlFile({ id: projectId(290), name: 'p290' }, { http: { services: { s2: {} } } }));
    await recordWrite(v, 'dynamic/p290/f2.yml');
    expect(await v.inventory.unwatchedCoverage(unwatched)).toEqual({ dirs: 40, files: 81 });
    expect(await within(v, 8)).toEqual(new Set()); // its folder moved, and the inventory explains it
    await writeFile(file, 'hand edit\n');
    expect(await within(v, Math.ceil(81 / 5))).toEqual(new Set([projectId(290)]));
  });

  it('lists a folder whose mtime moved, but reports nothing when the inventory explains it (our own write)', async () => {
    const v = await limited();
    const file = path.join(v.root, 'dynamic/p265/f0.yml');
    await writeFile(`${file}.swp`, yamlFile({ id: projectId(265), name: 'p265' }, { http: { services: { renamed: {} } } }));
    await rename(`${file}.swp`, file);
    await recordWrite(v, 'dynamic/p265/f0.yml');
    expect(await within(v, 16)).toEqual(new Set());
  });
});
