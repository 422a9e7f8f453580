/** What passes share, and outlives each of them: the baseline, the inventory, the removal window. */
import type { Queryable } from '../db/connect.js';
import type { Logger } from '../log.js';
import type { RenderedFile } from '../model.js';
import type { RecentRemovals } from './guard.js';
import type { Baseline, Inventory } from './inventory.js';
import type { DriftMode } from './plan.js';

/** What a pass needs from its service: shared state that outlives the pass. */
export interface PassContext {
  readonly db: Queryable;
  readonly root: string;
  readonly driftMode: DriftMode;
  readonly log: Logger;
  readonly now: () => number;
  /** Units written side by side. */
  readonly concurrency: number;
  /** What this process last wrote (or found right) at each path (checksum). */
  readonly baseline: Baseline;
  /** The owned files on the volume, with their routers. */
  readonly inventory: Inventory;
  /** Removals applied recently (not for deleted projects), for the delete guard's window. */
  readonly removals: RemovalWindow;
  /**
   * Managed files as known before this process has read the whole volume (its first full pass):
   * the delete guard's denominator is at least this.
   */
  readonly managedFloor: () => number;
  /** Write rows to traefik_configs (upserts, and removals by path). */
  readonly record: (files: readonly RenderedFile[], removed: readonly string[]) => Promise<void>;
}

/**
 * Removals applied within the last `windowMs`: the delete guard adds them to each pass, so a mass
 * removal cannot get through as many small passes (one per project).
 */
export class RemovalWindow {
  readonly #entries: Array<{ seq: number; at: number; files: number; routers: number }> = [];
  #seq = 0;
  constructor(
    readonly windowMs: number,
    readonly now: () => number,
  ) {}

  add(files: number, routers: number): void {
    if (files || routers) this.#entries.push({ seq: ++this.#seq, at: this.now(), files, routers });
  }

  /** A point in the sequence of removals, for {@link since}. */
  mark(): number {
    return this.#seq;
  }

  /** Sum over the window. */
  recent(): RecentRemovals {
    const since = this.now() - this.windowMs;
    while (this.#entries.length && this.#entries[0]!.at < since) this.#entries.shift();
    return this.#sum(this.#entries);
  }

  /** Sum of the removals added after `mark` (and still within the window). */
  since(mark: number): RecentRemovals {
    this.recent();
    return this.#sum(this.#entries.filter((e) => e.seq > mark));
  }

  #sum(entries: ReadonlyArray<{ files: number; routers: number }>): RecentRemovals {
    return entries.reduce((t, e) => ({ files: t.files + e.files, routers: t.routers + e.routers }), { files: 0, routers: 0 });
  }
}
