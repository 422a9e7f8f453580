/**
 * Leader election on a `coordination.k8s.io/v1` Lease, the way client-go's leaderelection
 * package (behind controller-runtime) does it, with its defaults: lease 15 s, renew deadline
 * 10 s, retry period 2 s.
 *
 * - Candidate, every retry period (+ up to 20 % jitter): read the Lease. Absent → create it
 *   (409 AlreadyExists ⇒ another replica was first). Held by someone else whose
 *   `renewTime + leaseDurationSeconds` is still ahead → wait. Expired, or released (no holder)
 *   → take it over with a replace carrying the `resourceVersion` just read, incrementing
 *   `leaseTransitions` (409 Conflict ⇒ another candidate won the race).
 * - Leader, every retry period: renew `renewTime` with a replace on the resourceVersion it last
 *   wrote (409 ⇒ re-read and decide as a candidate). It steps down when no renewal has succeeded
 *   for the renew deadline, measured from when the last successful renewal was *sent*; every
 *   call is aborted at that deadline, so a hung API server cannot keep it leading.
 * - Stop (SIGTERM): stop leading first, then release — holder cleared, duration 1 s — so
 *   another replica takes over at its next retry instead of after the lease duration.
 *
 * Safety rests on leaseDuration − renewDeadline (5 s): a leader that cannot renew stops before
 * anyone may take over, provided the nodes' clocks agree to within that margin (expiry is judged
 * by the candidate's clock against the holder's renewTime).
 */
import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Leadership } from '../db/leader.js';
import type { Logger } from '../log.js';
import { realTimers } from '../queue/work-queue.js';
import { describeApiError, requestOptions, statusOf, withDeadline, type Timers } from './api.js';
import {
  checkTimings,
  DEFAULT_LEASE_NAME,
  DEFAULT_LEASE_TIMINGS,
  holderOf,
  isExpired,
  JITTER,
  newLease,
  releasedLease,
  renewedLease,
  takenOverLease,
  timeOf,
  type LeaseTimings,
} from './lease-record.js';

export { checkTimings, DEFAULT_LEASE_NAME, DEFAULT_LEASE_TIMINGS, type LeaseTimings };

export interface LeaseLeaderOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  /** This replica's identity in `holderIdentity` (POD_NAME). */
  readonly identity: string;
  readonly onChange: (leader: boolean) => void;
  readonly log: Logger;
  /** Lease name; default `traefik-sync`. */
  readonly name?: string;
  readonly timings?: Partial<LeaseTimings>;
  /** Release the Lease on stop (default true; false behaves like a killed process). */
  readonly releaseOnStop?: boolean;
  /** Clock and timers (a fake in tests). */
  readonly timers?: Timers;
  /** Source of jitter in [0, 1). */
  readonly random?: () => number;
}

export class LeaseLeader implements Leadership {
  readonly #api: CoordinationV1Api;
  readonly #o: LeaseLeaderOptions;
  readonly #t: LeaseTimings;
  readonly #timers: Timers;
  readonly #name: string;
  readonly #stopAc = new AbortController();
  /** The Lease as we last read or wrote it. */
  #lease: V1Lease | null = null;
  #leader = false;
  /** When the last successful write as holder was sent. */
  #renewedAt = -Infinity;
  #timer: unknown;
  #inflight: Promise<void> | null = null;
  #started = false;
  #stopped = false;
  #lastProblem: string | null = null;
  #lastHolder: string | undefined;

  constructor(options: LeaseLeaderOptions) {
    this.#o = options;
    this.#t = { ...DEFAULT_LEASE_TIMINGS, ...options.timings };
    checkTimings(this.#t);
    this.#timers = options.timers ?? realTimers;
    this.#name = options.name ?? DEFAULT_LEASE_NAME;
    this.#api = options.kubeConfig.makeApiClient(CoordinationV1Api);
  }

  /** True while leading and the last successful renewal is younger than the renew deadline. */
  get isLeader(): boolean {
    return this.#leader && this.#timers.now() - this.#renewedAt < this.#t.renewDeadlineMs;
  }

  /** Begin contending (first attempt at once). */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#schedule(0);
  }

