/**
 * What this replica knows after each pass: per-project state, current drift, versions seen,
 * last sync/success/error. It turns pass reports into metrics, Events and database records;
 * /api/v1/status is its snapshot.
 */
import type { ConnectionPool } from '../db/connect.js';
import { loadCertificateExpiry, recordDrift, upsertReplicaStatus, type DriftRecord } from '../db/status.js';
import type { Leadership } from '../db/leader.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../observability/metrics.js';
import type { DriftKind } from '../reconcile/plan.js';
import type { ProjectResult, SyncReport } from '../reconcile/sync-service.js';
import type { TraefikRestart } from '../reconcile/static-restart.js';
import type { EventSink } from './events.js';
import { FULL } from './keys.js';

/** Per-project state shown by /api/v1/status. */
export interface ProjectStatus {
  name: string | null;
  inSync: boolean;
  drift: Array<{ path: string; kind: DriftKind; repaired: boolean }>;
  lastError: string | null;
  lastSyncAt: string | null;
  /** Settings that work but weaken security (a route that does not verify its upstream); absent: none. */
  warnings?: string[];
}

/** A project's state, and the pass (epoch) that last reported it. */
interface ProjectEntry extends ProjectStatus {
  epoch: number;
}

export interface ReplicaStateOptions {
  readonly db: ConnectionPool;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly replicaId: string;
  readonly leadership?: Leadership;
  readonly events?: EventSink;
  /** The shard this replica serves (null: every project), recorded with its status. */
  readonly shard?: string | null;
}

/** The status row is written at most this often (and at stop). */
export const STATUS_EVERY_MS = 5_000;

export class ReplicaState {
  readonly #o: ReplicaStateOptions;
  readonly #projects = new Map<string, ProjectEntry>();
  /** Currently drifted (unrepaired) files by path, with the epoch of the pass that found them. */
  readonly #drift = new Map<string, { kind: DriftKind; epoch: number }>();
  /** Passes recorded so far: what a pass reports is newer than what earlier ones did. */
  #epoch = 0;
  /** Version of each project as of its last good pass (tombstones included). */
  readonly #seenVersion = new Map<string, number>();
  /** Version whose change→file latency was last observed, per project. */
  readonly #measuredVersion = new Map<string, number>();
  readonly #idByName = new Map<string, string>();
  /** Projects whose last pass left an error (kept as a set: a count over all projects per pass is O(projects)). */
  readonly #failed = new Set<string>();
  /** Of those, the ones whose files could not be written (retried once the volume takes writes). */
  readonly #writeFailed = new Set<string>();
  #synced = false;
  /** A config a previous run finished writing was found on the volume at start. */
  #volumeReady = false;
  #lastSyncAt: Date | null = null;
  #lastSuccessAt: Date | null = null;
  #lastError: string | null = null;
  #guardBlocked = false;
  /** Whether Traefik must restart to read the static config on the volume (reconcile/static-restart.ts). */
  #restart: Omit<TraefikRestart, 'changed'> = { needed: false, since: null, reason: null };
  #statusDirty = false;
  #statusAt = 0;
  /** A pass ran since the certificate expiry gauge was last read (a renewal changes it). */
  #certsStale = false;
  #certsReadAt = 0;

  constructor(options: ReplicaStateOptions) {
    this.#o = options;
  }

  /**
   * Passes recorded so far. A full pass takes it when it starts and gives it to
   * {@link recordPass}: what project passes reported meanwhile is newer than the full pass's view.
   */
  get epoch(): number {
    return this.#epoch;
  }

  /** True once a full pass of this replica has written (or verified) the config. */
  get synced(): boolean {
    return this.#synced;
  }

  /** What /readyz reports: {@link synced}, or a finished config found on the volume at start. */
  get serving(): boolean {
    return this.#synced || this.#volumeReady;
  }

  /**
   * At start: the volume holds the config a previous run finished writing, which Traefik serves
   * whatever happens next. Ready at once, so that a restart while the database is down (or a
   * long first pass) does not take Traefik out of its Service.
   */
  markReadyFromVolume(): void {
    this.#volumeReady = true;
  }

