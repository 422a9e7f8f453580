/** The owned files on this volume, by path and by project, with the identity last seen. */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DiskFile } from '../fs/scan.js';
import { mapLimit } from '../util.js';

/** An owned file as last seen: its project (null = global) and identity. */
export interface InventoryEntry {
  readonly projectId: string | null;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

export class Inventory implements Iterable<[string, InventoryEntry]> {
  readonly #byPath = new Map<string, InventoryEntry>();
  readonly #byProject = new Map<string | null, Set<string>>();
  /** Where the next rotating slice of {@link changedOnDisk} starts. */
  #verifyOffset = 0;

  get size(): number {
    return this.#byPath.size;
  }

  get(path: string): InventoryEntry | undefined {
    return this.#byPath.get(path);
  }

  has(path: string): boolean {
    return this.#byPath.has(path);
  }

  set(path: string, entry: InventoryEntry): void {
    const old = this.#byPath.get(path);
    if (old && old.projectId !== entry.projectId) this.#byProject.get(old.projectId)?.delete(path);
    this.#byPath.set(path, entry);
    let paths = this.#byProject.get(entry.projectId);
    if (!paths) this.#byProject.set(entry.projectId, (paths = new Set()));
    paths.add(path);
  }

  delete(path: string): void {
    const old = this.#byPath.get(path);
    if (!old) return;
    this.#byPath.delete(path);
    const paths = this.#byProject.get(old.projectId);
    paths?.delete(path);
    if (paths?.size === 0) this.#byProject.delete(old.projectId);
  }

  /** Paths owned by one project (null = global files). */
  pathsOf(projectId: string | null): ReadonlySet<string> {
    return this.#byProject.get(projectId) ?? new Set();
  }

  clear(): void {
    this.#byPath.clear();
    this.#byProject.clear();
  }

  /** Replace the contents with the owned files of a full scan; returns their routers, counted. */
  reset(disk: readonly DiskFile[]): number {
    this.clear();
    let routers = 0;
    for (const f of disk) {
      if (!f.owned) continue;
      this.set(f.path, { projectId: f.projectId, ino: f.ino, size: f.size, mtimeMs: f.mtimeMs });
      routers += f.routers;
    }
    return routers;
  }

  /**
   * stat() the files (all, or a rotating slice of `limit`: the whole volume is covered every few
   * calls) under `root` and compare with their identity as last seen. Returns the owning project
   * ids (null = global) of files that changed or vanished.
   */
  async changedOnDisk(root: string, limit = Infinity): Promise<Set<string | null>> {
    const changed = new Set<string | null>();
    const all = [...this.#byPath];
    const start = limit >= all.length ? 0 : this.#verifyOffset % all.length;
    const slice = limit >= all.length ? all : [...all.slice(start, start + limit), ...all.slice(0, Math.max(0, start + limit - all.length))];
    this.#verifyOffset = start + slice.length;
    await mapLimit(slice, 64, async ([path, e]) => {
      const st = await stat(join(root, path)).catch(() => null);
      if (!st || st.ino !== e.ino || st.size !== e.size || st.mtimeMs !== e.mtimeMs) changed.add(e.projectId);
    });
    return changed;
  }

  [Symbol.iterator](): Iterator<[string, InventoryEntry]> {
    return this.#byPath[Symbol.iterator]();
  }
}