  /** Resolves when no attempt is in flight (tests driving a fake clock). */
  async idle(): Promise<void> {
    while (this.#inflight) await this.#inflight;
  }

  /** Stop contending; when holding the Lease, stop leading and then release it. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timers.clearTimeout(this.#timer);
    this.#stopAc.abort();
    await this.idle();
    this.#set(false);
    const lease = this.#lease;
    if (this.#o.releaseOnStop === false || lease?.spec?.holderIdentity !== this.#o.identity) return;
    const released = releasedLease(lease, this.#timers.now());
    try {
      await withDeadline(this.#timers, this.#t.renewDeadlineMs, (signal) =>
        this.#api.replaceNamespacedLease({ name: this.#name, namespace: this.#o.namespace, body: released }, requestOptions(signal)),
      );
      this.#o.log.info({ lease: this.#name, identity: this.#o.identity }, 'lease released');
    } catch (err) {
      this.#o.log.warn(
        { lease: this.#name, error: describeApiError(err) },
        'could not release the lease; another replica takes over when it expires',
      );
    }
  }

  #schedule(ms: number): void {
    this.#timer = this.#timers.setTimeout(() => void this.#run(), ms);
  }

  async #run(): Promise<void> {
    if (this.#stopped) return;
    const attempt = this.#attempt().catch((err) => this.#problem('elect', err));
    this.#inflight = attempt;
    await attempt;
    this.#inflight = null;
    if (this.#stopped) return;
    const now = this.#timers.now();
    if (this.#leader && !this.isLeader) {
      this.#o.log.warn(
        { lease: this.#name, renewDeadlineMs: this.#t.renewDeadlineMs },
        'could not renew the lease within the renew deadline; stepping down',
      );
      this.#set(false);
    }
    const next = this.#leader
      ? Math.min(this.#t.retryPeriodMs, Math.max(0, this.#renewedAt + this.#t.renewDeadlineMs - now))
      : this.#t.retryPeriodMs * (1 + JITTER * (this.#o.random ?? Math.random)());
    this.#schedule(next);
  }

  /** One round of client-go's tryAcquireOrRenew. */
  async #attempt(): Promise<void> {
    if (this.#leader && this.#lease) {
      // Fast path: renew on the resourceVersion we wrote last.
      try {
        return await this.#write(renewedLease(this.#lease, this.#o.identity, this.#t, this.#timers.now()));
      } catch (err) {
        if (statusOf(err) !== 409) return this.#problem('renew', err);
      }
    }
    let current: V1Lease | null;
    try {
      current = await this.#call((opts) => this.#api.readNamespacedLease({ name: this.#name, namespace: this.#o.namespace }, opts));
    } catch (err) {
      if (statusOf(err) !== 404) return this.#problem('read', err);
      current = null;
    }
    const now = this.#timers.now();
    if (!current) return this.#create(now);
    const holder = holderOf(current);
    this.#observe(holder);
    if (holder !== '' && holder !== this.#o.identity && !isExpired(current, now)) {
      this.#lease = current;
      this.#set(false);
      return;
    }
    try {
      const id = this.#o.identity;
      await this.#write(holder === id ? renewedLease(current, id, this.#t, now) : takenOverLease(current, id, this.#t, now));
    } catch (err) {
      if (statusOf(err) === 409) {
        this.#o.log.debug({ lease: this.#name }, 'lost the race for the lease (resourceVersion changed)');
        this.#set(false);
      } else {
        this.#problem('acquire', err);
      }
    }
  }

  async #create(now: number): Promise<void> {
    const body = newLease(this.#name, this.#o.namespace, this.#o.identity, this.#t, now);
    try {
      const created = await this.#call((opts) => this.#api.createNamespacedLease({ namespace: this.#o.namespace, body }, opts));
      this.#held(created, now);
    } catch (err) {
      if (statusOf(err) === 409) this.#o.log.debug({ lease: this.#name }, 'lease was created by another replica first');
      else this.#problem('create', err);
    }
  }

  async #write(lease: V1Lease): Promise<void> {
    const sentAt = timeOf(lease.spec?.renewTime);
    const written = await this.#call((opts) =>
      this.#api.replaceNamespacedLease({ name: this.#name, namespace: this.#o.namespace, body: lease }, opts),
    );
    this.#held(written, sentAt);
  }

  #held(lease: V1Lease, sentAt: number): void {
    this.#lease = lease;
    this.#observe(this.#o.identity);
    if (this.#stopped) return; // stop() releases it
    this.#renewedAt = sentAt;
    this.#lastProblem = null;
    this.#set(true);
  }

  /** Run one API call with the time left (the renew deadline for a leader). */
  #call<T>(fn: (opts: ReturnType<typeof requestOptions>) => Promise<T>): Promise<T> {
    const budget = this.#leader ? this.#renewedAt + this.#t.renewDeadlineMs - this.#timers.now() : this.#t.renewDeadlineMs;
    return withDeadline(this.#timers, Math.max(1, budget), (signal) => fn(requestOptions(signal)), this.#stopAc.signal);
  }

  #observe(holder: string): void {
    if (holder === this.#lastHolder) return;
    this.#lastHolder = holder;
    this.#o.log.info({ lease: this.#name, holder: holder || null, identity: this.#o.identity }, 'lease holder observed');
  }

  #problem(op: string, err: unknown): void {
    if (this.#stopped) return; // calls aborted by stop()
    const error = describeApiError(err);
    const line = { lease: this.#name, namespace: this.#o.namespace, op, error };
    if (this.#leader || error !== this.#lastProblem) this.#o.log.warn(line, 'lease election call failed');
    else this.#o.log.debug(line, 'lease election call failed');
    this.#lastProblem = error;
  }

  #set(leader: boolean): void {
    if (leader === this.#leader) return;
    this.#leader = leader;
    this.#o.log.info({ lease: this.#name, identity: this.#o.identity, leader }, leader ? 'acquired the lease' : 'not holding the lease');
    try {
      this.#o.onChange(leader);
    } catch (err) {
      this.#o.log.warn({ err }, 'leadership change handler failed');
    }
  }
}
