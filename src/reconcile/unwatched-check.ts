/**
 * The disk check of the directories the file watcher left out (it hit its inotify budget:
 * src/fs/watch.ts). No event reports a change there, so each periodic check looks, with at most
 * `limit` lstat() calls while nothing changes (at 50,000 projects a tick must not stat() the
 * tens of thousands of files there: 1.1 s a tick):
 *
 * - Up to half of them go to the directories, in turns. A directory's mtime moves when a file in
 *   it is created, deleted or renamed (an editor's write-and-rename, `sed -i`, `rm`, `mv`, our own
 *   writes). When it moved, the directory is listed and its files stat()ed (one readdir() and a
 *   few lstat() calls more): a name the inventory does not hold, or a file not as last seen,
 *   reports its project. So those changes are found within ceil(D / ceil(limit / 2)) checks.
 * - The rest go to the files there, in turns: an edit in place or a chmod moves no directory;
 *   found within ceil(F / (limit − the directories' share)) checks ({@link unwatchedTurns}).
 *
 * A directory's mtime is trusted only once it is a second old: timestamps are coarse (a few ms),
 * so a change made in the same tick of the clock as the listing would otherwise go unseen.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TEMP_MARK } from '../fs/atomic.js';
import { layout } from '../render/project.js';

/** lstat() calls between two turns of the event loop. */
export const STAT_CHUNK = 250;

/** A directory's mtime younger than this is listed again at its next turn. */
const RACY_MS = 1000;

/** Directories whose files file events do not cover (a watcher that hit its limit); `version` changes with the set. */
export interface Unwatched {
  readonly version: number;
  has(dir: string): boolean;
}

/** What the check reads of the inventory (src/reconcile/inventory.ts). */
export interface InventoryFiles {
  /** Changes when a file is added or changes project. */
  layoutVersion(): number;
  /** The owned files on disk: slot, path, project (null = global). */
  files(): Iterable<readonly [number, string, string | null]>;
  /** The path of the file in `slot` while it is on disk. */
  pathOf(slot: number): string | undefined;
  /** stat() the file in `slot`; add its project to `changed` if it is not as last seen. */
  check(root: string, slot: number, changed: Set<string | null>): void;
}

interface Dir {
  readonly path: string;
  readonly projectId: string | null;
  readonly slots: number[];
}

/** Unwatched directories holding owned files, and those files. */
export interface UnwatchedCoverage {
  readonly dirs: number;
  readonly files: number;
}

/**
 * In how many checks of `limit` lstat() calls a change in the unwatched directories is found:
 * `changed` — a file created, deleted or renamed there; `edited` — a file edited in place or chmod-ed.
 */
export function unwatchedTurns({ dirs, files }: UnwatchedCoverage, limit: number): { changed: number; edited: number } {
  const dirShare = Math.min(dirs, Math.ceil(limit / 2));
  return { changed: Math.ceil(dirs / Math.max(1, dirShare)), edited: Math.ceil(files / Math.max(1, limit - dirShare)) };
}

/** Yield to the event loop every {@link STAT_CHUNK} calls. */
export async function breathe(calls: number): Promise<void> {
  if (calls > 0 && calls % STAT_CHUNK === 0) await new Promise((resolve) => setImmediate(resolve));
}

export class UnwatchedCheck {
  readonly #inv: InventoryFiles;
  #key = '';
  #dirs: Dir[] = [];
  #files: number[] = [];
  #dirAt = 0;
  #fileAt = 0;
  /** Each directory's mtime when it was last listed and found as expected (absent: list it at its turn). */
  #mtimes = new Map<string, number>();

  constructor(inventory: InventoryFiles) {
    this.#inv = inventory;
  }

