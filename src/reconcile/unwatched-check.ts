/**
 * The disk check of the directories the file watcher left out (it hit its inotify budget:
 * src/fs/watch.ts). No event reports a change there, so each periodic check looks, with at most
 * `limit` lstat() and readdir() calls (at 50,000 projects a tick must not stat() the tens of
 * thousands of files there: 0.5–1.1 s a tick):
 *
 * - Up to half of them go to the directories, in turns. A directory's mtime moves when a file in
 *   it is created, deleted or renamed (an editor's write-and-rename, `sed -i`, `rm`, `mv`, and our
 *   own writes). When it moved since the last look, the directory is listed and its files
 *   stat()ed: a name the inventory does not hold (a hand-made file), one it holds gone, or a file
 *   not as last seen reports its project. A look costs 1 call, a listing 2 + its files. So, while
 *   no other directory there moves, those changes are found within ceil(D / ceil(limit / 2))
 *   checks ({@link unwatchedTurns}); busy directories (our writes move them too) stretch the round.
 * - The rest go to the files there, in turns: an edit in place or a chmod moves no directory;
 *   found within ceil(F / (limit − the directories' share)) checks. So are a deletion or a
 *   replacement made before the check first looked at the directory (after start, or once the
 *   watcher let it go): that first look only notes the mtime. A file made by hand before it is
 *   found when something else moves the directory, or by the next full pass.
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

/** Files looked at between two turns of the event loop when listing the unwatched ones. */
const LIST_CHUNK = 10_000;

/** A directory's mtime younger than this is listed again at its next turn. */
const RACY_MS = 1000;

/** Directories whose files file events do not cover (a watcher that hit its limit); `version` changes with the set. */
export interface Unwatched {
  readonly version: number;
  has(dir: string): boolean;
}

/** What the check reads of the inventory (src/reconcile/inventory.ts), which tells it of each file {@link UnwatchedCheck.added}. */
export interface InventoryFiles {
  /** Slots are 0 … slots() − 1. */
  slots(): number;
  /** The path of the file in `slot` while it is on disk. */
  pathOf(slot: number): string | undefined;
  /** The project of the file in `slot` (null = global). */
  projectOf(slot: number): string | null;
  /** stat() the file in `slot`; add its project to `changed` if it is not as last seen. */
  check(root: string, slot: number, changed: Set<string | null>): void;
}

interface Dir {
  readonly path: string;
  readonly projectId: string | null;
  readonly slots: number[];
}

interface Listing {
  readonly version: number;
  done: Promise<void>;
}

/** Unwatched directories holding owned files, and those files. */
export interface UnwatchedCoverage {
  readonly dirs: number;
  readonly files: number;
}

/**
 * In how many checks of `limit` calls a change in the unwatched directories is found while no
 * other directory there moves: `changed` — a file created, deleted or renamed; `edited` — an edit
 * in place or a chmod.
 */
export function unwatchedTurns({ dirs, files }: UnwatchedCoverage, limit: number): { changed: number; edited: number } {
  const dirBudget = Math.ceil(limit / 2);
  return { changed: Math.ceil(dirs / dirBudget), edited: Math.ceil(files / Math.max(1, limit - Math.min(dirs, dirBudget))) };
}

/** Yield to the event loop every {@link STAT_CHUNK} calls. */
export async function breathe(calls: number): Promise<void> {
  if (calls > 0 && calls % STAT_CHUNK === 0) await new Promise((resolve) => setImmediate(resolve));
}

export class UnwatchedCheck {
  readonly #inv: InventoryFiles;
  /** The set listed (its newest view: `has` may be live). */
  #listed: { readonly version: number; unwatched: Unwatched } | null = null;
  /** A listing under way. */
  #listing: Listing | null = null;
  #byPath = new Map<string, Dir>();
  /** Listings under way, and the files added meanwhile. */
  #relisting = 0;
  #pending: Array<[number, string, string | null]> = [];
  /** Files gone since the last listing. */
  #removed = 0;
  #dirs: Dir[] = [];
  #files: number[] = [];
  #dirAt = 0;
  #fileAt = 0;
  /** Each directory's mtime when last looked at (absent: never; NaN: list it at its next turn). */
  #mtimes = new Map<string, number>();

  constructor(inventory: InventoryFiles) {
    this.#inv = inventory;
  }

