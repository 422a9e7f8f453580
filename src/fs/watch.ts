/**
 * Filesystem events on the config root, so hand edits are seen in about a second instead of at
 * the next resync. One non-recursive watch per managed directory (inotify is not recursive);
 * the set is refreshed after each pass. Above `maxWatches` directories it stops adding watches
 * and the periodic resync alone finds drift.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { TEMP_MARK } from './atomic.js';
import { mapLimit } from '../util.js';

export interface WatcherOptions {
  readonly root: string;
  /** Called with the changed path relative to the root (posix). */
  readonly onChange: (rel: string) => void;
  readonly maxWatches?: number;
  readonly onLimit?: (count: number) => void;
}

export class TreeWatcher {
  readonly #o: WatcherOptions;
  readonly #watchers = new Map<string, FSWatcher>();
  #limited = false;

  constructor(options: WatcherOptions) {
    this.#o = options;
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
    const walk = async (rel: string, depth: number): Promise<void> => {
      dirs.add(rel);
      if (depth === 0) return;
      let entries;
      try {
        entries = await readdir(path.join(this.#o.root, rel), { withFileTypes: true });
      } catch {
        dirs.delete(rel);
        return;
      }
      // Bounded: tens of thousands of project folders must not open as many directories at once.
      await mapLimit(entries.filter((e) => e.isDirectory()), 32, (e) => walk(`${rel}/${e.name}`, depth - 1));
    };
    await Promise.all([walk('static', 0), walk('dynamic', 2), walk('ssl', 1)]);
    for (const [rel, w] of this.#watchers) {
      if (!dirs.has(rel)) {
        w.close();
        this.#watchers.delete(rel);
      }
    }
    const max = this.#o.maxWatches ?? 8192;
    for (const rel of [...dirs].sort()) {
      if (this.#watchers.has(rel)) continue;
      if (this.#watchers.size >= max) {
        if (!this.#limited) this.#o.onLimit?.(dirs.size);
        this.#limited = true;
        break;
      }
      try {
        const w = watch(path.join(this.#o.root, rel), { persistent: false }, (_event, name) => {
          const file = name?.toString();
          if (!file || file.includes(TEMP_MARK) || file === '.traefik-sync-reload') return;
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
