/**
 * Filesystem events on the config root, so hand edits are seen in about a second instead of at
 * the next resync. One non-recursive watch per managed directory (inotify is not recursive);
 * the whole set is refreshed after each full pass, and a project's folders are added when a pass
 * creates them. Above `maxWatches` directories it stops adding watches and the periodic resync
 * alone finds drift in the rest.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { TEMP_MARK } from './atomic.js';
import { mapLimit } from '../util.js';

export interface WatcherOptions {
  readonly root: string;
  /** Called with the changed path relative to the root (posix). */
  readonly onChange: (rel: string) => void;
  /** Most directories watched (default: half the kernel's inotify limit, at most 65,536). */
  readonly maxWatches?: number;
  readonly onLimit?: (count: number) => void;
}

/** Watched subtrees of the root and how deep below each (dynamic/<project>/services/). */
const TREES: ReadonlyArray<readonly [string, number]> = [['static', 0], ['dynamic', 2], ['ssl', 1]];

/**
 * inotify watches are limited per user across the node (Traefik's own watches count too): take
 * at most half of fs.inotify.max_user_watches; 8,192 when it cannot be read.
 */
export async function defaultMaxWatches(): Promise<number> {
  const text = await readFile('/proc/sys/fs/inotify/max_user_watches', 'utf8').catch(() => '');
  const limit = Number.parseInt(text, 10);
  return Number.isFinite(limit) && limit > 0 ? Math.min(65_536, Math.floor(limit / 2)) : 8192;
}

export class TreeWatcher {
  readonly #o: WatcherOptions;
  readonly #watchers = new Map<string, FSWatcher>();
  #max: number | undefined;
  #limited = false;

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

  /** Watch every directory below the managed folders that is not yet watched; drop vanished ones. */
  async refresh(): Promise<void> {
    const dirs = new Set<string>();
    await Promise.all(TREES.map(([top, depth]) => this.#collect(top, depth, dirs)));
    for (const [rel, w] of this.#watchers) {
      if (!dirs.has(rel)) {
        w.close();
        this.#watchers.delete(rel);
      }
    }
    this.#limited = false;
    await this.#watchAll([...dirs].sort(), dirs.size);
  }

  /**
   * Watch `rel` (e.g. `dynamic/<project>`) and the directories below it, as deep as its tree is
   * watched: for folders a pass has just created. Already watched folders cost nothing.
   */
  async watchUnder(rel: string): Promise<void> {
    const [top] = rel.split('/');
    const tree = TREES.find(([t]) => t === top);
    if (!tree || this.#limited) return;
    const dirs = new Set<string>();
    await this.#collect(rel, tree[1] - (rel.split('/').length - 1), dirs);
    await this.#watchAll([...dirs].filter((d) => !this.#watchers.has(d)), this.#watchers.size + dirs.size);
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
    await mapLimit(entries.filter((e) => e.isDirectory()), 32, (e) => this.#collect(`${rel}/${e.name}`, depth - 1, dirs));
  }

  async #watchAll(dirs: readonly string[], wanted: number): Promise<void> {
    this.#max ??= await defaultMaxWatches();
    for (const rel of dirs) {
      if (this.#watchers.has(rel)) continue;
      if (this.#watchers.size >= this.#max) {
        if (!this.#limited) this.#o.onLimit?.(wanted);
        this.#limited = true;
        return;
      }
      try {
        const w = watch(path.join(this.#o.root, rel), { persistent: false }, (event, name) => {
          const file = name?.toString();
          if (!file || file.includes(TEMP_MARK) || file === '.traefik-sync-reload') return;
          // A new folder (generated files all have an extension; folders never do): watch it now,
          // before its files are written, so edits there are seen from the start.
          if (event === 'rename' && !file.includes('.')) void this.watchUnder(`${rel}/${file}`).catch(() => {});
          this.#o.onChange(`${rel}/${file}`);
        });
        w.on('error', () => {
          w.close();
          this.#watchers.delete(rel);
        });
        this.#watchers.set(rel, w);
      } catch {
        // Directory vanished between readdir and watch: the next refresh sorts it out.
      }
    }
  }

  close(): void {
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }
}
