/**
 * The controller (`traefik-sync run`): sources (NOTIFY, a jittered timer, filesystem events) →
 * one keyed work queue → the sync service; metrics, status and records after every pass.
 * It owns retries, backoff, metrics and logs; the sync service only reconciles.
 */
import { statfs } from 'node:fs/promises';
import { sql, type ConnectionPool } from './db/connect.js';
import { changeFingerprint, loadVersions } from './db/load.js';
import type { Leadership } from './db/leader.js';
import { Listener } from './db/listen.js';
import { loadCertificateExpiry, pruneOld, recordDrift, upsertReplicaStatus } from './db/status.js';
import { messageOf } from './errors.js';
import { readDiskFile } from './fs/scan.js';
import { TreeWatcher } from './fs/watch.js';
import type { Logger } from './log.js';
import type { Metrics } from './observability/metrics.js';
import { withJitter } from './queue/backoff.js';
import { WorkQueue } from './queue/work-queue.js';
import type { DriftKind } from './reconcile/plan.js';
import type { ProjectResult, SyncReport, TraefikSyncService } from './reconcile/sync-service.js';

/** Queue key of a full resync (project keys are UUIDs). */
export const FULL = '*';

export interface ControllerOptions {
  readonly db: ConnectionPool;
  readonly databaseUrl: string;
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
  /** Every Nth idle tick also stats every managed file (default 1: every tick). */
  readonly diskCheckEvery?: number;
}

/** Where notable events go (Kubernetes Events when in a cluster). */
export interface EventSink {
  emit(reason: 'DriftDetected' | 'SyncFailed' | 'SyncRecovered' | 'DeleteGuardBlocked', message: string, type?: 'Normal' | 'Warning'): void;
}

/** Per-project state shown by /api/v1/status. */
export interface ProjectStatus {
  name: string | null;
  inSync: boolean;
  drift: Array<{ path: string; kind: DriftKind; repaired: boolean }>;
  lastError: string | null;
  lastSyncAt: string | null;
}

export class Controller {
  readonly #o: ControllerOptions;
  readonly #queue: WorkQueue<string>;
  readonly #listener: Listener;
  readonly #watcher: TreeWatcher | null;
  readonly #projects = new Map<string, ProjectStatus>();
  /** Currently drifted (unrepaired) files by path. */
  readonly #drift = new Map<string, DriftKind>();
  readonly #appliedVersion = new Map<string, number>();
  /** Version of each project as of its last pass (tombstones included). */
  readonly #seenVersion = new Map<string, number>();
  readonly #projectByName = new Map<string, string>();
  #ready = false;
  #dbUp = false;
  #heartbeat = Date.now();
  #lastSyncAt: Date | null = null;
  #lastSuccessAt: Date | null = null;
  #lastError: string | null = null;
  #fingerprint: string | null = null;
  #tickTimer: NodeJS.Timeout | undefined;
  #beatTimer: NodeJS.Timeout | undefined;
  #ticks = 0;
  #stopped = false;
  #guardBlocked = false;
  #gate: Promise<void> | null = null;
  readonly #running = new Set<Promise<void>>();