  /** How many directories and files the check covers. */
  async coverage(unwatched: Unwatched): Promise<UnwatchedCoverage> {
    await this.#list(unwatched);
    return { dirs: this.#dirs.length, files: this.#files.length };
  }

  /**
   * One turn: the next directories and files, at most `limit` calls (`limit` ≥ 4 + the most files
   * a directory holds); adds the projects of what changed to `changed`. Returns the calls made.
   */
  async check(root: string, unwatched: Unwatched, limit: number, changed: Set<string | null>): Promise<number> {
    await this.#list(unwatched);
    const dirs = this.#dirs;
    const files = this.#files;
    const dirBudget = Math.ceil(limit / 2);
    this.#dirAt %= Math.max(1, dirs.length); // the lists may have shrunk
    this.#fileAt %= Math.max(1, files.length);
    let calls = 0;
    for (let i = 0; i < dirs.length && calls < dirBudget; i++) {
      calls += this.#visit(root, dirs[this.#dirAt]!, changed);
      this.#dirAt = (this.#dirAt + 1) % dirs.length;
      await breathe(i + 1);
    }
    const fileShare = Math.min(files.length, Math.max(0, limit - calls));
    for (let i = 0; i < fileShare; i++) {
      this.#inv.check(root, files[this.#fileAt]!, changed);
      this.#fileAt = (this.#fileAt + 1) % files.length;
      await breathe(i + 1);
    }
    return calls + fileShare;
  }

  /** stat() `dir`; list it when its mtime moved since the last look. Returns the calls made. */
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
    const listed = this.#mtimes.get(dir.path);
    if (listed === st.mtimeMs) return 1;
    // NaN: its mtime too young to trust; listed (files and all) at its next turn.
    const mtime = Date.now() - st.mtimeMs >= RACY_MS ? st.mtimeMs : Number.NaN;
    this.#mtimes.set(dir.path, mtime);
    if (listed === undefined) return 1; // the first look: what it holds now is for the files' turns
    let calls = 2;
    const expected = new Set<string>();
    for (const s of dir.slots) {
      const path = this.#inv.pathOf(s);
      if (path === undefined || !path.startsWith(`${dir.path}/`)) continue; // gone since listed
      expected.add(path.slice(dir.path.length + 1));
      // A file renamed over another changes only that file's identity.
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
    // then runs once more for nothing), or one it holds gone. Temp files and the reload marker are
    // ours; folders are the watcher's (their own turn, or watched).
    const ours = (name: string) => expected.has(name) || name.includes(TEMP_MARK) || `${dir.path}/${name}` === layout.marker;
    const files = names?.filter((e) => !e.isDirectory()).map((e) => e.name);
    const present = new Set(files);
    if (!files || files.some((name) => !ours(name)) || [...expected].some((name) => !present.has(name))) changed.add(dir.projectId);
    return calls;
  }

  /**
   * The file in `slot` is new at `path` (or changed project): one more to look at if its directory
   * is unwatched (no listing of every file again: at 50,000 projects that took 150 ms).
   */
  added(slot: number, path: string, projectId: string | null): void {
    if (this.#relisting > 0) this.#pending.push([slot, path, projectId]); // perhaps behind the listing
    if (!this.#listed) return;
    const dirPath = path.slice(0, Math.max(0, path.lastIndexOf('/')));
    if (this.#listed.unwatched.has(dirPath)) this.#add(this.#byPath, slot, dirPath, projectId);
  }

  /** A file is gone: its slot stays in the lists (skipped) until they are listed again. */
  removed(): void {
    this.#removed++;
  }

  /** List the unwatched directories and their files when the watched set changed, or many files went. */
  async #list(unwatched: Unwatched): Promise<void> {
    if (this.#listed?.version === unwatched.version && this.#removed <= Math.max(1000, this.#files.length / 4)) {
      this.#listed.unwatched = unwatched; // the newest view of the same set
      return;
    }
    let listing = this.#listing;
    if (listing === null || listing.version !== unwatched.version) {
      listing = { version: unwatched.version, done: Promise.resolve() };
      this.#listing = listing;
      listing.done = this.#relist(unwatched, listing);
    }
    await listing.done;
  }

  async #relist(unwatched: Unwatched, listing: Listing): Promise<void> {
    const byPath = new Map<string, Dir>();
    // A project's files mostly take slots one after another: one look-up for a run of them.
    let last: { readonly prefix: string; readonly dir: Dir | null } = { prefix: '\0', dir: null };
    const take = (s: number, path: string, projectId: string | null) => {
      if (!(path.startsWith(last.prefix) && path.indexOf('/', last.prefix.length) < 0)) {
        const dirPath = path.slice(0, Math.max(0, path.lastIndexOf('/')));
        if (unwatched.has(dirPath)) this.#add(byPath, -1, dirPath, projectId);
        last = { prefix: `${dirPath}/`, dir: byPath.get(dirPath) ?? null };
      }
      if (last.dir) this.#add(byPath, s, last.dir.path, projectId, last.dir);
    };
    this.#relisting++;
    this.#pending = [];
    this.#removed = 0;
    try {
      // In chunks: 250,000 files would hold the event loop for about 100 ms.
      for (let s = 0; s < this.#inv.slots(); s++) {
        if (s % LIST_CHUNK === LIST_CHUNK - 1) await new Promise((resolve) => setImmediate(resolve));
        const path = this.#inv.pathOf(s);
        if (path !== undefined) take(s, path, this.#inv.projectOf(s));
      }
    } finally {
      this.#relisting--;
    }
    if (this.#listing !== listing) return; // another set meanwhile: that listing counts
    this.#listing = null;
    for (const [s, path, projectId] of this.#pending) take(s, path, projectId);
    this.#pending = [];
    for (const path of [...this.#mtimes.keys()]) if (!byPath.has(path)) this.#mtimes.delete(path);
    this.#byPath = byPath;
    this.#dirs = [...byPath.values()];
    this.#files = this.#dirs.flatMap((d) => d.slots);
    this.#listed = { version: listing.version, unwatched };
  }

  /** Add the file in `slot` (-1: none, only its directory) of `dirPath` (`dir`: its entry, when known). */
  #add(byPath: Map<string, Dir>, slot: number, dirPath: string, projectId: string | null, dir = byPath.get(dirPath)): void {
    if (!dir) {
      byPath.set(dirPath, (dir = { path: dirPath, projectId, slots: [] }));
      if (byPath === this.#byPath) this.#dirs.push(dir);
    }
    if (slot < 0) return;
    dir.slots.push(slot);
    if (byPath === this.#byPath) this.#files.push(slot);
  }
}
