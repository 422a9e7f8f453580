/** Which unit of a pass each file on disk belongs to. */
import type { DiskFile } from '../fs/scan.js';
import type { Unit } from './report.js';

/**
 * Files of a full scan, handed out to units as the pass reaches them: a unit takes the files at
 * the paths it wants, the files in its folder (static/ for the static config) and the files whose
 * header names it. What is left at the end belongs to projects that no longer exist (by header),
 * is an unexpected global file of ours, or belongs to nobody (not ours: reported, never touched).
 */
export class DiskIndex {
  readonly #byPath = new Map<string, DiskFile>();
  readonly #byDir = new Map<string, DiskFile[]>();
  readonly #byOwner = new Map<string, DiskFile[]>();
  readonly #taken = new Set<string>();
  readonly #all: readonly DiskFile[];

  constructor(disk: readonly DiskFile[]) {
    this.#all = disk;
    for (const f of disk) {
      this.#byPath.set(f.path, f);
      const dir = /^dynamic\/([^/]+)\//.exec(f.path)?.[1] ?? (f.path.startsWith('static/') ? '' : undefined);
      if (dir !== undefined) push(this.#byDir, dir, f);
      if (f.owned && f.projectId) push(this.#byOwner, f.projectId, f);
    }
  }

  /** The files of a unit: at its desired paths, in its folder (null: static/), owned by its id. */
  take(desired: readonly { path: string }[], projectId: string | null, name: string | null): DiskFile[] {
    const out: DiskFile[] = [];
    const atPaths = desired.map((d) => this.#byPath.get(d.path)).filter((f): f is DiskFile => f !== undefined);
    for (const f of [...atPaths, ...(this.#byDir.get(name ?? '') ?? []), ...(projectId ? (this.#byOwner.get(projectId) ?? []) : [])]) {
      if (this.#taken.has(f.path)) continue;
      this.#taken.add(f.path);
      out.push(f);
    }
    return out;
  }

  /**
   * After every project took its files: one unit per project that no longer exists but still has
   * files (nothing desired), and the paths that belong to nobody.
   */
  leftovers(tombstones: ReadonlyMap<string, number>): { orphans: Unit[]; unowned: string[] } {
    const orphans = new Map<string | null, Unit>();
    const unowned: string[] = [];
    for (const f of this.#all) {
      if (this.#taken.has(f.path)) continue;
      if (!f.owned) {
        unowned.push(f.path);
        continue;
      }
      let u = orphans.get(f.projectId);
      if (!u) {
        u = {
          projectId: f.projectId,
          projectName: null,
          desired: [],
          actual: [],
          problems: [],
          changedAt: null,
          version: f.projectId ? (tombstones.get(f.projectId) ?? 0) : 0,
          tombstoned: f.projectId !== null && tombstones.has(f.projectId),
        };
        orphans.set(f.projectId, u);
      }
      u.actual.push(f);
    }
    return { orphans: [...orphans.values()], unowned };
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
