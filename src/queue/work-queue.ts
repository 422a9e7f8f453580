/**
 * A keyed work queue (STYLE rule 4): a key is pending at most once and never processed twice at
 * the same time; a key dirtied while it runs runs again after; bursts are coalesced by a
 * min/max quiescence window; failures are retried with per-key exponential backoff.
 * p-queue provides the concurrency; deduplication and timing are ours.
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
  /** Process one key; throw to have it retried with backoff. */
  readonly handler: (key: K) => Promise<void>;
  readonly concurrency?: number;
  /** Wait this long after the last add before running (debounce). */
  readonly quietMs?: number;
  /** …but never longer than this after the first add. */
  readonly maxWaitMs?: number;
  readonly backoff?: BackoffOptions;
  readonly timers?: Timers;
  /** Called when a handler throws (after scheduling the retry). */
  readonly onError?: (key: K, err: unknown, attempt: number, retryInMs: number) => void;
}

interface Entry {
  firstAdd: number;
  timer: unknown;
  running: boolean;
  dirty: boolean;
  attempts: number;
  queued: boolean;
  retry: unknown;
}

export class WorkQueue<K> {
  readonly #o: Required<Omit<WorkQueueOptions<K>, 'onError'>> & Pick<WorkQueueOptions<K>, 'onError'>;
  readonly #entries = new Map<K, Entry>();
  readonly #pq: PQueue;
  #stopped = false;
  #idleWaiters: Array<() => void> = [];

  constructor(options: WorkQueueOptions<K>) {
    this.#o = {
      concurrency: 4, quietMs: 10, maxWaitMs: 100, backoff: { baseMs: 500, maxMs: 300_000 }, timers: realTimers, ...options,
    };
    this.#pq = new PQueue({ concurrency: this.#o.concurrency });
  }

  /** Keys waiting (debouncing, backing off or queued) but not running. */
  get depth(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (!e.running || e.dirty) n++;
    return n;
  }

  /** Keys currently being processed. */
  get running(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (e.running) n++;
    return n;
  }

  /** Schedule `key` (coalesced with any pending run of the same key). */
  add(key: K): void {
    if (this.#stopped) return;
    const t = this.#o.timers;
    let e = this.#entries.get(key);
    if (!e) {
      e = { firstAdd: t.now(), timer: undefined, running: false, dirty: false, attempts: 0, queued: false, retry: undefined };
      this.#entries.set(key, e);
    }
    if (e.running) {
      e.dirty = true;
      return;
    }
    if (e.queued) return; // already handed to the worker pool
    if (e.retry !== undefined) {
      // New information: try again after the usual debounce instead of waiting out the backoff.
      t.clearTimeout(e.retry);
      e.retry = undefined;
      e.firstAdd = t.now();
    }
    if (e.timer !== undefined) t.clearTimeout(e.timer);
    const due = Math.min(e.firstAdd + this.#o.maxWaitMs, t.now() + this.#o.quietMs);
    e.timer = t.setTimeout(() => this.#enqueue(key), Math.max(0, due - t.now()));
  }

  #enqueue(key: K): void {
    const e = this.#entries.get(key);
    if (!e || this.#stopped) return;
    e.timer = undefined;
    e.retry = undefined;
    e.queued = true;
    void this.#pq.add(() => this.#run(key, e));
  }

  async #run(key: K, e: Entry): Promise<void> {
    e.queued = false;
    e.running = true;
    e.dirty = false;
    try {
      await this.#o.handler(key);
      e.attempts = 0;
    } catch (err) {
      e.attempts++;
      const delay = backoffDelay(e.attempts, this.#o.backoff);
      if (!this.#stopped && !e.dirty) e.retry = this.#o.timers.setTimeout(() => this.#enqueue(key), delay);
      this.#o.onError?.(key, err, e.attempts, delay);
    } finally {
      e.running = false;
    }
    const t = this.#o.timers;
    if (e.dirty && !this.#stopped) {
      e.dirty = false;
      e.firstAdd = t.now();
      e.timer = t.setTimeout(() => this.#enqueue(key), this.#o.quietMs);
    } else if (e.retry === undefined && e.timer === undefined) {
      this.#entries.delete(key);
    }
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#entries.size > 0 && [...this.#entries.values()].some((e) => e.running || e.queued || e.timer !== undefined)) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolve when nothing is pending or running (keys backing off do not count). */
  async idle(): Promise<void> {
    if (![...this.#entries.values()].some((e) => e.running || e.queued || e.timer !== undefined)) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stop: no new work; pending timers are cancelled; resolves when running handlers finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const e of this.#entries.values()) {
      if (e.timer !== undefined) this.#o.timers.clearTimeout(e.timer);
      if (e.retry !== undefined) this.#o.timers.clearTimeout(e.retry);
      e.timer = undefined;
      e.retry = undefined;
    }
    this.#pq.clear();
    await this.#pq.onIdle();
  }
}
