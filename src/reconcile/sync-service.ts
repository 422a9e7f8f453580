/**
 * TraefikSyncService (docs/design.md): database desired state → files on the shared volume.
 *
 * One pass = load → render → validate → plan (against disk) → delete guard → atomic writes and
 * removals → fsync directories → rename the top-level marker once → record traefik_configs.
 * Level-based and idempotent: safe to run twice; a project that cannot render keeps its files;
 * a database error aborts the pass before anything on disk changes.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { InternalTarget } from '../address.js';
import type { Queryable } from '../db/connect.js';
import { loadProjects, loadTombstones } from '../db/load.js';
import { countRecorded, loadRecorded, loadResolvers, recordFiles } from '../db/records.js';
import { loadHandoffs, recordHandoffsWritten, type Handoff, type ShardMember } from '../db/shards.js';
import { removeTempFiles } from '../fs/atomic.js';
import { readDiskFiles, type DiskFile } from '../fs/scan.js';
import type { Logger } from '../log.js';
import type { ProjectState } from '../model.js';
import { GLOBAL, ProjectLocks } from '../queue/project-locks.js';
import { layout, renderProject, type RenderedProject } from '../render/project.js';
import { renderStatic } from '../render/static.js';
import type { StaticSettings } from '../render/static-settings.js';
import { staticFacts, type StaticFacts } from '../render/static-facts.js';
import { StaticRestartTracker } from './static-restart.js';
import type { NameRegistry } from '../render/validate.js';
import { FULL_PASS_WRITES, fullPass, type FullPassDeps } from './full-pass.js';
import { Inventory, type Unwatched } from './inventory.js';
export type { InventoryEntry } from './inventory.js';
import { Pass, RemovalWindow, type PassContext } from './pass.js';
import type { DriftMode } from './plan.js';
import { unitFiles } from './project-files.js';
import { goneUnit, totals, type FileChange, type ProjectResult, type SyncReport, type Unit } from './report.js';
export { totals } from './report.js';
export type { FileChange, GuardVerdict, ProjectResult, ProjectOutcome, SyncReport } from './report.js';

export interface SyncServiceOptions {
  readonly db: Queryable;
  /** Config root on this machine (the shared volume). */
  readonly root: string;
  /** Config root as Traefik sees it (certificate paths); defaults to `root`. */
  readonly traefikConfigDir?: string;
  readonly driftMode: DriftMode;
  readonly maxDeleteFraction: number;
  readonly log: Logger;
  /** Projects written side by side (default 16; a full pass's reads are bounded apart: full-pass.ts). */
  readonly concurrency?: number;
  /** Removals within this window add up for the delete guard (default 10 minutes). */
  readonly guardWindowMs?: number;
  /** Upstreams at internal addresses allowed anyway (ALLOWED_INTERNAL_TARGETS; render/targets.ts). */
  readonly allowedInternalTargets?: readonly InternalTarget[];
  /** Clock for timestamps (tests pass a fake). */
  readonly now?: () => number;
  /**
   * Render only this shard's projects (none: every project, whatever its shard), and hand moved
   * projects over (db/shards.ts): record the ones moved in once written here; keep the files of
   * the ones moved away until every live replica of the new shard has written them and `drainMs`
   * passed (or `timeoutMs`).
   */
  readonly shard?: ShardScope | null;
  /** Entry points, API, throttle and overlay of static/traefik.yml (default: the settings' defaults). */
  readonly staticSettings?: StaticSettings;
  /** Providers a middleware `ref` may name (render/providers.ts); undefined: not checked. */
  readonly providers?: ReadonlySet<string>;
  /** Told of every project rendered by a pass (what it will write, or its problems): src/traefik-api/ compares it with Traefik. */
  readonly onRendered?: (project: RenderedProject) => void;
}

/** Reads a project pass has in flight. */
const PROJECT_PASS_IO = 16;
/** How often a long full pass says how far it is (info). */
const PROGRESS_LOG_MS = 10_000;

