/**
 * The owned files on this volume, by path and by project, with the identity last seen, and the
 * baseline: the checksum this process last wrote (or found right) at each path.
 *
 * Kept for every managed file for the life of the process, so it is stored by column, not as an
 * object per file: a path string, a slot in typed arrays (identity, routers, the checksum's 32
 * bytes) and one list of slots per project — about 150 bytes a file instead of 650 (README
 * "Benchmark": memory).
 */
import { lstatSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { permissions, type DiskFile } from '../fs/scan.js';
import { breathe, UnwatchedCheck, type Unwatched, type UnwatchedCoverage } from './unwatched-check.js';

export type { Unwatched } from './unwatched-check.js';

/** An owned file as last seen: its project (null = global), identity, mode and routers. */
export interface InventoryEntry {
  readonly projectId: string | null;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  /** Permission bits: a chmod changes neither inode, size nor mtime. */
  readonly mode: number;
  /** Routers the file defines (the delete guard's denominator). */
  readonly routers: number;
}

/** The checksum this process last wrote, or found right, at each path (what drift is judged against). */
export interface Baseline {
  get(path: string): string | undefined;
  has(path: string): boolean;
  set(path: string, checksum: string): void;
  delete(path: string): void;
}

const ON_DISK = 1;
const WRITTEN = 2;
const CHECKSUM = /^sha256:([0-9a-f]{64})$/;

export class Inventory implements Iterable<[string, InventoryEntry]> {
  readonly #slots = new Map<string, number>();
  #paths: Array<string | undefined> = [];
  #flags = new Uint8Array(0);
  #project = new Int32Array(0);
  #ino = new Float64Array(0);
  #size = new Float64Array(0);
  #mtime = new Float64Array(0);
  #mode = new Uint16Array(0);
  #routerCount = new Uint32Array(0);
  #sums = new Uint8Array(0);
  readonly #free: number[] = [];
  /** Projects by index (null = global files), their index, and the slots of their files on disk. */
  readonly #ids: Array<string | null> = [];
  readonly #index = new Map<string | null, number>();
  readonly #files: number[][] = [];
  #onDisk = 0;
  #routers = 0;
  /** Where the next rotating slice of {@link changedOnDisk} starts (a slot). */
  #verifyOffset = 0;
  /** lstat() and readdir() calls of the last {@link changedOnDisk}. */
  #calls = 0;
  readonly #unwatched = new UnwatchedCheck({
    slots: () => this.#paths.length,
    pathOf: (s) => (this.#flags[s]! & ON_DISK ? this.#paths[s] : undefined),
    projectOf: (s) => this.#ids[this.#project[s]!]!,
    check: (root, s, changed) => this.#check(root, s, changed),
  });

  /** Owned files on disk. */
  get size(): number {
    return this.#onDisk;
  }

  /** Routers in the owned files, summed. */
  get routers(): number {
    return this.#routers;
  }

  get(path: string): InventoryEntry | undefined {
    const s = this.#slots.get(path);
    return s === undefined || !(this.#flags[s]! & ON_DISK) ? undefined : this.#entry(s);
  }

  has(path: string): boolean {
    return this.get(path) !== undefined;
  }

  /** The file at `path` is on disk as `entry` describes. */
  set(path: string, entry: InventoryEntry): void {
    const s = this.#slot(path);
    const project = this.#projectIndex(entry.projectId);
    if (this.#flags[s]! & ON_DISK) {
      this.#routers -= this.#routerCount[s]!;
      if (this.#project[s] !== project) this.#unlist(s);
    } else {
      this.#onDisk++;
    }
    if (!(this.#flags[s]! & ON_DISK) || this.#project[s] !== project) {
      this.#files[project]!.push(s);
      this.#unwatched.added(s, path, entry.projectId);
    }
    this.#flags[s]! |= ON_DISK;
    this.#project[s] = project;
    this.#ino[s] = entry.ino;
    this.#size[s] = entry.size;
    this.#mtime[s] = entry.mtimeMs;
    this.#mode[s] = entry.mode;
    this.#routerCount[s] = entry.routers;
    this.#routers += entry.routers;
  }

  /** The file at `path` is gone (what was written there stays in the baseline). */
  delete(path: string): void {
    const s = this.#slots.get(path);
    if (s === undefined || !(this.#flags[s]! & ON_DISK)) return;
    this.#unlist(s);
    this.#unwatched.removed();
    this.#onDisk--;
    this.#routers -= this.#routerCount[s]!;
    this.#flags[s]! &= ~ON_DISK;
    this.#release(s);
  }

  /** Paths owned by one project (null = global files). */
  pathsOf(projectId: string | null): string[] {
    const i = this.#index.get(projectId);
    return i === undefined ? [] : this.#files[i]!.map((s) => this.#paths[s]!);
  }

  /** What this process last wrote (or found right) at each path. */
  readonly baseline: Baseline = {
    get: (path) => {
      const s = this.#slots.get(path);
      if (s === undefined || !(this.#flags[s]! & WRITTEN)) return undefined;
      return `sha256:${Buffer.from(this.#sums.buffer, s * 32, 32).toString('hex')}`;
    },
    has: (path) => this.baseline.get(path) !== undefined,
    set: (path, checksum) => {
      const hex = CHECKSUM.exec(checksum)?.[1];
      if (hex === undefined) throw new Error(`not a sha256 checksum: ${JSON.stringify(checksum)}`);
      const s = this.#slot(path);
      this.#sums.set(Buffer.from(hex, 'hex'), s * 32);
      this.#flags[s]! |= WRITTEN;
    },
    delete: (path) => {
      const s = this.#slots.get(path);
      if (s === undefined) return;
      this.#flags[s]! &= ~WRITTEN;
      this.#release(s);
    },
  };

  clear(): void {
    for (const path of [...this.#slots.keys()]) {
      this.delete(path);
      this.baseline.delete(path);
    }
  }

  /** Replace what is on disk with the owned files of a scan (the baseline stays). */
  reset(disk: readonly DiskFile[]): void {
    for (const [path] of [...this]) this.delete(path);
    for (const f of disk)
      if (f.owned)
        this.set(f.path, { projectId: f.projectId, ino: f.ino, size: f.size, mtimeMs: f.mtimeMs, mode: f.mode, routers: f.routers });
  }

  /**
   * stat() the files (all, or a rotating slice of `limit`: the whole volume is covered every few
   * calls) under `root` and compare with their identity and mode as last seen; with `unwatched`,
   * the directories no file event covers too, with at most `limit` more lstat() calls while
   * nothing changed (src/reconcile/unwatched-check.ts: what is found within how many calls).
   * Returns the owning project ids (null = global) of files that changed (content or mode),
   * vanished, or appeared in an unwatched directory.
   */
  async changedOnDisk(root: string, limit = Infinity, unwatched?: Unwatched): Promise<Set<string | null>> {
    const changed = new Set<string | null>();
    const slots = this.#paths.length;
    this.#calls = unwatched && limit < this.#onDisk ? await this.#unwatched.check(root, unwatched, limit, changed) : 0;
    const all = limit >= this.#onDisk;
    let s = all ? 0 : this.#verifyOffset % Math.max(1, slots);
    let checked = 0;
    // Synchronous stat() is several times faster than the promise API for metadata the kernel
    // has cached (the idle tick's whole cost); in chunks, so the event loop is never held long.
    for (let visited = 0; visited < slots && checked < limit; visited++, s = (s + 1) % slots) {
      if (!(this.#flags[s]! & ON_DISK)) continue;
      await breathe(checked);
      checked++;
      this.#check(root, s, changed);
    }
    this.#verifyOffset = s;
    this.#calls += checked;
    return changed;
  }

  /** lstat() and readdir() calls the last {@link changedOnDisk} made. */
  get lastCheckCalls(): number {
    return this.#calls;
  }

  /** The directories of `unwatched` that hold owned files, and those files (what {@link changedOnDisk} covers in turns). */
  unwatchedCoverage(unwatched: Unwatched): Promise<UnwatchedCoverage> {
    return this.#unwatched.coverage(unwatched);
  }

  /** stat() the file in slot `s`; add its project to `changed` if it is not as last seen. */
  #check(root: string, s: number, changed: Set<string | null>): void {
    const path = this.#paths[s];
    if (path === undefined || !(this.#flags[s]! & ON_DISK)) return; // gone while the check yielded
    let st: Stats | undefined;
    try {
      st = lstatSync(join(root, path), { throwIfNoEntry: false }); // as the scan does: a symlink put in its place is a change
    } catch {
      st = undefined; // unreadable: looked at by a pass
    }
    if (
      !st ||
      st.ino !== this.#ino[s] ||
      st.size !== this.#size[s] ||
      st.mtimeMs !== this.#mtime[s] ||
      permissions(st.mode) !== this.#mode[s]
    )
      changed.add(this.#ids[this.#project[s]!]!);
  }

  *[Symbol.iterator](): Iterator<[string, InventoryEntry]> {
    for (const [path, s] of this.#slots) if (this.#flags[s]! & ON_DISK) yield [path, this.#entry(s)];
  }

  #entry(s: number): InventoryEntry {
    return {
      projectId: this.#ids[this.#project[s]!]!,
      ino: this.#ino[s]!,
      size: this.#size[s]!,
      mtimeMs: this.#mtime[s]!,
      mode: this.#mode[s]!,
      routers: this.#routerCount[s]!,
    };
  }

  /** The slot of `path`, taken if it has none. */
  #slot(path: string): number {
    let s = this.#slots.get(path);
    if (s !== undefined) return s;
    s = this.#free.pop() ?? this.#paths.length;
    if (s >= this.#flags.length) this.#grow(Math.max(1024, this.#flags.length * 2));
    this.#paths[s] = path;
    this.#flags[s] = 0;
    this.#slots.set(path, s);
    return s;
  }

  /** Free a slot that holds nothing any more. */
  #release(s: number): void {
    if (this.#flags[s] !== 0) return;
    this.#slots.delete(this.#paths[s]!);
    this.#paths[s] = undefined;
    this.#free.push(s);
  }

  #unlist(s: number): void {
    const files = this.#files[this.#project[s]!]!;
    const at = files.indexOf(s);
    if (at >= 0) files.splice(at, 1);
  }

  #projectIndex(projectId: string | null): number {
    let i = this.#index.get(projectId);
    if (i === undefined) {
      i = this.#ids.length;
      this.#ids.push(projectId);
      this.#index.set(projectId, i);
      this.#files.push([]);
    }
    return i;
  }

  #grow(capacity: number): void {
    const grow = <T extends Uint8Array | Uint16Array | Int32Array | Float64Array | Uint32Array>(a: T, per = 1): T => {
      const b = new (a.constructor as new (n: number) => T)(capacity * per);
      b.set(a);
      return b;
    };
    this.#flags = grow(this.#flags);
    this.#project = grow(this.#project);
    this.#ino = grow(this.#ino);
    this.#size = grow(this.#size);
    this.#mtime = grow(this.#mtime);
    this.#mode = grow(this.#mode);
    this.#routerCount = grow(this.#routerCount);
    this.#sums = grow(this.#sums, 32);
  }
}
