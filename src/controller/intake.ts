/**
 * What to reconcile, from each source of change: NOTIFY payloads (gathered for a moment), file
 * events on the volume, and the version catch-up (after a reconnect, a full pass or a tick that
 * saw the fingerprint move). It only decides keys; the controller's queue runs them.
 */
import type { ConnectionPool } from '../db/connect.js';
import { lastWriters, loadVersions } from '../db/load.js';
import { readDiskFile } from '../fs/scan.js';
import { UUID } from '../model.js';
import type { Metrics } from '../observability/metrics.js';
import type { WorkQueue } from '../queue/work-queue.js';
import type { TraefikSyncService } from '../reconcile/sync-service.js';
import { FULL } from './keys.js';
import type { ReplicaState } from './replica-state.js';

export interface IntakeOptions {
  readonly db: ConnectionPool;
  readonly root: string;
  readonly sync: TraefikSyncService;
  readonly queue: WorkQueue<string>;
  readonly state: ReplicaState;
  readonly metrics: Metrics;
  /** Only this shard's projects (and tombstones, and projects moving out of it); null = all. */
  readonly shard?: string | null;
  /** The versions the database reports went backwards (another server, a restored backup): a full pass is queued. */
  readonly onVersionsBackwards?: (highest: number, before: number) => void;
}

export class Intake {
  readonly #o: IntakeOptions;
  readonly #notified = new Set<string>();
  #notifyTimer: NodeJS.Timeout | undefined;
  /** The highest version catch-up has seen: versions only grow on one server. */
  #highWater = -1;

  constructor(options: IntakeOptions) {
    this.#o = options;
  }

  /**
   * Notifications are gathered for a moment: one transaction touching many projects arrives as a
   * burst, and is reconciled as one full pass, so the delete guard judges it as a whole. Small
   * transactions that arrive in the same moment (commits of others, delivered together while the
   * event loop was busy) are not part of it: their projects get their own passes at once instead
   * of waiting for the full pass to reach them.
   */
  notified(payload: string): void {
    if (payload !== FULL && !UUID.test(payload)) return;
    this.#notified.add(payload);
    this.#notifyTimer ??= setTimeout(() => {
      this.#notifyTimer = undefined;
      const keys = [...this.#notified];
      this.#notified.clear();
      void this.#burst(keys);
    }, 2);
  }

  /**
   * Split a burst by the transaction that wrote each project (one small query): the projects of a
   * transaction that changed many (counted in the database, not only in this burst) are one full
   * pass, the others get project passes. A single key needs no query.
   */
  async #burst(keys: readonly string[]): Promise<void> {
    if (keys.includes(FULL) || keys.length < 2) {
      this.enqueue(keys);
      return;
    }
    const writers = await lastWriters(this.#o.db, keys).catch(() => null);
    if (!writers) {
      this.enqueue(keys);
      return;
    }
    // A key of a transaction that changed many projects joins its full pass; the others go alone.
    const size = this.#burstSize();
    const small = keys.filter((key) => (writers.get(key) ?? 0) < size);
    const bulk = small.length < keys.length;
    if (bulk) this.enqueue([FULL]);
    for (const key of small) this.#o.queue.add(key);
    this.#o.metrics.queueDepth.set(this.#o.queue.depth);
  }

  /** Projects changed together that make one full pass: 5 % of them, at least 5. */
  #burstSize(): number {
    // Projects as many as the replica state knows, or the last full pass listed (the first one
    // lists them at once; the state learns them only when it ends).
    const projects = Math.max(this.#o.state.projectCount, this.#o.sync.projectsListed);
    return Math.max(5, Math.ceil(projects * 0.05));
  }

  /**
   * Queue these projects, or one full pass instead when they are many (or include FULL).
   * Returns whether a full pass was queued.
   */
  enqueue(keys: readonly string[]): boolean {
    const { queue, metrics } = this.#o;
    const full = keys.includes(FULL) || keys.length >= this.#burstSize();
    if (full) {
      queue.add(FULL);
    } else {
      for (const key of keys) queue.add(key);
    }
    metrics.queueDepth.set(queue.depth);
    return full;
  }

  /** A file under the root changed: reconcile its project unless the change is our own write. */
  async fileChanged(rel: string): Promise<void> {
    const { sync, root, state, queue } = this.#o;
    const f = await readDiskFile(root, rel).catch(() => null);
    const known = sync.inventory.get(rel);
    // Our own write; a chmod (same text, another mode) is an event too, and drift.
    if (f && f.owned && f.checksum === sync.baselineOf(rel) && (!known || known.mode === f.mode)) return;
    if (!f && !known) return; // our own delete (or a temp file)
    const dir = /^dynamic\/([^/]+)\//.exec(rel)?.[1];
    const projectId = known?.projectId ?? f?.projectId ?? (dir ? state.idOf(dir) : undefined);
    queue.add(projectId ?? FULL);
  }

  /**
   * Queue the projects whose version moved past the one last reconciled (deleted projects keep a
   * tombstone version); returns how many. One query, whatever happened meanwhile. `except`:
   * projects that just failed (they are retried with backoff, not in a loop of passes).
   */
  async catchUp(except: ReadonlySet<string> = new Set()): Promise<number> {
    const { db, state, queue, metrics } = this.#o;
    const moved: string[] = [];
    const running: string[] = [];
    const versions = await loadVersions(db, this.#o.shard ?? null);
    let highest = -1;
    for (const v of versions.values()) if (v > highest) highest = v;
    if (highest < this.#highWater) {
      // Not the database we read before (a restored backup, a standby that missed the last
      // commits): "version moved past the one seen" means nothing now. Read everything again.
      this.#o.onVersionsBackwards?.(highest, this.#highWater);
      this.serverChanged();
      this.#highWater = highest;
      return versions.size;
    }
    this.#highWater = highest;
    for (const [id, version] of versions) {
      if (version <= state.seenVersion(id) || except.has(id)) continue;
      // A running pass may have read the project before the change (its NOTIFY lost): it runs
      // once more after. Not counted as a burst: it is one pass already under way.
      if (queue.isRunning(id)) running.push(id);
      // Projects waiting to run are left to their pass, which reads them as they are now (a
      // backlog is not a burst). Those backing off after a failure are queued again (sooner).
      else if (!queue.has(id)) moved.push(id);
    }
    this.enqueue(moved);
    // Also when that is a full pass: it leaves the projects being reconciled to their passes.
    for (const id of running) queue.add(id);
    if (running.length > 0) metrics.queueDepth.set(queue.depth);
    return moved.length + running.length;
  }

  /**
   * The database is another server than before (restarted, switched, restored): forget the
   * versions seen (they may be higher than this server's, and a change made here would look
   * already applied) and queue a full pass, which reads every project as this server has it.
   */
  serverChanged(): void {
    this.#o.state.forgetVersions();
    this.#highWater = -1;
    this.#o.queue.add(FULL);
    this.#o.metrics.queueDepth.set(this.#o.queue.depth);
  }

  stop(): void {
    clearTimeout(this.#notifyTimer);
  }
}