  /**
   * Forget every version seen (the database is another server now: its versions may be lower,
   * and a change made there would look applied already). The next full pass learns them again.
   */
  forgetVersions(): void {
    this.#seenVersion.clear();
    this.#measuredVersion.clear();
  }

  /** The version of a project as of its last good pass (-1 if none). */
  seenVersion(projectId: string): number {
    return this.#seenVersion.get(projectId) ?? -1;
  }

  /** Number of projects known (as of the last passes). */
  get projectCount(): number {
    return this.#projects.size;
  }

  /** Projects whose last pass could not write their files (FULL for the static config). */
  get writeFailed(): readonly string[] {
    return [...this.#writeFailed];
  }

  /** A project's id from its name (for file events in its folder). */
  idOf(projectName: string): string | undefined {
    return this.#idByName.get(projectName);
  }

  /** A project's name, if known. */
  nameOf(projectId: string): string | null {
    return this.#projects.get(projectId)?.name ?? null;
  }

  /** A periodic check found nothing to do: the config on disk is current. */
  recordIdle(): void {
    this.#o.metrics.reconcileTotal.inc({ result: 'noop' });
    this.#lastSuccessAt = new Date();
    this.#o.metrics.lastSuccess.set(Date.now() / 1000);
  }

  /** A pass threw (database unreachable, I/O error): nothing was applied. */
  recordError(message: string): void {
    this.#o.metrics.reconcileTotal.inc({ result: 'error' });
    this.#lastError = message;
    this.#lastSyncAt = new Date();
    this.#statusDirty = true;
    this.#o.events?.emit('SyncFailed', `reconcile failed: ${message}`, 'Warning');
  }

  /**
   * Account for a pass: metrics, drift, per-project state, Events, drift records. `fullSince`: a
   * full pass, with the {@link epoch} at its start — it saw every project, so the projects and
   * drift known then that it no longer reports are gone (those project passes reported since are
   * newer, and stay).
   */
  async recordPass(report: SyncReport, fullSince?: number): Promise<void> {
    const { metrics, log } = this.#o;
    const full = fullSince !== undefined;
    const epoch = ++this.#epoch;
    const now = new Date();
    const at = now.toISOString();
    this.#lastSyncAt = now;
    this.#statusDirty = true;
    let wrote = false;
    let failed = false;
    const newDrift: DriftRecord[] = [];
    const knownDrift = new Map([...this.#drift].map(([path, d]) => [path, d.kind]));
    if (full) {
      const seen = new Set([...report.results.map((r) => r.projectId), ...(report.superseded ?? [])]);
      for (const [id, p] of this.#projects) if (!seen.has(id) && p.epoch <= fullSince) this.#forget(id);
      for (const [path, d] of this.#drift) if (d.epoch <= fullSince) this.#drift.delete(path);
    }
    for (const r of report.results) {
      metrics.filesWritten.inc({ op: 'create' }, r.created);
      metrics.filesWritten.inc({ op: 'update' }, r.updated);
      metrics.filesWritten.inc({ op: 'delete' }, r.deleted);
      if (r.created + r.updated + r.deleted > 0) wrote = true;
      if (r.status === 'failed') failed = true;
      this.#observeLatency(r);
      for (const d of r.drift) {
        if (knownDrift.get(d.path) !== d.kind) {
          metrics.driftDetected.inc({ kind: d.kind });
          newDrift.push({ projectId: r.projectId, ...d });
          this.#o.events?.emit('DriftDetected', `${d.path} ${d.kind}${d.repaired ? ' (repaired)' : ''}`, 'Warning');
        }
        if (d.repaired) this.#drift.delete(d.path);
        else this.#drift.set(d.path, { kind: d.kind, epoch });
      }
      this.#updateProject(r, at, epoch, full);
    }
    const byKind: Record<DriftKind, number> = { modified: 0, missing: 0, unexpected: 0 };
    for (const d of this.#drift.values()) byKind[d.kind]++;
    for (const [kind, n] of Object.entries(byKind)) metrics.driftFiles.set({ kind }, n);
    metrics.projectsFailed.set(this.#failed.size);

    this.#recordRestart(report.traefikRestart);
    this.#guardBlocked = report.blocked !== null;
    if (report.blocked) {
      const b = report.blocked;
      metrics.deleteGuardBlocked.inc();
      metrics.reconcileTotal.inc({ result: 'error' });
      this.#lastError = `delete guard: the pass would delete ${b.deletes} of ${b.managed} managed files and ${b.routersRemoved} of ${b.routersManaged} routers (MAX_DELETE_FRACTION ${b.fraction}); nothing was written`;
      this.#o.events?.emit('DeleteGuardBlocked', this.#lastError, 'Warning');
    } else {
      metrics.reconcileTotal.inc({ result: failed ? 'error' : wrote ? 'success' : 'noop' });
      this.#lastError = failed ? 'one or more projects failed (see projects)' : null;
      this.#lastSuccessAt = now;
      metrics.lastSuccess.set(now.getTime() / 1000);
      if (full) this.#synced = true;
    }
    this.#certsStale = true; // the database changed: a certificate may have been renewed or added
    if (full) await this.#refreshCertificates();
    try {
      if (newDrift.length) {
        log.warn({ files: newDrift.length }, 'drift recorded');
        await recordDrift(this.#o.db, this.#o.replicaId, newDrift);
      }
    } catch (err) {
      log.warn({ err }, 'could not record drift in the database');
    }
  }

  #updateProject(r: ProjectResult, at: string, epoch: number, full: boolean): void {
    if (r.projectId === null) {
      // The static config: written by full passes, so a full pass retries it.
      if (r.writeFailed) this.#writeFailed.add(FULL);
      else if (r.status !== 'failed') this.#writeFailed.delete(FULL);
      return;
    }
    // A full pass reads every project: what it read is the version (lower than the one seen before
    // when the server changed; lower than a project pass beside it saw, the catch-up merely passes
    // that project again). Project passes run side by side: the highest wins.
    if (r.status !== 'failed' && r.status !== 'blocked')
      this.#seenVersion.set(r.projectId, full ? r.version : Math.max(r.version, this.seenVersion(r.projectId)));
    const previous = this.#projects.get(r.projectId);
    if (r.projectName === null) {
      this.#forget(r.projectId);
      return;
    }
    this.#idByName.set(r.projectName, r.projectId);
    const lastError = r.problems.length ? r.problems.join('; ') : r.status === 'blocked' ? 'delete guard refused the pass' : null;
    if (previous?.lastError && !lastError) this.#o.events?.emit('SyncRecovered', `project ${r.projectName} is in sync again`);
    if (lastError && previous?.lastError !== lastError)
      this.#o.events?.emit('SyncFailed', `project ${r.projectName}: ${lastError}`, 'Warning');
    if (lastError) this.#failed.add(r.projectId);
    else this.#failed.delete(r.projectId);
    if (r.writeFailed) this.#writeFailed.add(r.projectId);
    else this.#writeFailed.delete(r.projectId);
    const warnings = r.warnings ?? [];
    if (warnings.join('\n') !== (previous?.warnings ?? []).join('\n') && warnings.length)
      this.#o.log.warn({ project: r.projectName, warnings }, 'project written with settings that weaken security');
    this.#projects.set(r.projectId, {
      name: r.projectName,
      ...(warnings.length ? { warnings } : {}),
      inSync: !lastError && r.drift.every((d) => d.repaired),
      drift: r.drift,
      lastError,
      lastSyncAt: at,
      epoch,
    });
  }

  #forget(projectId: string): void {
    const name = this.#projects.get(projectId)?.name;
    if (name && this.#idByName.get(name) === projectId) this.#idByName.delete(name);
    this.#projects.delete(projectId);
    this.#failed.delete(projectId);
    this.#writeFailed.delete(projectId);
  }

  #observeLatency(r: ProjectResult): void {
    if (r.projectId === null || r.appliedAt === null || r.changedAt === null) return;
    if (r.version <= (this.#measuredVersion.get(r.projectId) ?? -1)) return;
    this.#measuredVersion.set(r.projectId, r.version);
    const seconds = (r.appliedAt - r.changedAt.getTime()) / 1000;
    if (seconds >= 0) this.#o.metrics.changeApply.observe(seconds);
  }

  async #refreshCertificates(): Promise<void> {
    this.#certsStale = false;
    this.#certsReadAt = Date.now();
    try {
      const certs = await loadCertificateExpiry(this.#o.db);
      this.#o.metrics.certificateNotAfter.reset();
      for (const c of certs) this.#o.metrics.certificateNotAfter.set({ domain: c.domain }, c.notAfter.getTime() / 1000);
    } catch (err) {
      this.#o.log.warn({ err }, 'could not read certificate expiry');
    }
  }

  /**
   * Upsert this replica's status row when something changed since the last write (called about
   * once a second, and at stop), at most every {@link STATUS_EVERY_MS}: a busy replica does not
   * write it on every pass, nor a fleet of them many times a second. Also refreshes a stale
   * certificate expiry gauge.
   */
  async flushStatus(force = false): Promise<void> {
    // After project passes (a certificate may have been renewed or added) the expiry gauge is read
    // again: at most every 5 s, so a busy replica does not run that query on every pass.
    if (this.#certsStale && Date.now() - this.#certsReadAt >= 5000) await this.#refreshCertificates();
    if (!force && (!this.#statusDirty || Date.now() - this.#statusAt < STATUS_EVERY_MS)) return;
    this.#statusDirty = false;
    this.#statusAt = Date.now();
    try {
      await upsertReplicaStatus(this.#o.db, {
        replicaId: this.#o.replicaId,
        isLeader: this.#o.leadership?.isLeader ?? false,
        lastSyncAt: this.#lastSyncAt,
        lastSuccessAt: this.#lastSuccessAt,
        lastError: this.#lastError,
        driftCount: this.#drift.size,
        projectsFailed: this.#failed.size,
        shard: this.#o.shard ?? null,
      });
    } catch {
      this.#statusDirty = true; // database down: retried at the next flush
    }
  }

  /** Metric, log line and Event when the static config on the volume is not the one Traefik runs. */
  #recordRestart(r: TraefikRestart | undefined): void {
    if (!r) return;
    this.#restart = { needed: r.needed, since: r.since, reason: r.reason };
    this.#o.metrics.traefikRestartNeeded.set(r.needed ? 1 : 0);
    if (!r.changed) return;
    if (r.needed) {
      this.#o.log.warn({ since: r.since }, `Traefik restart needed: ${r.reason}`);
      this.#o.events?.emit('TraefikRestartNeeded', r.reason ?? 'static/traefik.yml changed', 'Warning');
    } else {
      this.#o.log.info('Traefik restart no longer needed: static/traefik.yml is again what Traefik started with');
    }
  }

  /** JSON fields of /api/v1/status that this state owns. */
  snapshot(): Record<string, unknown> {
    return {
      ready: this.serving,
      readySource: this.#synced ? 'sync' : this.#volumeReady ? 'volume' : null,
      lastSyncAt: this.#lastSyncAt?.toISOString() ?? null,
      lastSuccessAt: this.#lastSuccessAt?.toISOString() ?? null,
      lastError: this.#lastError,
      deleteGuardBlocked: this.#guardBlocked,
      traefikRestart: this.#restart,
      drift: [...this.#drift].map(([path, d]) => ({ path, kind: d.kind })),
      projects: Object.fromEntries(
        [...this.#projects]
          .sort(([, a], [, b]) => String(a.name).localeCompare(String(b.name)))
          .map(([id, { epoch: _, ...status }]) => [id, status]),
      ),
    };
  }
}