/** Options of a full pass. */
export interface FullSyncOptions {
  /** Called as batches of projects are done: projects done, projects in all. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** A sharded sidecar: its shard and replica id (recorded with a handoff), the handoff timing. */
export interface ShardScope extends ShardMember {
  readonly drainMs: number;
  readonly timeoutMs: number;
}

export class TraefikSyncService {
  readonly #o: SyncServiceOptions;
  readonly #traefikDir: string;
  /** What the static config defines (entry points, operator's resolvers): projects are rendered against it. */
  readonly #static: StaticFacts;
  /** Whether Traefik must restart to read the static config on the volume. */
  readonly #restart = new StaticRestartTracker();
  #staticAtStartRead = false;
  /** State shared by passes: baseline (what this process last wrote), inventory, removal window. */
  readonly #ctx: PassContext;
  /** Project passes lock their projects; a full pass claims them (it never makes one wait). */
  readonly #locks = new ProjectLocks();
  #resolvers: string[] | null = null;
  #cleaning: Promise<void> | undefined;
  /** A full pass has read the whole volume: the inventory knows every managed file. */
  #fullDone = false;
  /** Until then: rows in traefik_configs, the delete guard's least denominator. */
  #recordedCount = 0;
  /** The first project pass of a process looks for writes a crash left unannounced (a full pass always does). */
  #announceChecked = false;
  #projectsListed = 0;
  /**
   * Marker renames owed: counts passes that may have written under dynamic/ without renaming the
   * marker after (a crash before this process, a pass that threw midway); `#paid` is the count
   * the last rename covered. A pass renames the marker while `#owed > #paid`.
   */
  #owed = 0;
  #paid = 0;

  constructor(options: SyncServiceOptions) {
    this.#o = options;
    this.#traefikDir = options.traefikConfigDir ?? options.root;
    this.#static = staticFacts(options.staticSettings);
    const now = options.now ?? Date.now;
    const inventory = new Inventory();
    this.#ctx = {
      db: options.db,
      root: options.root,
      driftMode: options.driftMode,
      log: options.log,
      now,
      concurrency: options.concurrency ?? 16,
      baseline: inventory.baseline,
      inventory,
      removals: new RemovalWindow(options.guardWindowMs ?? 600_000, now),
      managedFloor: () => (this.#fullDone ? 0 : this.#recordedCount),
      record: (files, removed) => recordFiles(options.db, files, removed),
    };
  }

  /** Projects the last full pass listed (0 before the first). */
  get projectsListed(): number {
    return this.#projectsListed;
  }

  /** Number of files traefik-sync owns on this volume (as of the last pass). */
  get managedFiles(): number {
    return this.#ctx.inventory.size;
  }

  /** Owned files with their project and identity (for drift checks between passes). */
  get inventory(): Inventory {
    return this.#ctx.inventory;
  }

  /** Checksum traefik-sync last wrote (or found correct) at `path`, if any. */
  baselineOf(path: string): string | undefined {
    return this.#ctx.baseline.get(path);
  }

  /**
   * Cheap check between passes: stat owned files (all, or a rotating slice of `limit`) and compare
   * with their identity at the last pass. Returns the owning project ids (null = global) of files
   * that changed or vanished.
   */
  async verifyDisk(limit = Infinity, unwatched?: Unwatched): Promise<Set<string | null>> {
    return this.#ctx.inventory.changedOnDisk(this.#o.root, limit, unwatched);
  }