  /** How many directories and files the check covers. */
  coverage(unwatched: Unwatched): UnwatchedCoverage {
    this.#list(unwatched);
    return { dirs: this.#dirs.length, files: this.#files.length };
  }

  /**
   * One turn: the next directories and files (at most `limit` lstat() calls, plus a listing of
   * each directory whose mtime moved); adds the projects of what changed to `changed`. Returns
   * the calls made (readdir() included).
   */
  async check(root: string, unwatched: Unwatched, limit: number, changed: Set<string | null>): Promise<number> {
    this.#list(unwatched);
    const dirs = this.#dirs;
    const files = this.#files;
    let calls = 0;
    const dirShare = Math.min(dirs.length, Math.ceil(limit / 2));
    for (let i = 0; i < dirShare; i++) {
      const dir = dirs[(this.#dirAt + i) % dirs.length]!;
      calls += this.#visit(root, dir, changed);
      await breathe(i + 1);
    }
    this.#dirAt = dirs.length === 0 ? 0 : (this.#dirAt + dirShare) % dirs.length;
    const fileShare = Math.min(files.length, limit - dirShare);
    for (let i = 0; i < fileShare; i++) {
      this.#inv.check(root, files[(this.#fileAt + i) % files.length]!, changed);
      await breathe(i + 1);
    }
    this.#fileAt = files.length === 0 ? 0 : (this.#fileAt + Math.max(0, fileShare)) % files.length;
    return calls + Math.max(0, fileShare);
  }

  /** stat() `dir`; list it when its mtime moved. Returns the calls made. */
  #visit(root: string, dir: Dir, changed: Set<string | null>): number {
    const abs = join(root, dir.path);
    let st;
    try {
      st = lstatSync(abs, { throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    if (!st?.isDirectory()) {
      // Gone (or replaced by something else): its files with it.
      this.#mtimes.delete(dir.path);
      changed.add(dir.projectId);
      return 1;
    }
    if (this.#mtimes.get(dir.path) === st.mtimeMs) return 1;
    let calls = 2;
    const expected = new Set<string>();
    for (const s of dir.slots) {
      const path = this.#inv.pathOf(s);
      if (path === undefined || !path.startsWith(`${dir.path}/`)) continue; // gone since listed
      expected.add(path.slice(dir.path.length + 1));
      this.#inv.check(root, s, changed);
      calls++;
    }
    let names;
    try {
      names = readdirSync(abs, { withFileTypes: true });
    } catch {
      names = null;
    }
    // A file the inventory does not hold (a hand-made one, or one a pass is just writing: its pass
    // then runs once more for nothing). Temp files and the reload marker are ours; folders are
    // the watcher's (their own turn, or watched).
    const ours = (name: string) => expected.has(name) || name.includes(TEMP_MARK) || `${dir.path}/${name}` === layout.marker;
    const stranger = names?.some((e) => !e.isDirectory() && !ours(e.name)) ?? true;
    if (stranger) changed.add(dir.projectId);
    if (Date.now() - st.mtimeMs >= RACY_MS) this.#mtimes.set(dir.path, st.mtimeMs);
    else this.#mtimes.delete(dir.path);
    return calls;
  }

  /** List the unwatched directories and their files again when the watched set or the files changed. */
  #list(unwatched: Unwatched): void {
    const key = `${unwatched.version}:${this.#inv.layoutVersion()}`;
    if (key === this.#key) return;
    this.#key = key;
    const byPath = new Map<string, Dir>();
    const files: number[] = [];
    for (const [s, path, projectId] of this.#inv.files()) {
      const dirPath = path.slice(0, Math.max(0, path.lastIndexOf('/')));
      if (!unwatched.has(dirPath)) continue;
      let dir = byPath.get(dirPath);
      if (!dir) byPath.set(dirPath, (dir = { path: dirPath, projectId, slots: [] }));
      dir.slots.push(s);
      files.push(s);
    }
    for (const path of [...this.#mtimes.keys()]) if (!byPath.has(path)) this.#mtimes.delete(path);
    this.#dirs = [...byPath.values()];
    this.#files = files;
  }
}
