/** The owned files on this volume, by path and by project, with the identity last seen. */
import { lstatSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { permissions, type DiskFile } from '../fs/scan.js';

/** Files stat()ed between two turns of the event loop by {@link Inventory.changedOnDisk}. */
const STAT_CHUNK = 250;

/** An owned file as last seen: its project (null = global), identity and mode. */
export interface InventoryEntry {
  readonly projectId: string | null;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  /** Permission bits: a chmod changes neither inode, size nor mtime. */
  readonly mode: number;
}

export class Inventory implements Iterable<[string, InventoryEntry]> {
  readonly #byPath = new Map<string, InventoryEntry>();
  readonly #byProject = new Map<string | null, Set<string>>();
  /** Where the next rotating slice of {@link changedOnDisk} starts. */
  #verifyOffset = 0;
  /** The entries as an array, for slicing; dropped on every change. */
  #entries: Array<[string, InventoryEntry]> | null = null;

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
    this.#entries = null;
    let paths = this.#byProject.get(entry.projectId);
    if (!paths) this.#byProject.set(entry.projectId, (paths = new Set()));
    paths.add(path);
  }

  delete(path: string): void {
    const old = this.#byPath.get(path);
    if (!old) return;
    this.#byPath.delete(path);
    this.#entries = null;
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
    this.#entries = null;
  }

  /** Replace the contents with the owned files of a full scan; returns their routers, counted. */
  reset(disk: readonly DiskFile[]): number {
    this.clear();
    let routers = 0;
    for (const f of disk) {
      if (!f.owned) continue;
      this.set(f.path, { projectId: f.projectId, ino: f.ino, size: f.size, mtimeMs: f.mtimeMs, mode: f.mode });
      routers += f.routers;
    }
    return routers;
  }

  /**
   * stat() the files (all, or a rotating slice of `limit`: the whole volume is covered every few
   * calls) under `root` and compare with their identity and mode as last seen. Returns the owning
   * project ids (null = global) of files that changed (content or mode) or vanished.
   */
  async changedOnDisk(root: string, limit = Infinity): Promise<Set<string | null>> {
    const changed = new Set<string | null>();
    const all = (this.#entries ??= [...this.#byPath]);
    const start = limit >= all.length ? 0 : this.#verifyOffset % all.length;
    const slice =
      limit >= all.length ? all : [...all.slice(start, start + limit), ...all.slice(0, Math.max(0, start + limit - all.length))];
    this.#verifyOffset = start + slice.length;
    // Synchronous stat() is several times faster than the promise API for metadata the kernel
    // has cached (the idle tick's whole cost); in chunks, so the event loop is never held long.
    for (let i = 0; i < slice.length; i += STAT_CHUNK) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      for (const [path, e] of slice.slice(i, i + STAT_CHUNK)) {
        let st: Stats | undefined;
        try {
          st = lstatSync(join(root, path), { throwIfNoEntry: false }); // as the scan does: a symlink put in its place is a change
        } catch {
          st = undefined; // unreadable: looked at by a pass
        }
        if (!st || st.ino !== e.ino || st.size !== e.size || st.mtimeMs !== e.mtimeMs || permissions(st.mode) !== e.mode)
          changed.add(e.projectId);
      }
    }
    return changed;
  }

  [Symbol.iterator](): Iterator<[string, InventoryEntry]> {
    return this.#byPath[Symbol.iterator]();
  }
}