  constructor(options: ControllerOptions) {
    this.#o = options;
    this.#queue = new WorkQueue<string>({
      handler: (key) => this.#process(key),
      concurrency: 4,
      quietMs: 5,
      maxWaitMs: 50,
      backoff: { baseMs: 500, maxMs: 300_000 },
      onError: (key, err, attempt, retryInMs) => {
        this.#o.log.warn({ project: this.#nameOf(key), attempt, retryInMs, err }, 'reconcile failed; retrying with backoff');
      },
    });
    this.#listener = new Listener({
      databaseUrl: options.databaseUrl,
      onNotify: (payload) => this.#onNotify(payload),
      onConnected: (first) => {
        options.metrics.listenConnected.set(1);
        options.log.info({ first }, first ? 'LISTEN connected' : 'LISTEN reconnected; full resync');
        // Notifications sent while disconnected are lost: resync everything.
        this.#queue.add(FULL);
      },
      onDisconnected: (reason) => {
        options.metrics.listenConnected.set(0);
        options.log.warn({ reason }, 'LISTEN connection lost; reconnecting with backoff');
      },
    });
    this.#watcher = options.watchFiles === false ? null : new TreeWatcher({
      root: options.root,
      onChange: (rel) => void this.#onFileEvent(rel),
      onLimit: (count) => options.log.warn({ directories: count }, 'too many directories to watch; drift is found by the periodic resync'),
    });
  }

  /** True once the first full sync has written (or verified) the config. */
  get ready(): boolean {
    return this.#ready;
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
    this.#beatTimer = setInterval(() => this.#beat(), 1000);
    this.#beatTimer.unref();
    this.#scheduleTick();
  }

  /** Wait until no work is pending (tests, one-shot use). */
  async idle(): Promise<void> {
    await this.#queue.idle();
  }

  /** Stop: no new work, finish the pass in flight, release leadership. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#tickTimer);
    clearInterval(this.#beatTimer);
    this.#watcher?.close();
    await this.#queue.stop();
    await this.#listener.stop();
    await this.#o.leadership?.stop();
    this.#o.metrics.isLeader.set(0);
    this.#o.metrics.listenConnected.set(0);
  }

  /** JSON for /api/v1/status. */
  status(): Record<string, unknown> {
    return {
      replica: this.#o.replicaId,
      leader: this.#o.leadership?.isLeader ?? false,
      ready: this.#ready,
      databaseUp: this.#dbUp,
      listenConnected: this.#listener.connected,
      queueDepth: this.#queue.depth,
      lastSyncAt: this.#lastSyncAt?.toISOString() ?? null,
      lastSuccessAt: this.#lastSuccessAt?.toISOString() ?? null,
      lastError: this.#lastError,
      deleteGuardBlocked: this.#guardBlocked,
      drift: [...this.#drift].map(([path, kind]) => ({ path, kind })),
      projects: Object.fromEntries([...this.#projects].sort(([, a], [, b]) => String(a.name).localeCompare(String(b.name)))),
    };
  }

  #beat(): void {
    this.#heartbeat = Date.now();
    this.#o.metrics.queueDepth.set(this.#queue.depth);
    this.#o.metrics.isLeader.set(this.#o.leadership?.isLeader ? 1 : 0);
  }

  #nameOf(key: string): string | null {
    return key === FULL ? '*' : this.#projects.get(key)?.name ?? null;
  }

  #onNotify(payload: string): void {
    if (payload === FULL) this.#queue.add(FULL);
    else if (/^[0-9a-f-]{36}$/.test(payload)) this.#queue.add(payload);
    this.#o.metrics.queueDepth.set(this.#queue.depth);
  }

  /** A file under the root changed: reconcile its project unless the change is our own write. */
  async #onFileEvent(rel: string): Promise<void> {
    if (this.#stopped) return;
    const sync = this.#o.sync;
    const f = await readDiskFile(this.#o.root, rel).catch(() => null);
    const known = sync.inventory.get(rel);
    if (f && f.owned && f.checksum === sync.baselineOf(rel)) return; // our own write
    if (!f && !known) return; // our own delete (or a temp file)
    const dir = /^dynamic\/([^/]+)\//.exec(rel)?.[1];
    const projectId = known?.projectId ?? f?.projectId ?? (dir ? this.#projectByName.get(dir) : undefined);
    this.#queue.add(projectId ?? FULL);
  }

  #scheduleTick(): void {
    if (this.#stopped) return;
    this.#tickTimer = setTimeout(() => void this.#tick().finally(() => this.#scheduleTick()), withJitter(this.#o.intervalMs, 0.1));
    this.#tickTimer.unref();
  }

  /** Periodic resync: one small query and a stat of the managed files decide if a pass is needed. */
  async #tick(): Promise<void> {
    const { metrics, db } = this.#o;
    this.#ticks++;
    try {
      const fp = await changeFingerprint(db);
      this.#setDbUp(true);
      if (!this.#ready) {
        this.#queue.add(FULL);
        return;
      }
      let queued = 0;
      if (fp !== this.#fingerprint) {
        // Something changed since we last looked: reconcile just the projects whose version moved
        // (a NOTIFY may have been lost). Deleted projects keep a tombstone version.
        for (const [id, version] of await loadVersions(db)) {
          if (version > (this.#seenVersion.get(id) ?? -1)) {
            this.#queue.add(id);
            queued++;
          }
        }
        this.#fingerprint = fp;
      }
      const checkDisk = this.#ticks % (this.#o.diskCheckEvery ?? 1) === 0;
      const changed = checkDisk ? await this.#o.sync.verifyDisk() : new Set<string | null>();
      for (const id of changed) {
        this.#queue.add(id ?? FULL);
        queued++;
      }
      if (queued === 0) {
        metrics.reconcileTotal.inc({ result: 'noop' });
        this.#lastSuccessAt = new Date();
        metrics.lastSuccess.set(Date.now() / 1000);
      }
    } catch (err) {
      this.#setDbUp(false);
      this.#o.log.warn({ err }, 'periodic check failed; keeping the files as they are');
    }
    await this.#listener.ping();
    try {
      const s = await statfs(this.#o.root);
      metrics.volumeFreeBytes.set(s.bavail * s.bsize);
    } catch { /* root not created yet */ }
  }

  #setDbUp(up: boolean): void {
    this.#dbUp = up;
    this.#o.metrics.dbUp.set(up ? 1 : 0);
  }

  /**
   * A full pass runs alone; project passes run side by side (different projects never share a
   * file), but never alongside a full pass.
   */
  async #exclusive(full: boolean, fn: () => Promise<void>): Promise<void> {
    while (this.#gate) await this.#gate;
    if (!full) {
      const run = fn();
      this.#running.add(run);
      try {
        return await run;
      } finally {
        this.#running.delete(run);
      }
    }
    let release!: () => void;
    this.#gate = new Promise<void>((resolve) => { release = resolve; });
    try {
      await Promise.allSettled([...this.#running]);
      return await fn();
    } finally {
      this.#gate = null;
      release();
    }
  }

  #process(key: string): Promise<void> {
    return this.#exclusive(key === FULL, () => this.#pass(key));
  }

  async #pass(key: string): Promise<void> {
    const { metrics, log, sync, db } = this.#o;
    const end = metrics.reconcileDuration.startTimer();
    let report: SyncReport;
    let fingerprint: string | null = null;
    try {
      if (key === FULL) fingerprint = await changeFingerprint(db);
      report = key === FULL ? await sync.syncAllProjects() : await sync.syncProjectConfigs(key);
      this.#setDbUp(true);
    } catch (err) {
      end();
      metrics.reconcileTotal.inc({ result: 'error' });
      this.#lastError = messageOf(err);
      this.#lastSyncAt = new Date();
      const up = await db.query(sql`SELECT 1`).then(() => true, () => false);
      this.#setDbUp(up);
      if (!up) log.error({ err }, 'database unreachable: keeping the last good files');
      this.#o.events?.emit('SyncFailed', `reconcile failed: ${this.#lastError}`, 'Warning');
      await this.#writeStatus();
      throw err;
    }
    end();
    if (fingerprint !== null && !report.blocked) this.#fingerprint = fingerprint;
    await this.#afterPass(report, key === FULL);
    if (key === FULL) await this.#watcher?.refresh().catch(() => {});
  }

  async #afterPass(report: SyncReport, full: boolean): Promise<void> {
    const { metrics, log } = this.#o;
    const now = new Date();
    this.#lastSyncAt = now;
    let wrote = false;
    let failed = false;
    const newDrift: Array<{ projectId: string | null; path: string; kind: DriftKind; repaired: boolean }> = [];
    const knownDrift = new Map(this.#drift);
    if (full) {
      // A full pass sees every project: forget those that are gone, and drift it no longer finds.
      const seen = new Set(report.results.map((r) => r.projectId));
      for (const id of this.#projects.keys()) if (!seen.has(id)) this.#projects.delete(id);
      this.#drift.clear();
    }
    for (const r of report.results) {
      metrics.filesWritten.inc({ op: 'create' }, r.created);
      metrics.filesWritten.inc({ op: 'update' }, r.updated);
      metrics.filesWritten.inc({ op: 'delete' }, r.deleted);
      if (r.created + r.updated + r.deleted > 0) wrote = true;
      if (r.status === 'failed') failed = true;
      this.#observeLatency(r);
      for (const d of r.drift) {
        const known = knownDrift.get(d.path) === d.kind;
        if (!known) {
          metrics.driftDetected.inc({ kind: d.kind });
          newDrift.push({ projectId: r.projectId, ...d });
          this.#o.events?.emit('DriftDetected', `${d.path} ${d.kind}${d.repaired ? ' (repaired)' : ''}`, 'Warning');
        }
        if (d.repaired) this.#drift.delete(d.path);
        else this.#drift.set(d.path, d.kind);
      }
      if (r.projectId === null) continue;
      if (r.status !== 'failed' && r.status !== 'blocked') this.#seenVersion.set(r.projectId, Math.max(r.version, this.#seenVersion.get(r.projectId) ?? -1));
      const previous = this.#projects.get(r.projectId);
      if (r.projectName === null) {
        this.#projects.delete(r.projectId);
        continue;
      }
      this.#projectByName.set(r.projectName, r.projectId);
      const lastError = r.problems.length ? r.problems.join('; ') : r.status === 'blocked' ? 'delete guard refused the pass' : null;
      if (previous?.lastError && !lastError) this.#o.events?.emit('SyncRecovered', `project ${r.projectName} is in sync again`);
      if (lastError && previous?.lastError !== lastError) this.#o.events?.emit('SyncFailed', `project ${r.projectName}: ${lastError}`, 'Warning');
      this.#projects.set(r.projectId, {
        name: r.projectName,
        inSync: !lastError && r.drift.every((d) => d.repaired),
        drift: r.drift,
        lastError,
        lastSyncAt: now.toISOString(),
      });
    }
    for (const kind of ['modified', 'missing', 'unexpected'] as const) {
      metrics.driftFiles.set({ kind }, [...this.#drift.values()].filter((k) => k === kind).length);
    }
    metrics.projectsFailed.set([...this.#projects.values()].filter((p) => p.lastError).length);

    this.#guardBlocked = report.blocked !== null;
    if (report.blocked) {
      metrics.deleteGuardBlocked.inc();
      metrics.reconcileTotal.inc({ result: 'error' });
      this.#lastError = `delete guard: the pass would delete ${report.blocked.deletes} of ${report.blocked.managed} managed files and ${report.blocked.routersRemoved} of ${report.blocked.routersManaged} routers (MAX_DELETE_FRACTION ${report.blocked.fraction}); nothing was written`;
      this.#o.events?.emit('DeleteGuardBlocked', this.#lastError, 'Warning');
    } else {
      metrics.reconcileTotal.inc({ result: failed ? 'error' : wrote ? 'success' : 'noop' });
      this.#lastError = failed ? 'one or more projects failed (see projects)' : null;
      this.#lastSuccessAt = now;
      metrics.lastSuccess.set(now.getTime() / 1000);
      if (full) this.#ready = true;
    }
    if (full) await this.#refreshCertificates();
    if (newDrift.length) log.warn({ files: newDrift.length }, 'drift recorded');
    try {
      await recordDrift(this.#o.db, this.#o.replicaId, newDrift);
      if (this.#o.leadership?.isLeader && full) await pruneOld(this.#o.db);
    } catch (err) {
      log.warn({ err }, 'could not record drift in the database');
    }
    await this.#writeStatus();
  }

  #observeLatency(r: ProjectResult): void {
    if (r.projectId === null || r.appliedAt === null || r.changedAt === null) return;
    const last = this.#appliedVersion.get(r.projectId) ?? -1;
    if (r.version <= last) return;
    this.#appliedVersion.set(r.projectId, r.version);
    const seconds = (r.appliedAt - r.changedAt.getTime()) / 1000;
    if (seconds >= 0) this.#o.metrics.changeApply.observe(seconds);
  }

  async #refreshCertificates(): Promise<void> {
    try {
      const certs = await loadCertificateExpiry(this.#o.db);
      this.#o.metrics.certificateNotAfter.reset();
      for (const c of certs) this.#o.metrics.certificateNotAfter.set({ domain: c.domain }, c.notAfter.getTime() / 1000);
    } catch (err) {
      this.#o.log.warn({ err }, 'could not read certificate expiry');
    }
  }

  async #writeStatus(): Promise<void> {
    try {
      await upsertReplicaStatus(this.#o.db, {
        replicaId: this.#o.replicaId,
        isLeader: this.#o.leadership?.isLeader ?? false,
        lastSyncAt: this.#lastSyncAt,
        lastSuccessAt: this.#lastSuccessAt,
        lastError: this.#lastError,
        driftCount: this.#drift.size,
        projectsFailed: [...this.#projects.values()].filter((p) => p.lastError).length,
      });
    } catch {
      // Database down: the status row catches up after the next successful pass.
    }
  }
}
