/**
 * Filesystem events on the config root, so hand edits are seen in about a second instead of at
 * the next resync. One non-recursive watch per managed directory (inotify is not recursive);
 * the whole set is refreshed after each full pass, and a project's folders are added when a pass
 * creates them. Above `maxWatches` directories it stops adding watches (the static config's and
 * the certificates' folders are watched first) and the periodic check looks at the directories
 * left out, and their files, in turns ({@link TreeWatcher.unwatched}; src/reconcile/unwatched-check.ts).
 *
 * A watch follows the directory, not its path: when a watched directory is removed (AtomicWriter
 * prunes emptied folders) or renamed away, its watch reports one 'rename' of its own name and then
 * nothing, with no 'error' or 'close', not even when a directory of that name comes back. So a
 * 'rename' of a folder, seen from its parent or from itself, drops the watches there and below and
 * watches whatever is there now; a full refresh also re-watches a directory whose identity changed.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { TEMP_MARK } from './atomic.js';
import { mapLimit } from '../util.js';

export interface WatcherOptions {
  readonly root: string;
  /** Called with the changed path relative to the root (posix). */
  readonly onChange: (rel: string) => void;
  /** Most directories watched (default: half the kernel's inotify limit, at most 131,072: {@link defaultMaxWatches}). */
  readonly maxWatches?: number;
  /** Some of the `count` directories wanted could not be watched ({@link TreeWatcher.unwatched} says which). */
  readonly onLimit?: (count: number) => void;
}

/** Watched subtrees of the root and how deep below each (dynamic/<project>/services/). */
const TREES: ReadonlyArray<readonly [string, number]> = [
  ['static', 0],
  ['dynamic', 2],
  ['ssl', 1],
];

/**
 * At most this many watches, whatever the kernel allows: 50,000 projects (two directories each)
 * with room to grow. A watch costs this process about 1.6–1.8 KB of RSS (0.7–0.9 KB of it heap)
 * and the kernel about 1 KB, so 100,000 watches are about 170 MB of RSS and 14 s to set up; past
 * this, the periodic check's turns (src/reconcile/unwatched-check.ts) are the cheaper trade.
 */
export const MAX_WATCHES_CAP = 131_072;

/**
 * inotify watches are limited per user across the node (Traefik's own watches count too): take
 * half of fs.inotify.max_user_watches, at most {@link MAX_WATCHES_CAP}; 8,192 when it cannot be
 * read (`limitFile`: tests).
 */
export async function defaultMaxWatches(limitFile = '/proc/sys/fs/inotify/max_user_watches'): Promise<number> {
  const text = await readFile(limitFile, 'utf8').catch(() => '');
  const limit = Number.parseInt(text, 10);
  return Number.isFinite(limit) && limit > 0 ? Math.min(MAX_WATCHES_CAP, Math.floor(limit / 2)) : 8192;
}

