/**
 * The controller (`traefik-sync run`): sources (NOTIFY, a jittered timer, filesystem events) →
 * one keyed work queue → the sync service; metrics, status and records after every pass.
 * It owns retries, backoff, metrics and logs; the sync service only reconciles.
 */
import { sql, type ConnectionPool } from '../db/connect.js';
import { changeFingerprint } from '../db/load.js';
import type { Leadership } from '../db/leader.js';
import { CHANNEL, Listener, shardChannel, type SessionConnected } from '../db/listen.js';
import { MEMBER_SQL } from '../db/shards.js';
import { messageOf } from '../errors.js';
import { releaseMemory } from '../memory.js';
import { previousConfigOnVolume } from '../fs/scan.js';
import { TreeWatcher } from '../fs/watch.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../observability/metrics.js';
import type { EventSink } from './events.js';
import { HandoffTracker } from './handoffs.js';
import { Intake } from './intake.js';
import { FULL } from './keys.js';
import { PeriodicCheck } from './periodic-check.js';
import { WorkQueue } from '../queue/work-queue.js';
import type { SyncReport, TraefikSyncService } from '../reconcile/sync-service.js';
import { ReplicaState } from './replica-state.js';
import { layout } from '../render/project.js';
import type { TraefikWatch } from '../traefik-api/watch.js';
import { settledWithin } from '../util.js';

/**
 * How long stopping waits for each step that talks to PostgreSQL or the API server (closing the
 * LISTEN connection, saving the status, releasing leadership). A partitioned network makes them
 * hang; the process must still exit (leadership then lapses on its own: the advisory lock with the
 * connection, a Lease when its duration passes).
 */
export const STOP_STEP_MS = 3_000;

/** Retries of a failed project: from 0.5 s, doubling, up to 5 minutes (± the queue's jitter). */
export const RETRY_BACKOFF = { baseMs: 500, maxMs: 300_000 } as const;

/** How long readiness from the volume waits for the LISTEN connection at most. */
const LISTEN_WAIT_MS = 5_000;

export interface ControllerOptions {
  readonly db: ConnectionPool;
  /** The session connection's URL (LISTEN), when no `session` is given. */
  readonly databaseUrl: string;
  /** The session connection (LISTEN; the sidecar's advisory-lock leader shares it); default: one on `databaseUrl`. */
  readonly session?: Listener;
  /** The shard this replica serves (its sync service renders only that shard); null = every project. */
  readonly shard?: string | null;
  readonly sync: TraefikSyncService;
  readonly root: string;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly replicaId: string;
  readonly intervalMs: number;
  readonly leadership?: Leadership;
  /** Called when leadership changes or notable events happen (Kubernetes Events). */
  readonly events?: EventSink;
  /** Watch the config root for hand edits (default true). */
  readonly watchFiles?: boolean;
  /** Leader housekeeping (pruning old records) at most this often (default 1 hour). */
  readonly housekeepingEveryMs?: number;
  /** Files stat()ed per tick when file events are watched (default 2,000; all when not). */
  readonly diskCheckSlice?: number;
  /** What Traefik serves (src/traefik-api/): told of every pass, checked after them and at its own ticks. */
  readonly traefik?: TraefikWatch;
}

export class Controller {
  readonly #o: ControllerOptions;
  readonly #queue: WorkQueue<string>;
  readonly #listener: Listener;
  readonly #watcher: TreeWatcher | null;
  readonly #state: ReplicaState;
  #dbUp = false;
  #heartbeat = Date.now();
  readonly #intake: Intake;
  readonly #periodic: PeriodicCheck;
  readonly #handoffs: HandoffTracker;
  #beatTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Resolves the wait for the first LISTEN connection (readiness from the volume waits for it). */
  #listening: (() => void) | undefined;

