/**
 * TreeWatcher on a real directory tree: a watch of a directory that is removed goes deaf without
 * an 'error' or 'close', so it must be dropped (the count stays right, no inotify watch leaks)
 * and a directory of that name that comes back must be watched anew.
 */
import { afterEach, expect, it } from 'vitest';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TreeWatcher } from '../../src/fs/watch.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/sidecar.js';

let w: TreeWatcher | undefined;
afterEach(() => {
  w?.close();
  w = undefined;
});

async function setup(): Promise<{ root: string; seen: Set<string>; watcher: TreeWatcher }> {
  const root = await tempDir('tsync-watch-');
  await mkdir(path.join(root, 'dynamic/shop/services'), { recursive: true });
  await mkdir(path.join(root, 'dynamic/blog/services'), { recursive: true });
  const seen = new Set<string>();
  w = new TreeWatcher({ root, onChange: (rel) => seen.add(rel), maxWatches: 100 });
  await w.refresh();
  expect(w.watching).toBe(5); // dynamic, dynamic/{shop,blog}, dynamic/{shop,blog}/services
  return { root, seen, watcher: w };
}

/** Write `rel` and tell whether the watcher reports it (within 10 s: the event comes at once, or never). */
async function reported(root: string, seen: Set<string>, rel: string): Promise<boolean> {
  seen.delete(rel);
  await writeFile(path.join(root, rel), 'x');
  return waitFor(() => seen.has(rel), 10_000).then(
    () => true,
    () => false,
  );
}

/** Remove `rel` (its watches go with it), make dynamic/blog/services again (watched again). */
async function removeAndRemake(root: string, watcher: TreeWatcher, rel: string, watchedMeanwhile: number): Promise<void> {
  await rm(path.join(root, rel), { recursive: true });
  await waitFor(() => watcher.watching === watchedMeanwhile, 10_000);
  await mkdir(path.join(root, 'dynamic/blog/services'), { recursive: true });
  await waitFor(() => watcher.watching === 5, 10_000);
}

it('drops the watches of a removed folder and watches it again when it comes back', async () => {
  const { root, seen, watcher } = await setup();
  await removeAndRemake(root, watcher, 'dynamic/blog/services', 4);
  expect(await reported(root, seen, 'dynamic/blog/services/ghost.yml')).toBe(true);
});

it('the same for a whole project folder, removed or renamed away and back', async () => {
  const { root, seen, watcher } = await setup();
  await removeAndRemake(root, watcher, 'dynamic/blog', 3);
  expect(await reported(root, seen, 'dynamic/blog/services/ghost.yml')).toBe(true);

  // Renamed away: the watches would follow the folder out of the tree, reporting its files
  // under the old names. Renamed back: watched again.
  await rename(path.join(root, 'dynamic/blog'), path.join(root, 'blog-away'));
  await waitFor(() => watcher.watching === 3, 10_000);
  seen.clear();
  await writeFile(path.join(root, 'blog-away/services/ghost.yml'), 'y');
  // A barrier: inotify reports in order, so once a later write in a watched folder is seen, an
  // event of the write above would have been seen too.
  await writeFile(path.join(root, 'dynamic/shop/services/barrier.yml'), 'z');
  await waitFor(() => seen.has('dynamic/shop/services/barrier.yml'), 10_000);
  expect(seen.has('dynamic/blog/services/ghost.yml')).toBe(false);
  await rename(path.join(root, 'blog-away'), path.join(root, 'dynamic/blog'));
  await waitFor(() => watcher.watching === 5, 10_000);
  expect(await reported(root, seen, 'dynamic/blog/services/ghost.yml')).toBe(true);
});

it('drops a removed top-level folder (no watched parent) and the next refresh watches it again', async () => {
  const { root, seen, watcher } = await setup();
  await rm(path.join(root, 'dynamic'), { recursive: true });
  await waitFor(() => watcher.watching === 0, 10_000);
  await mkdir(path.join(root, 'dynamic/shop/services'), { recursive: true });
  await watcher.refresh();
  expect(watcher.watching).toBe(3);
  expect(await reported(root, seen, 'dynamic/shop/services/web.yml')).toBe(true);
});

it('a child folder named like its parent is not mistaken for the parent going', async () => {
  const { root, seen, watcher } = await setup();
  await mkdir(path.join(root, 'dynamic/dynamic/services'), { recursive: true });
  await waitFor(() => watcher.watching === 7, 10_000);
  await rm(path.join(root, 'dynamic/dynamic'), { recursive: true });
  await waitFor(() => watcher.watching === 5, 10_000);
  expect(await reported(root, seen, 'dynamic/shop/services/web.yml')).toBe(true);
});
