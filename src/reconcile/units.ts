/** Which unit of a full pass each file on disk belongs to. Pure. */
import type { DiskFile } from '../fs/scan.js';
import type { Unit } from './report.js';

/**
 * Put every file into the `actual` of its unit: the unit that wants its path, else the project
 * its header names (a unit with nothing desired is added for a project that no longer exists),
 * else the project whose folder holds it. Returns the files that belong to no unit: not ours.
 */
export function assignFiles(units: Unit[], disk: readonly DiskFile[], tombstones: ReadonlyMap<string, number>): string[] {
  const byPath = new Map<string, Unit>();
  for (const u of units) for (const f of u.desired) byPath.set(f.path, u);
  const byId = new Map<string | null, Unit>(units.map((u) => [u.projectId, u]));
  const byName = new Map<string, Unit>(units.filter((u) => u.projectName).map((u) => [u.projectName!, u]));
  const unowned: string[] = [];
  for (const f of disk) {
    let u = byPath.get(f.path) ?? (f.owned ? byId.get(f.projectId) : undefined);
    if (!u && f.owned && f.projectId) {
      u = {
        projectId: f.projectId, projectName: null, desired: [], actual: [], problems: [], changedAt: null,
        version: tombstones.get(f.projectId) ?? 0, tombstoned: tombstones.has(f.projectId),
      };
      units.push(u);
      byId.set(f.projectId, u);
    }
    u ??= byName.get(/^dynamic\/([^/]+)\//.exec(f.path)?.[1] ?? '') ?? (f.path.startsWith('static/') ? byId.get(null) : undefined);
    if (u) u.actual.push(f);
    else unowned.push(f.path);
  }
  return unowned;
}
