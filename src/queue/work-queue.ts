/**
 * A keyed work queue (STYLE rule 4): a key is pending at most once and never processed twice at
 * the same time; a key dirtied while it runs runs again after; bursts are coalesced by a
 * min/max quiescence window; failures are retried with per-key exponential backoff.
 *
 * Keys that are ready together are handed to the handler together (up to `batchSize`), so under
 * load one pass serves many keys instead of the backlog growing one pass per key. Every count
 * is kept up to date as keys move, so nothing here is O(pending keys) per operation.
 * p-queue runs the batches (at most `concurrency` at once); grouping and timing are ours.
 */
import PQueue from 'p-queue';
import { backoffDelay, type BackoffOptions } from './backoff.js';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  now: () => Date.now(),
};

export interface WorkQueueOptions<K> {
  /**
   * Process a batch of keys (one key unless `batchSize` > 1). Resolve with the keys that failed
   * (and why) to have just those retried with backoff; throw to have the whole batch retried.
   */
  readonly handler: (keys: K[]) => Promise<ReadonlyMap<K, unknown> | void>;
  /** Batches running at once. */
  readonly concurrency?: number;
  /** Most keys handed to one handler call (default 1). */
  readonly batchSize?: number;
  /** Keys that must be processed in a batch of their own. */
  readonly alone?: (key: K) => boolean;
  /** Wait this long after the last add before running (debounce). */
  readonly quietMs?: number;
  /** …but never longer than this after the first add. */
  readonly maxWaitMs?: number;
  readonly backoff?: BackoffOptions;
  readonly timers?: Timers;
  /** Called when a key fails (after scheduling its retry). */
  readonly onError?: (key: K, err: unknown, attempt: number, retryInMs: number) => void;
}

/** Where a key is: debouncing, backing off after a failure, ready to run, or running. */
type Phase = 'waiting' | 'retrying' | 'ready' | 'running';

interface Entry {
  phase: Phase;
  firstAdd: number;
  timer: unknown;
  /** Added again while running: run once more after. */
  dirty: boolean;
  attempts: number;
}

export class WorkQueue<K> {
  readonly #o: Required<Omit<WorkQueueOptions<K>, 'onError' | 'alone'>> & Pick<WorkQueueOptions<K>, 'onError' | 'alone'>;
  readonly #entries = new Map<K, Entry>();
  /** Ready keys in the order they became ready. */
  readonly #ready = new Set<K>();
  readonly #count: Record<Phase, number> = { waiting: 0, retrying: 0, ready: 0, running: 0 };
  #dirtyRunning = 0;
  /** Batches started and not yet settled (p-queue's own count lags behind #run's end). */
  #batches = 0;
  readonly #pq: PQueue;
  #stopped = false;
  #pumpScheduled = false;
  #idleWaiters: Array<() => void> = [];

