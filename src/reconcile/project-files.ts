/** Which files on disk belong to a unit of a pass, read fresh. */
import { listFiles, readDiskFiles, type DiskFile } from '../fs/scan.js';
import { layout } from '../render/project.js';
import { mapLimit } from '../util.js';
import type { Inventory } from './inventory.js';

/** What is needed to find a unit's files. */
export interface FileOwner {
  readonly projectId: string | null;
  /** Its folder under dynamic/ (null: a project that no longer exists, or the global files). */
  readonly projectName: string | null;
  readonly desired: readonly { readonly path: string }[];
}

/**
 * Read the files of each unit: those in its folder, at the paths it wants, and those whose header
 * names it — where this process last saw them (the inventory: a certificate, a renamed project's
 * old folder) or among `elsewhere` (files outside project folders, by owner). At most `limit`
 * folder listings at once (the reads themselves are synchronous: fs/scan.ts). A file at a wanted
 * path is the unit's whoever owns it (another project's or nobody's is in the way).
 */
export async function unitFiles(
  root: string,
  inventory: Inventory,
  units: readonly FileOwner[],
  limit: number,
  elsewhere?: ReadonlyMap<string | null, readonly string[]>,
): Promise<DiskFile[][]> {
  const candidates = await mapLimit(units, limit, async (u) => {
    const paths = new Set<string>(inventory.pathsOf(u.projectId));
    // A wanted path in its folder is read only if the folder's listing has it: a cold pass does
    // not try (and fail) to read every file it is about to create.
    const dir = u.projectName === null ? null : `${layout.projectDir(u.projectName)}/`;
    for (const f of u.desired) if (dir === null || !f.path.startsWith(dir)) paths.add(f.path);
    for (const p of elsewhere?.get(u.projectId) ?? []) paths.add(p);
    if (u.projectName !== null) for (const p of await listFiles(root, layout.projectDir(u.projectName))) paths.add(p);
    return paths;
  });
  const read = new Map((await readDiskFiles(root, [...new Set(candidates.flatMap((c) => [...c]))])).map((f) => [f.path, f]));
  return units.map((u, i) => {
    const dir = u.projectName === null ? null : `${layout.projectDir(u.projectName)}/`;
    const wanted = new Set(u.desired.map((f) => f.path));
    const out: DiskFile[] = [];
    for (const path of candidates[i]!) {
      const f = read.get(path);
      if (f && ((dir !== null && path.startsWith(dir)) || wanted.has(path) || (f.owned && f.projectId === u.projectId))) out.push(f);
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  });
}
