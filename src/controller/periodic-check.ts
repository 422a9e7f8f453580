/**
 * The timer source: every interval (±10 % jitter) one small query and a stat of a slice of the
 * managed files decide whether anything must be queued. The LISTEN ping, the leader's
 * housekeeping and the volume's free-space gauge ride along.
 */
import { statfs } from 'node:fs/promises';
import type { ConnectionPool } from '../db/connect.js';
import type { Leadership } from '../db/leader.js';
import { changeFingerprint } from '../db/load.js';
import type { Listener } from '../db/listen.js';
import { pruneOld } from '../db/status.js';
import { takesWrites } from '../fs/atomic.js';
import type { TreeWatcher } from '../fs/watch.js';
import type { Intake } from './intake.js';
import { FULL } from './keys.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../observability/metrics.js';
import { withJitter } from '../queue/backoff.js';
import type { WorkQueue } from '../queue/work-queue.js';
import type { TraefikSyncService } from '../reconcile/sync-service.js';
import { unwatchedTurns } from '../reconcile/unwatched-check.js';
import type { ReplicaState } from './replica-state.js';

/** Files stat()ed per tick while file events are watched (and as many more in unwatched directories). */
export const DISK_CHECK_SLICE = 2000;

export interface PeriodicCheckOptions {
  readonly db: ConnectionPool;
  readonly root: string;
  readonly sync: TraefikSyncService;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly intervalMs: number;
  /** The shard whose fingerprint is watched (null: every project's). */
  readonly shard?: string | null;
  readonly leadership?: Leadership;
  /** Leader housekeeping (pruning old records) at most this often (default 1 hour). */
  readonly housekeepingEveryMs?: number;
  /** Files stat()ed per tick when file events are watched (default {@link DISK_CHECK_SLICE}; all when not). */
  readonly diskCheckSlice?: number;
  readonly queue: WorkQueue<string>;
  readonly intake: Intake;
  readonly state: ReplicaState;
  readonly watcher: TreeWatcher | null;
  readonly listener: Listener;
  /** Whether the database answered. */
  readonly onDatabase: (up: boolean) => void;
}

export class PeriodicCheck {
  readonly #o: PeriodicCheckOptions;
  /** The database's change fingerprint when last looked at; a tick that sees it move catches up. */
  #fingerprint: string | null = null;
  #lastPrune = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** A volume probe failed since the stuck projects were last retried. */
  #probeFailed = false;
  /** The projects retried at the last recovery. */
  #retried = new Set<string>();

  constructor(options: PeriodicCheckOptions) {
    this.#o = options;
  }

  /** Tick every interval until {@link stop}. */
  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /**
   * The watcher hit its limit with `directories` wanted: say how long a hand edit in the others
   * may go unseen (the tick looks at them in turns).
   */
  async watcherLimited(directories: number): Promise<void> {
    const w = this.#o.watcher;
    if (!w) return;
    const watching = w.watching;
    const coverage = await this.#o.sync.inventory.unwatchedCoverage(w.unwatched);
    const slice = this.#o.diskCheckSlice ?? DISK_CHECK_SLICE;
    const turns = unwatchedTurns(coverage, slice);
    this.#o.log.warn(
      { directories, watched: watching, unwatchedDirectories: coverage.dirs, unwatchedFiles: coverage.files, ticks: turns },
      `too many directories to watch (${watching} of ${directories} watched; raise fs.inotify.max_user_watches): in the ${coverage.dirs} others, ` +
        `a file created, deleted or replaced by rename is found within ${turns.changed} periodic checks, an edit in place within ${turns.edited}`,
    );
  }

  /** A full pass read every project at this fingerprint: no catch-up is needed for it. */
  fullPassRead(fingerprint: string): void {
    this.#fingerprint = fingerprint;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.tick().finally(() => this.#schedule()), withJitter(this.#o.intervalMs, 0.1));
    this.#timer.unref();
  }

  /** One check (normally run by the timer). Never throws: a failure is logged and reported. */
  async tick(): Promise<void> {
    const fp = await changeFingerprint(this.#o.db, this.#o.shard ?? null).catch((err: unknown) => {
      this.#o.log.warn({ err }, 'database unreachable at the periodic check; keeping the files as they are');
      return null;
    });
    this.#o.onDatabase(fp !== null);
    if (fp !== null) {
      await this.#check(fp).catch((err: unknown) => this.#o.log.warn({ err }, 'periodic check failed; keeping the files as they are'));
    }
    await this.#o.listener.ping();
    await this.#housekeeping();
    try {
      const s = await statfs(this.#o.root);
      this.#o.metrics.volumeFreeBytes.set(s.bavail * s.bsize);
    } catch {
      /* root not created yet */
    }
  }

  /**
   * Projects whose files could not be written because the volume was full or read-only back off
   * up to 5 minutes; once the volume takes a probe write again (space freed, remounted
   * read-write) they are queued now instead. Once per recovery: projects that fail again after
   * that wait for their backoff, or for the probe to fail and then succeed again.
   */
  async #retryWrites(): Promise<number> {
    const stuck = this.#o.state.writeFailed;
    if (stuck.length === 0) {
      this.#retried.clear();
      return 0;
    }
    // In the config root, not dynamic/: any event in the folder Traefik watches makes it re-read every file.
    if (!(await takesWrites(this.#o.root))) {
      this.#probeFailed = true;
      return 0;
    }
    if (!this.#probeFailed && stuck.every((id) => this.#retried.has(id))) return 0;
    this.#probeFailed = false;
    this.#retried = new Set(stuck);
    this.#o.log.info({ projects: stuck.length }, 'the volume takes writes again: retrying the projects whose files could not be written');
    // Many at once become one full pass, which also drops their pending retries.
    this.#o.intake.enqueue(stuck);
    return stuck.length;
  }

  /** Queue what changed: projects whose version moved (when the fingerprint did), files that changed on disk. */
  async #check(fp: string): Promise<void> {
    const { queue, state } = this.#o;
    if (!state.synced) {
      // The first full pass has not succeeded: retry it now (the database answers again),
      // unless it is under way (a second one queued behind it would redo all the work).
      if (!queue.has(FULL)) queue.add(FULL);
      return;
    }
    let queued = 0;
    if (fp !== this.#fingerprint) {
      // Something changed since we last looked (a NOTIFY may have been lost).
      queued += await this.#o.intake.catchUp();
      this.#fingerprint = fp;
    }
    // File events report drift at once; stat()ing the managed files is then a backstop: a rotating
    // slice of 2,000 per tick, plus as many lstat() calls for the directories the watcher could
    // not watch (it hit its limit), in turns (src/reconcile/unwatched-check.ts). Without events,
    // all of them.
    const w = this.#o.watcher;
    const watched = w !== null && w.watching > 0;
    const changed = await this.#o.sync.verifyDisk(
      watched ? (this.#o.diskCheckSlice ?? DISK_CHECK_SLICE) : Infinity,
      watched && w.limited ? w.unwatched : undefined,
    );
    for (const id of changed) {
      queue.add(id ?? FULL);
      queued++;
    }
    queued += await this.#retryWrites();
    if (queued === 0) state.recordIdle();
  }

  /** Database-side singleton work, done by the leader only: prune old records about hourly. */
  async #housekeeping(): Promise<void> {
    if (!this.#o.leadership?.isLeader || Date.now() - this.#lastPrune < (this.#o.housekeepingEveryMs ?? 3_600_000)) return;
    this.#lastPrune = Date.now();
    await pruneOld(this.#o.db).catch((err: unknown) => this.#o.log.warn({ err }, 'pruning old drift records failed'));
  }
}