  constructor(options: WorkQueueOptions<K>) {
    this.#o = {
      concurrency: 4,
      batchSize: 1,
      quietMs: 10,
      maxWaitMs: 100,
      backoff: { baseMs: 500, maxMs: 300_000 },
      timers: realTimers,
      ...options,
    };
    this.#pq = new PQueue({ concurrency: this.#o.concurrency });
  }

  /** Keys waiting (debouncing, backing off or ready) but not running, plus running keys added again. */
  get depth(): number {
    return this.#entries.size - this.#count.running + this.#dirtyRunning;
  }

  /** Keys currently being processed. */
  get running(): number {
    return this.#count.running;
  }

  /** True while `key` is debouncing, ready or running (not while it backs off after a failure). */
  has(key: K): boolean {
    const phase = this.#entries.get(key)?.phase;
    return phase !== undefined && phase !== 'retrying';
  }

  /**
   * True while a handler is processing `key` (added again meanwhile or not). What that run read
   * may predate a change made since: {@link add} has it run once more after.
   */
  isRunning(key: K): boolean {
    return this.#entries.get(key)?.phase === 'running';
  }

  /** Schedule `key` (coalesced with any pending run of the same key). */
  add(key: K): void {
    if (this.#stopped) return;
    const t = this.#o.timers;
    let e = this.#entries.get(key);
    if (!e) {
      e = { phase: 'waiting', firstAdd: t.now(), timer: undefined, dirty: false, attempts: 0 };
      this.#entries.set(key, e);
      this.#count.waiting++;
    }
    if (e.phase === 'running') {
      if (!e.dirty) this.#dirtyRunning++;
      e.dirty = true;
      return;
    }
    if (e.phase === 'ready') return; // already due; runs with the next batch
    if (e.timer !== undefined) t.clearTimeout(e.timer);
    if (e.phase === 'retrying') {
      // New information: try again after the usual debounce instead of waiting out the backoff.
      this.#move(e, 'waiting');
      e.firstAdd = t.now();
    }
    const due = Math.min(e.firstAdd + this.#o.maxWaitMs, t.now() + this.#o.quietMs);
    e.timer = t.setTimeout(() => this.#makeReady(key), Math.max(0, due - t.now()));
  }

  /**
   * Another run covered `key` (a full pass wrote the project): a retry it is backing off for is
   * dropped, with its attempt count, so a later failure backs off from the start again.
   */
  done(key: K): void {
    const e = this.#entries.get(key);
    if (e?.phase !== 'retrying') return;
    this.#o.timers.clearTimeout(e.timer!);
    this.#count.retrying--;
    this.#entries.delete(key);
  }

  #move(e: Entry, phase: Phase): void {
    this.#count[e.phase]--;
    this.#count[phase]++;
    e.phase = phase;
  }

  #makeReady(key: K): void {
    const e = this.#entries.get(key);
    if (!e || this.#stopped) return;
    e.timer = undefined;
    this.#move(e, 'ready');
    this.#ready.add(key);
    // Start batches after this turn of the event loop: keys whose timers fire together (a burst
    // of NOTIFYs) go into one batch instead of the first taking a slot alone.
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /** Start batches while a slot is free and keys are ready. */
  #pump(): void {
    while (!this.#stopped && this.#ready.size > 0 && this.#batches < this.#o.concurrency) {
      const batch = this.#takeBatch();
      this.#batches++;
      void this.#pq.add(() => this.#run(batch));
    }
  }

  /** The oldest ready key, and as many other ready keys as fit (never a key that runs alone). */
  #takeBatch(): K[] {
    const alone = this.#o.alone ?? (() => false);
    const batch: K[] = [];
    for (const key of this.#ready) {
      if (batch.length > 0 && (alone(key) || alone(batch[0]!))) {
        if (alone(batch[0]!)) break;
        continue;
      }
      batch.push(key);
      if (batch.length >= this.#o.batchSize) break;
    }
    for (const key of batch) {
      this.#ready.delete(key);
      const e = this.#entries.get(key)!;
      this.#move(e, 'running');
      e.dirty = false;
    }
    return batch;
  }

  async #run(batch: K[]): Promise<void> {
    let failures: ReadonlyMap<K, unknown>;
    try {
      failures = (await this.#o.handler(batch)) ?? new Map();
    } catch (err) {
      failures = new Map(batch.map((k) => [k, err]));
    }
    for (const key of batch) this.#settle(key, failures.has(key), failures.get(key));
    this.#batches--;
    this.#pump();
    this.#checkIdle();
  }

  /** After a run: again (dirty), back off (failed), or forget the key. */
  #settle(key: K, failed: boolean, err: unknown): void {
    const e = this.#entries.get(key)!;
    const t = this.#o.timers;
    if (e.dirty) this.#dirtyRunning--;
    const again = e.dirty && !this.#stopped;
    e.dirty = false;
    if (failed) {
      e.attempts++;
      const delay = backoffDelay(e.attempts, this.#o.backoff);
      if (!again && !this.#stopped) {
        this.#move(e, 'retrying');
        e.timer = t.setTimeout(() => this.#makeReady(key), delay);
      }
      this.#o.onError?.(key, err, e.attempts, delay);
    } else {
      e.attempts = 0;
    }
    if (again) {
      this.#move(e, 'waiting');
      e.firstAdd = t.now();
      e.timer = t.setTimeout(() => this.#makeReady(key), this.#o.quietMs);
    } else if (e.phase === 'running') {
      this.#count.running--;
      this.#entries.delete(key);
    }
  }

  /** True when nothing is debouncing, ready or running (keys backing off do not count). */
  #isIdle(): boolean {
    return this.#count.waiting + this.#count.ready + this.#count.running === 0;
  }

  #checkIdle(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolve when nothing is pending or running (keys backing off do not count). */
  async idle(): Promise<void> {
    if (this.#isIdle()) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stop: no new work; pending timers are cancelled; resolves when running handlers finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const [key, e] of this.#entries) {
      if (e.timer !== undefined) this.#o.timers.clearTimeout(e.timer);
      e.timer = undefined;
      if (e.phase !== 'running') {
        this.#count[e.phase]--;
        this.#entries.delete(key);
      }
    }
    this.#ready.clear();
    await this.#pq.onIdle();
    this.#checkIdle();
  }
}