/** The order in which directories are watched: the shared folders first, then project folders by name. */
function watchOrder(a: string, b: string): number {
  const rank = (d: string) => (d.startsWith('dynamic/') ? 1 : 0);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

interface Watch {
  readonly watcher: FSWatcher;
  /** `dev:ino` of the directory when the watch was set (null: could not be read). */
  readonly id: string | null;
}

/** A directory's identity, or null when it is gone (or unreadable). */
async function identity(dir: string): Promise<string | null> {
  const st = await stat(dir, { bigint: true }).catch(() => null);
  return st?.isDirectory() ? `${st.dev}:${st.ino}` : null;
}

export class TreeWatcher {
  readonly #o: WatcherOptions;
  readonly #watchers = new Map<string, Watch>();
  #max: number | undefined;
  #limited = false;
  #closed = false;
  /** Changes whenever a watch is set or dropped. */
  #version = 0;

  constructor(options: WatcherOptions) {
    this.#o = options;
    this.#max = options.maxWatches;
  }

  get watching(): number {
    return this.#watchers.size;
  }

  /** True when some directories could not be watched (too many, or the filesystem refused). */
  get limited(): boolean {
    return this.#limited;
  }

  /**
   * Directories (relative to the root) whose changes no event reports while {@link limited}:
   * those not watched. `version` changes with the watched set.
   */
  get unwatched(): { readonly version: number; has(dir: string): boolean } {
    return { version: this.#version * 2 + (this.#limited ? 1 : 0), has: (dir) => this.#limited && !this.#watchers.has(dir) };
  }

  /**
   * Watch every directory below the managed folders that is not yet watched; drop vanished ones,
   * and re-watch the ones that were replaced since (a watch of a removed directory is deaf).
   */
  async refresh(): Promise<void> {
    const dirs = new Set<string>();
    await Promise.all(TREES.map(([top, depth]) => this.#collect(top, depth, dirs)));
    for (const rel of [...this.#watchers.keys()]) if (!dirs.has(rel)) this.#drop(rel);
    // The file events normally catch a replaced directory at once; this is the backstop. (An
    // inode may be reused at once, so a changed identity proves a replacement, a same one not.)
    await mapLimit([...this.#watchers], 32, async ([rel, w]) => {
      const now = await identity(path.join(this.#o.root, rel));
      if (now !== w.id && this.#watchers.get(rel) === w) this.#drop(rel);
    });
    this.#limited = false;
    await this.#watchAll([...dirs].sort(watchOrder), dirs.size);
  }

  /**
   * Watch `rel` (e.g. `dynamic/<project>`) and the directories below it, as deep as its tree is
   * watched: for folders a pass has just created. Already watched folders cost nothing.
   */
  async watchUnder(rel: string): Promise<void> {
    const [top] = rel.split('/');
    const tree = TREES.find(([t]) => t === top);
    if (!tree || this.#limited) return;
    const depth = tree[1] - (rel.split('/').length - 1);
    // A folder made after its parent was listed but before the parent's watch was set is reported
    // by neither: list again once the watches are set, until nothing new turns up.
    for (let round = 0; round <= depth && !this.#limited; round++) {
      const dirs = new Set<string>();
      await this.#collect(rel, depth, dirs);
      const fresh = [...dirs].filter((d) => !this.#watchers.has(d));
      if (fresh.length === 0) return;
      await this.#watchAll(fresh, this.#watchers.size + fresh.length);
    }
  }

  /** Add `rel` and the directories below it, `depth` levels down, to `dirs`. */
  async #collect(rel: string, depth: number, dirs: Set<string>): Promise<void> {
    if (depth < 0) return;
    let entries;
    try {
      entries = await readdir(path.join(this.#o.root, rel), { withFileTypes: true });
    } catch {
      return; // not there (yet)
    }
    dirs.add(rel);
    if (depth === 0) return;
    // Bounded: tens of thousands of project folders must not open as many directories at once.
    await mapLimit(
      entries.filter((e) => e.isDirectory()),
      32,
      (e) => this.#collect(`${rel}/${e.name}`, depth - 1, dirs),
    );
  }

  async #watchAll(dirs: readonly string[], wanted: number): Promise<void> {
    this.#max ??= await defaultMaxWatches();
    if (this.#closed) return; // a re-watch still under way when closed: no new watches
    // Identities are read before watching: a directory replaced in between then shows a changed
    // identity at the next refresh and is watched anew (read after, a deaf watch would look current).
    const todo = dirs.filter((rel) => !this.#watchers.has(rel));
    // Only as many as could be watched, read side by side; any more (some were gone) one by one.
    const ids = await mapLimit(todo.slice(0, Math.max(0, this.#max - this.#watchers.size)), 32, (rel) =>
      identity(path.join(this.#o.root, rel)),
    );
    for (const [i, rel] of todo.entries()) {
      if (this.#watchers.has(rel)) continue; // watched meanwhile, by an overlapping call
      if (this.#watchers.size >= this.#max) {
        if (!this.#limited) {
          this.#limited = true;
          this.#o.onLimit?.(wanted); // with the unwatched set final
        }
        return;
      }
      const id = i < ids.length ? ids[i]! : await identity(path.join(this.#o.root, rel));
      if (this.#closed) return;
      if (id === null || this.#watchers.has(rel)) continue; // gone already, or watched meanwhile
      try {
        const watcher = watch(path.join(this.#o.root, rel), { persistent: false }, (event, name) => {
          const file = name?.toString();
          if (!file || file.includes(TEMP_MARK) || file === '.traefik-sync-reload') return;
          if (event === 'rename') void this.#renamed(rel, w, file).catch(() => {});
          this.#o.onChange(`${rel}/${file}`);
        });
        const w: Watch = { watcher, id };
        watcher.on('error', () => {
          if (this.#watchers.get(rel) === w) this.#drop(rel);
          else watcher.close();
        });
        this.#watchers.set(rel, w);
        this.#version++;
      } catch {
        // Directory vanished between readdir and watch: the next refresh sorts it out.
      }
    }
  }

  /**
   * Watch `w` of `rel` reported a 'rename' of `file`. A new or removed folder (generated files
   * all have an extension; folders never do): drop the watches there and below and watch what is
   * there now, a new folder before its files are written, so edits there are seen from the start.
   * Its own name, and the directory is gone or another one: this watch is deaf from now on; the
   * same for `rel` itself. (Else it is a child of the same name.)
   */
  async #renamed(rel: string, w: Watch, file: string): Promise<void> {
    if (file === path.posix.basename(rel) && this.#watchers.get(rel) === w && (await identity(path.join(this.#o.root, rel))) !== w.id) {
      if (this.#watchers.get(rel) === w) await this.#rewatch(rel);
    } else if (!file.includes('.')) {
      await this.#rewatch(`${rel}/${file}`);
    }
  }

  /** Forget the watches of `rel` and below, then watch whatever is there now. */
  async #rewatch(rel: string): Promise<void> {
    for (const d of [...this.#watchers.keys()]) if (d === rel || d.startsWith(`${rel}/`)) this.#drop(d);
    await this.watchUnder(rel);
  }

  #drop(rel: string): void {
    this.#watchers.get(rel)?.watcher.close();
    if (this.#watchers.delete(rel)) this.#version++;
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#watchers.values()) w.watcher.close();
    this.#watchers.clear();
  }
}