  /**
   * Full reconcile of every project and the static config. Project passes may run meanwhile
   * (src/reconcile/full-pass.ts): the projects they take are theirs, listed in `superseded`.
   */
  async syncAllProjects(options: FullSyncOptions = {}): Promise<SyncReport> {
    const started = this.#ctx.now();
    await this.#cleanOnce();
    // Traefik's file provider never starts when its folder is missing at Traefik's start
    // (docs/traefik-facts.md item 7): it must exist even while there are no projects.
    await mkdir(join(this.#o.root, 'dynamic'), { recursive: true });
    const claim = this.#locks.newClaim();
    const pass = new Pass(this.#ctx, { claim, concurrency: FULL_PASS_WRITES });
    try {
      return await this.#owing(pass, async () => {
        await this.#staticAtStart();
        const out = await fullPass(this.#deps(this.#progress(options.onProgress)), pass, claim);
        this.#resolvers = out.resolvers;
        if (out.unannounced) this.#owed++;
        const concluded = await this.#conclude(pass, started, true);
        await this.#recordWritten(out.movedIn, concluded.results);
        const report = { ...concluded, unowned: out.unowned, handoffs: out.handoffs };
        this.#fullDone = true;
        this.#announceChecked = true;
        const t = totals(report.results);
        this.#o.log.info(
          {
            projects: report.results.filter((r) => r.projectId !== null).length,
            ...t,
            failed: report.results.filter((r) => r.status === 'failed').length,
            leftToProjectPasses: report.superseded?.length ?? 0,
            blocked: report.blocked !== null,
            ms: report.durationMs,
          },
          'full pass finished',
        );
        return report;
      });
    } finally {
      claim.release();
    }
  }

  /**
   * What a full pass would change, without writing anything: per file, the disk content and the
   * desired content (null = absent). Drift is shown as a difference whatever the drift mode.
   */
  async preview(): Promise<{ changes: FileChange[]; failed: ProjectResult[]; unowned: string[] }> {
    const pass = new Pass(this.#ctx, { dry: true });
    const out = await fullPass(this.#deps(), pass, undefined);
    await pass.finish();
    return { changes: pass.changes, failed: pass.results.filter((r) => r.status === 'failed'), unowned: out.unowned };
  }

  /**
   * Of the units of projects that are not this shard's (files left on this volume), those moved
   * to another shard: kept (left out of the pass) while the handoff waits, removed like a deleted
   * project's (not counted by the delete guard) once released or timed out. The others pass as
   * they are (a project gone for another reason: counted by the delete guard).
   */
  async #handOver(units: Unit[]): Promise<{ units: Unit[]; handoffs: Handoff[] }> {
    const scope = this.#o.shard;
    if (!scope) return { units, handoffs: [] };
    // Units with a name are this shard's projects (one moved in is written, not handed over).
    const ids = units.filter((u) => u.projectId !== null && u.projectName === null && !u.tombstoned).map((u) => u.projectId!);
    const handoffs = await loadHandoffs(this.#o.db, ids, scope);
    const out: Unit[] = [];
    for (const u of units) {
      const h = u.projectId === null ? undefined : handoffs.get(u.projectId);
      if (!h) out.push(u);
      else if (h.state !== 'waiting') out.push({ ...u, tombstoned: true });
    }
    return { units: out, handoffs: [...handoffs.values()] };
  }

  /** Record the projects moved into this shard that this pass wrote (or found right) on the volume. */
  async #recordWritten(movedIn: readonly string[], results: readonly ProjectResult[]): Promise<void> {
    const scope = this.#o.shard;
    if (!scope || movedIn.length === 0) return;
    const ok = new Set(results.filter((r) => r.status === 'updated' || r.status === 'noop').map((r) => r.projectId));
    await recordHandoffsWritten(
      this.#o.db,
      movedIn.filter((id) => ok.has(id)),
      scope.name,
      scope.replicaId,
    );
  }

  /**
   * Reconcile one project (by id). A project that no longer exists has its files removed.
   * The static config is refreshed too when the project uses an ACME resolver it lacks.
   */
  async syncProjectConfigs(projectId: string): Promise<SyncReport> {
    return this.syncProjects([projectId]);
  }

  /**
   * Reconcile several projects in one pass (the controller batches the projects that changed
   * together): a few queries for all of them, one marker rename, one record of the files. The
   * projects are locked for the pass: a full pass running meanwhile leaves them to it.
   */
  async syncProjects(projectIds: readonly string[]): Promise<SyncReport> {
    const started = this.#ctx.now();
    // Temp files are left alone by every pass (unique names): a project pass does not wait for the
    // walk (seconds at 50,000 projects), it only starts it if no full pass has.
    this.#cleanOnce().catch((err: unknown) => this.#o.log.warn({ err }, 'removing temp files failed'));
    const ids = [...new Set(projectIds)];
    const unlock = await this.#locks.lock(ids);
    let unlockStatic: (() => void) | undefined;
    try {
      const { db } = this.#o;
      const shard = this.#o.shard?.name ?? null;
      if (!this.#fullDone && !this.#announceChecked) this.#recordedCount = await countRecorded(db, shard);
      const [states, recorded] = await Promise.all([loadProjects(db, ids, this.#o.shard ?? null), loadRecorded(db, ids, shard)]);
      const byId = new Map(states.map((s) => [s.id, s]));
      const gone = ids.filter((id) => !byId.has(id));
      const tombstones = gone.length ? await loadTombstones(db, gone) : new Map<string, number>();
      const units = ids.map((id): Unit => {
        const state = byId.get(id);
        return state ? this.#unit(state) : goneUnit(id, tombstones.get(id));
      });
      if (states.some((s) => this.#needsStatic(s))) {
        unlockStatic = await this.#locks.lock([GLOBAL]);
        const resolvers = await loadResolvers(db);
        this.#resolvers = resolvers;
        for (const [path, r] of await loadRecorded(db, [null])) recorded.set(path, r);
        units.push({
          projectId: null,
          projectName: null,
          desired: [renderStatic({ ...this.#o.staticSettings, configDir: this.#traefikDir, resolvers })],
          actual: [],
          problems: [],
          version: 0,
          changedAt: null,
        });
      }
      // The files the database recorded for these projects are read too: a deleted project has no
      // name to list its folder by, and until a full pass has read the volume the inventory may not
      // know its files (a deletion right after a start would leave them served).
      const recordedPaths = new Map<string | null, string[]>();
      for (const [path, r] of recorded) recordedPaths.set(r.projectId, [...(recordedPaths.get(r.projectId) ?? []), path]);
      const files = await unitFiles(this.#o.root, this.#ctx.inventory, units, PROJECT_PASS_IO, recordedPaths);
      for (const [i, u] of units.entries()) u.actual.push(...files[i]!);
      if (!this.#announceChecked) {
        // A crash may have left a write unannounced: the first pass of a process renames the marker
        // if one of the files it read is newer (a full pass looks at every file).
        this.#announceChecked = true;
        if (await this.#newerThanMarker(files.flat())) this.#owed++;
      }
      const handedOver = await this.#handOver(units);
      const staticWritten = units.some((u) => u.desired.some((f) => f.path === layout.static));
      if (staticWritten) await this.#staticAtStart();
      const pass = new Pass(this.#ctx);
      return await this.#owing(pass, async () => {
        await pass.add(handedOver.units, recorded);
        const concluded = await this.#conclude(pass, started, staticWritten);
        await this.#recordWritten(
          states.filter((s) => s.handoffPending).map((s) => s.id),
          concluded.results,
        );
        return { ...concluded, unowned: [], handoffs: handedOver.handoffs };
      });
    } finally {
      unlock();
      unlockStatic?.();
    }
  }

  /** Run a pass; if it throws after writing under dynamic/, a marker rename is owed to the next. */
  async #owing<T>(pass: Pass, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (err) {
      if (pass.dynamicChanged) this.#owed++;
      throw err;
    }
  }

  /** The static file as this process found it, before its first write (static-restart.ts). */
  async #staticAtStart(): Promise<void> {
    if (this.#staticAtStartRead) return;
    this.#staticAtStartRead = true;
    this.#restart.atStart((await readDiskFiles(this.#o.root, [layout.static]))[0]?.checksum ?? null);
  }

  /**
   * Judge the held plans, apply or refuse them, make the pass durable; with `staticWritten`, compare
   * the static file now on the volume with the one Traefik started with.
   */
  async #conclude(pass: Pass, started: number, staticWritten = false): Promise<Omit<SyncReport, 'unowned'>> {
    const blocked = pass.guard(this.#o.maxDeleteFraction);
    if (blocked) {
      this.#o.log.error(blocked, 'delete guard: destructive changes refused, nothing removed');
      pass.refuseHeld();
    } else {
      await pass.applyHeld();
    }
    const owed = this.#owed;
    const markerRenamed = await pass.finish(owed > this.#paid && !blocked);
    if (markerRenamed) this.#paid = Math.max(this.#paid, owed);
    const onDisk = staticWritten && !blocked ? await readDiskFiles(this.#o.root, [layout.static]) : null;
    const traefikRestart = onDisk ? this.#restart.observe(onDisk[0]?.checksum ?? null, new Date(this.#ctx.now())) : this.#restart.state();
    return {
      results: pass.results,
      blocked,
      markerRenamed,
      durationMs: this.#ctx.now() - started,
      traefikRestart,
      ...(pass.superseded.length ? { superseded: pass.superseded } : {}),
    };
  }

  #deps(onProgress?: (done: number, total: number) => void): FullPassDeps {
    return {
      ctx: this.#ctx,
      locks: this.#locks,
      shard: this.#o.shard ?? null,
      handOver: (units) => this.#handOver(units),
      unit: (state, names) => this.#unit(state, names),
      listed: (count) => {
        this.#projectsListed = count;
      },
      staticFile: (resolvers) => renderStatic({ ...this.#o.staticSettings, configDir: this.#traefikDir, resolvers }),
      ...(onProgress ? { onProgress } : {}),
    };
  }

  /** Progress of a full pass: to the caller, and to the log every 10 s (a summary, not a line per project). */
  #progress(onProgress?: (done: number, total: number) => void): (done: number, total: number) => void {
    const started = Date.now();
    let logged = started;
    return (done, total) => {
      onProgress?.(done, total);
      const now = Date.now();
      if (now - logged < PROGRESS_LOG_MS || done >= total) return;
      logged = now;
      const perSecond = done / ((now - started) / 1000);
      this.#o.log.info(
        { done, total, perSecond: Math.round(perSecond), secondsLeft: Math.round((total - done) / perSecond) },
        'full pass in progress',
      );
    };
  }

  #needsStatic(state: ProjectState): boolean {
    const have = new Set(this.#resolvers ?? []);
    return state.domains.some((d) => d.isActive && d.sslEnabled && d.sslProvider && d.sslProvider !== 'custom' && !have.has(d.sslProvider));
  }

  /** Render a project into a unit; with `names`, also check its names against earlier projects. */
  #unit(state: ProjectState, names?: NameRegistry): Unit {
    const r = renderProject(state, {
      configDir: this.#traefikDir,
      providers: this.#o.providers,
      allowedInternalTargets: this.#o.allowedInternalTargets,
      static: this.#static,
    });
    this.#o.onRendered?.(r);
    const clashes = names && r.problems.length === 0 ? names.add(r) : [];
    return {
      projectId: r.projectId,
      projectName: r.projectName,
      desired: r.files,
      actual: [],
      problems: [...r.problems, ...clashes],
      ...(r.warnings ? { warnings: r.warnings } : {}),
      version: r.version,
      changedAt: state.changedAt,
    };
  }

  /** A crash between a nested write and the marker rename leaves a change Traefik never re-read. */
  async #newerThanMarker(files: readonly DiskFile[]): Promise<boolean> {
    const marker = await stat(join(this.#o.root, layout.marker)).catch(() => null);
    return files.some((f) => f.path.startsWith('dynamic/') && f.mtimeMs > (marker?.mtimeMs ?? -1));
  }

  /** Remove the temp files a crash left, once per process (a walk of the whole volume). */
  #cleanOnce(): Promise<void> {
    this.#cleaning ??= removeTempFiles(this.#o.root).then(
      (removed) => {
        if (removed.length) this.#o.log.warn({ files: removed }, 'removed temp files left by an interrupted write');
      },
      (err: unknown) => {
        this.#cleaning = undefined; // the next pass tries again
        throw err;
      },
    );
    return this.#cleaning;
  }
}