  constructor(options: ControllerOptions) {
    this.#o = options;
    this.#state = new ReplicaState(options);
    this.#queue = new WorkQueue<string>({
      handler: (keys) => this.#process(keys),
      concurrency: 4,
      // Projects that changed together are reconciled in one pass; a full pass is a batch of its
      // own and runs beside project passes (it leaves them the projects they take: full-pass.ts).
      batchSize: 64,
      alone: (key) => key === FULL,
      quietMs: 1, // NOTIFY bursts are already gathered for 2 ms (Intake.notified)
      maxWaitMs: 50,
      backoff: RETRY_BACKOFF,
      onError: (key, err, attempt, retryInMs) => {
        this.#o.log.warn({ project: this.#nameOf(key), attempt, retryInMs, err }, 'reconcile failed; retrying with backoff');
      },
    });
    const shard = options.shard ?? null;
    this.#intake = new Intake({
      db: options.db,
      root: options.root,
      sync: options.sync,
      queue: this.#queue,
      state: this.#state,
      metrics: options.metrics,
      shard,
      onVersionsBackwards: (highest, before) =>
        options.log.warn(
          { highest, before },
          'the database reports lower change versions than before (another server, a restored backup?): a full pass reads everything again',
        ),
    });
    this.#handoffs = new HandoffTracker({ log: options.log, events: options.events, recheck: (id) => this.#queue.add(id) });
    this.#listener =
      options.session ?? new Listener({ databaseUrl: options.databaseUrl, channel: shard === null ? CHANNEL : shardChannel(shard) });
    this.#listener.subscribe({
      onNotify: (payload) => this.#intake.notified(payload),
      onConnected: (c) => this.#sessionConnected(c),
      onDisconnected: (reason) => {
        options.metrics.listenConnected.set(0);
        options.log.warn({ reason }, 'LISTEN connection lost; reconnecting with backoff');
        // Say at once whether the database is gone too (not at the next tick).
        void this.#probeDatabase();
      },
    });
    this.#watcher =
      options.watchFiles === false
        ? null
        : new TreeWatcher({
            root: options.root,
            onChange: (rel) => {
              if (!this.#stopped) void this.#intake.fileChanged(rel);
            },
            onLimit: (count) =>
              void this.#periodic.watcherLimited(count).catch((err: unknown) => options.log.warn({ err }, 'too many directories to watch')),
          });
    this.#periodic = new PeriodicCheck({
      ...options,
      queue: this.#queue,
      intake: this.#intake,
      state: this.#state,
      watcher: this.#watcher,
      listener: this.#listener,
      onDatabase: (up) => this.#setDbUp(up),
    });
  }

  #sessionConnected(c: SessionConnected): void {
    const { metrics, log } = this.#o;
    this.#listening?.();
    metrics.listenConnected.set(1);
    // A member of its shard while this session lasts: the old side of a move waits for this
    // replica to write the projects moved in (db/shards.ts).
    if (this.#o.shard)
      void this.#listener.query(MEMBER_SQL, [this.#o.replicaId, this.#o.shard]).then((rows) => {
        if (rows === null) log.warn('could not register as a member of the shard; a reconnect retries');
      });
    this.#setDbUp(true); // it answered: do not report it down until the next check
    if (c.serverChanged) {
      // Versions read from the previous server say nothing about this one (a restored backup may
      // be behind, a promoted standby may have missed the last commits): read everything again.
      log.warn(
        { server: c.server },
        'LISTEN reconnected to another database server (restarted or switched): a full pass reads everything again',
      );
      this.#intake.serverChanged();
      return;
    }
    log.info(
      { first: c.first, server: c.server },
      c.first ? 'LISTEN connected' : 'LISTEN reconnected; catching up on changes made meanwhile',
    );
    // Notifications sent while disconnected are lost: reconcile every project whose version
    // moved (many moved: one full pass). Before the first full pass, that pass covers it.
    if (this.#state.synced)
      void this.#intake.catchUp().catch((err: unknown) => log.warn({ err }, 'catching up failed; the periodic check will retry'));
  }

  async #probeDatabase(): Promise<void> {
    const up = await this.#o.db.query(sql`SELECT 1`).then(
      () => true,
      () => false,
    );
    this.#setDbUp(up);
  }

  /**
   * What /readyz reports: this controller's first full sync has written (or verified) the config,
   * or at start a config a previous run finished was found on the volume.
   */
  get serving(): boolean {
    return this.#state.serving;
  }

  /** True once this controller's own first full sync has written (or verified) the config. */
  get synced(): boolean {
    return this.#state.synced;
  }

  /** Milliseconds since the control loop last proved alive. */
  get heartbeatAgeMs(): number {
    return Date.now() - this.#heartbeat;
  }

  get queueDepth(): number {
    return this.#queue.depth;
  }

  /** Start the sources; the first full sync is queued at once. */
  start(): void {
    this.#o.leadership?.start();
    this.#listener.start();
    this.#queue.add(FULL);
    // Ready from the volume once LISTEN is up: a change committed after /readyz turns 200 is then
    // notified, not left to the catch-up after the first full pass. With the database down (a
    // pass failed), or after 5 s, ready all the same: that is the point of readiness from the volume.
    const listening = new Promise<void>((resolve) => {
      this.#listening = resolve;
      setTimeout(resolve, LISTEN_WAIT_MS).unref();
    });
    void Promise.all([previousConfigOnVolume(this.#o.root), listening]).then(([found]) => {
      if (!found || this.#stopped || this.#state.synced) return;
      this.#state.markReadyFromVolume();
      this.#o.log.info('ready: serving the config a previous run left on the volume until the first full sync finishes');
    });
    this.#beatTimer = setInterval(() => this.#beat(), 1000);
    this.#beatTimer.unref();
    this.#periodic.start();
    this.#o.traefik?.start();
  }

  /** Wait until no work is pending (tests, one-shot use). */
  async idle(): Promise<void> {
    await this.#queue.idle();
  }

  /** Stop: no new work, finish the pass in flight, release leadership. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#periodic.stop();
    await this.#o.traefik?.stop();
    clearInterval(this.#beatTimer);
    this.#intake.stop();
    this.#handoffs.stop();
    this.#watcher?.close();
    await this.#queue.stop();
    const steps: Array<[string, Promise<unknown>]> = [
      ['closing the LISTEN connection', this.#listener.stop()],
      ['saving the replica status', this.#state.flushStatus(true)],
      ['releasing leadership', this.#o.leadership?.stop() ?? Promise.resolve()],
    ];
    await Promise.all(
      steps.map(async ([step, work]) => {
        if (!(await settledWithin(work, STOP_STEP_MS)))
          this.#o.log.warn(
            { step },
            `stopping: ${step} did not finish within ${STOP_STEP_MS / 1000} s (database unreachable?); going on without it`,
          );
      }),
    );
    this.#o.metrics.isLeader.set(0);
    this.#o.metrics.listenConnected.set(0);
  }

  /** JSON for /api/v1/status. */
  status(): Record<string, unknown> {
    const state = this.#state.snapshot();
    const traefik = this.#o.traefik;
    if (traefik) {
      const projects = state.projects as Record<string, object>;
      state.projects = Object.fromEntries(Object.entries(projects).map(([id, p]) => [id, { ...p, ...traefik.fieldsOf(id) }]));
    }
    return {
      replica: this.#o.replicaId,
      shard: this.#o.shard ?? null,
      leader: this.#o.leadership?.isLeader ?? false,
      ready: state.ready,
      databaseUp: this.#dbUp,
      listenConnected: this.#listener.connected,
      databaseServer: this.#listener.server,
      queueDepth: this.#queue.depth,
      ...state,
      traefik: traefik?.summary() ?? null,
      shardHandoffs: this.#handoffs.snapshot(),
    };
  }

  #beat(): void {
    this.#heartbeat = Date.now();
    void this.#state.flushStatus();
    this.#o.metrics.queueDepth.set(this.#queue.depth);
    this.#o.metrics.isLeader.set(this.#o.leadership?.isLeader ? 1 : 0);
  }

  #nameOf(key: string): string | null {
    return key === FULL ? '*' : this.#state.nameOf(key);
  }

  /** Watch the folders a project pass created (a new project's), so drift there is seen at once. */
  async #watchCreated(report: SyncReport): Promise<void> {
    const created = report.results.filter((r) => r.created > 0);
    if (!this.#watcher || created.length === 0) return;
    for (const r of created) await this.#watcher.watchUnder(r.projectName ? layout.projectDir(r.projectName) : 'static').catch(() => {});
    await this.#watcher.watchUnder('ssl').catch(() => {});
  }

  #setDbUp(up: boolean): void {
    // Back after an outage: the session connection need not wait out its backoff.
    if (up && !this.#dbUp) this.#listener.retryNow();
    this.#dbUp = up;
    this.#o.metrics.dbUp.set(up ? 1 : 0);
  }

  #process(keys: string[]): Promise<ReadonlyMap<string, unknown> | void> {
    return this.#pass(keys[0] === FULL ? null : keys);
  }

  /** One pass: every project (`projects` null) or the given ones. Resolves with the projects that failed. */
  async #pass(projects: string[] | null): Promise<ReadonlyMap<string, unknown> | void> {
    const { metrics, log, sync, db } = this.#o;
    const full = projects === null;
    const end = metrics.reconcileDuration.startTimer();
    let report: SyncReport;
    let fingerprint: string | null = null;
    // What the replica state knew before a full pass: only that can the pass find gone.
    const since = this.#state.epoch;
    try {
      if (full) fingerprint = await changeFingerprint(db, this.#o.shard ?? null);
      report = full ? await sync.syncAllProjects() : await sync.syncProjects(projects);
      this.#setDbUp(true);
    } catch (err) {
      end();
      this.#listening?.();
      this.#state.recordError(messageOf(err));
      const up = await db.query(sql`SELECT 1`).then(
        () => true,
        () => false,
      );
      this.#setDbUp(up);
      if (!up) log.error({ err }, 'database unreachable: keeping the last good files');
      throw err;
    }
    const seconds = end();
    log.debug({ projects: full ? 'all' : projects.length, ms: Math.round(seconds * 1000), queued: this.#queue.depth }, 'pass finished');
    if (fingerprint !== null && !report.blocked) this.#periodic.fullPassRead(fingerprint);
    if (report.handoffs?.length) this.#handoffs.record(report.handoffs);
    // Watch the directories a full pass may have created before saying ready, so a hand edit
    // made right after /readyz turns 200 is seen at once.
    if (full) await this.#watcher?.refresh().catch(() => {});
    // What Traefik should now serve is known before the status shows the pass (live: false until seen).
    this.#o.traefik?.passed(report, full);
    await this.#state.recordPass(report, full ? since : undefined);
    if (full) releaseMemory();
    // A project that failed (rows that cannot render, a write refused by the disk) is retried
    // with backoff: handed back to the queue as failed; after a full pass each is queued alone.
    const failed = report.results.filter((r) => r.status === 'failed' && r.projectId !== null);
    if (full) {
      for (const r of failed) this.#queue.add(r.projectId!);
      for (const r of report.results) {
        if (r.projectId !== null && (r.status === 'noop' || r.status === 'updated')) this.#queue.done(r.projectId);
      }
      // A change committed while the pass ran may have been read before it (or, at start, before
      // LISTEN was up): pick those up now rather than at the next tick.
      if (!report.blocked) await this.#intake.catchUp(new Set(failed.map((r) => r.projectId!))).catch(() => {});
      return;
    }
    await this.#watchCreated(report);
    return new Map(failed.map((r) => [r.projectId!, new Error(r.problems.join('; '))]));
  }
}
