/**
 * The benchmark's idle tick with the file watcher at its inotify limit: the directories it would
 * leave out on this machine (the last projects by name: src/fs/watch.ts) are looked at in turns
 * by the periodic check (src/reconcile/unwatched-check.ts). Finding their files among the
 * inventory's (once per change of the watched set) is timed apart.
 */
import { DISK_CHECK_SLICE } from '../controller/periodic-check.js';
import type { Inventory } from '../reconcile/inventory.js';
import { unwatchedTurns, type Unwatched } from '../reconcile/unwatched-check.js';
import { ms, pct } from './support.js';

/** What a tick at the watcher's limit cost, and what it promises. */
export interface WatcherTick {
  readonly directories: number;
  readonly maxWatches: number;
  readonly unwatchedDirectories: number;
  /** Owned files in the unwatched directories. */
  readonly unwatchedFiles: number;
  /** Ticks within which a file created, deleted or renamed there (`changed`), or edited in place (`edited`), is found. */
  readonly ticks: { readonly changed: number; readonly edited: number };
  /** Median of 5 ticks. */
  readonly tickMs: number;
  /** Finding the unwatched directories' files among the inventory's (in chunks: the event loop is not held that long). */
  readonly listMs: number;
  /** lstat() and readdir() calls of the last tick. */
  readonly callsPerTick: number;
}

export interface WatcherTickOptions {
  /** The project folders by name (`dynamic/<name>` and `dynamic/<name>/services` each). */
  readonly names: readonly string[];
  /** Directories to watch in all: two per project and the shared ones. */
  readonly directories: number;
  readonly maxWatches: number;
  readonly inventory: Inventory;
  /** The tick's disk check (TraefikSyncService.verifyDisk). */
  readonly verifyDisk: (limit: number, unwatched?: Unwatched) => Promise<Set<string | null>>;
  /** The tick's query (changeFingerprint). */
  readonly query: () => Promise<unknown>;
}

let runs = 0;

/** Time idle ticks with the directories the watcher would leave out unwatched (none: nothing timed). */
export async function watcherTick(o: WatcherTickOptions): Promise<WatcherTick> {
  const leftOut = Math.max(0, o.directories - o.maxWatches);
  const out = new Set(o.names.slice(o.names.length - Math.ceil(leftOut / 2)).flatMap((n) => [`dynamic/${n}`, `dynamic/${n}/services`]));
  // A version of its own each time (a watcher's are ≥ 0): the inventory lists the set again.
  const unwatched = { version: -++runs, has: (dir: string) => out.has(dir) };
  const t0 = process.hrtime.bigint();
  const coverage = await o.inventory.unwatchedCoverage(unwatched);
  const listMs = ms(t0);
  const ticks = unwatchedTurns(coverage, DISK_CHECK_SLICE);
  const tick = async () => {
    const t0 = process.hrtime.bigint();
    await o.query();
    const changed = await o.verifyDisk(DISK_CHECK_SLICE, leftOut > 0 ? unwatched : undefined);
    if (changed.size) throw new Error('an idle tick found changes');
    return ms(t0);
  };
  const times: number[] = [];
  for (let i = 0; leftOut > 0 && i < 5; i++) times.push(await tick());
  return {
    directories: o.directories,
    maxWatches: o.maxWatches,
    unwatchedDirectories: leftOut,
    unwatchedFiles: coverage.files,
    ticks,
    tickMs: times.length ? pct(times, 50) : 0,
    listMs,
    // No tick timed when nothing is left out: the inventory's last count is another check's.
    callsPerTick: leftOut > 0 ? o.inventory.lastCheckCalls : 0,
  };
}
