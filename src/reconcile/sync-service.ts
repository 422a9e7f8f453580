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
import { listProjectRefs, loadProjects, loadTombstones } from '../db/load.js';
import { loadRecorded, loadResolvers, type Recorded } from '../db/records.js';
import { loadHandoffs, recordHandoffsWritten, type Handoff, type ShardMember } from '../db/shards.js';
import { removeTempFiles } from '../fs/atomic.js';
import { listFiles, readDiskFiles, scanRoot, type DiskFile } from '../fs/scan.js';
import type { Logger } from '../log.js';
import type { ProjectState } from '../model.js';
import { layout, renderProject } from '../render/project.js';
import { renderStatic } from '../render/static.js';
import type { StaticSettings } from '../render/static-settings.js';
import { staticFacts, type StaticFacts } from '../render/static-facts.js';
import { StaticRestartTracker } from './static-restart.js';
import { NameRegistry } from '../render/validate.js';
import { chunks, mapLimit } from '../util.js';
import { Inventory } from './inventory.js';
export type { InventoryEntry } from './inventory.js';
import { Pass, RemovalWindow, type PassContext } from './pass.js';
import type { DriftMode } from './plan.js';
import type { FileChange, ProjectResult, SyncReport, Unit } from './report.js';
import { DiskIndex } from './units.js';
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
  /** Projects written in parallel (default 64: fsyncs overlap, so more in flight is faster). */
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
}

/** A sharded sidecar: its shard and replica id (recorded with a handoff), the handoff timing. */
export interface ShardScope extends ShardMember {
  readonly drainMs: number;
  readonly timeoutMs: number;
}

/** Projects rendered and planned together in a full pass (bounds memory at any size). */
const BATCH = 500;

export class TraefikSyncService {
  readonly #o: SyncServiceOptions;
  readonly #traefikDir: string;
  /** What the static config defines (entry points, operator's resolvers): projects are rendered against it. */
  readonly #static: StaticFacts;
  /** Whether Traefik must restart to read the static config on the volume. */
  readonly #restart = new StaticRestartTracker();
  /** State shared by passes: baseline (what this process last wrote), inventory, router count. */
  readonly #ctx: PassContext;
  #resolvers: string[] | null = null;
  #cleaned = false;
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
    this.#ctx = {
      db: options.db,
      root: options.root,
      driftMode: options.driftMode,
      log: options.log,
      now: options.now ?? Date.now,
      concurrency: options.concurrency ?? 64,
      baseline: new Map(),
      inventory: new Inventory(),
      routerTotal: 0,
      removals: new RemovalWindow(options.guardWindowMs ?? 600_000, options.now ?? Date.now),
    };
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
  async verifyDisk(limit = Infinity): Promise<Set<string | null>> {
    return this.#ctx.inventory.changedOnDisk(this.#o.root, limit);
  }

  /** Full reconcile of every project and the static config. */
  async syncAllProjects(): Promise<SyncReport> {
    const started = this.#ctx.now();
    await this.#cleanOnce();
    return this.#full(started, false);
  }

  /**
   * What a full pass would change, without writing anything: per file, the disk content and the
   * desired content (null = absent). Drift is shown as a difference whatever the drift mode.
   */
  async preview(): Promise<{ changes: FileChange[]; failed: ProjectResult[]; unowned: string[] }> {
    const report = await this.#full(this.#ctx.now(), true);
    return { changes: report.changes, failed: report.results.filter((r) => r.status === 'failed'), unowned: report.unowned };
  }

  async #full(started: number, dry: boolean): Promise<SyncReport & { changes: FileChange[] }> {
    const { db } = this.#o;
    const shard = this.#o.shard?.name ?? null;
    const [projects, resolvers, recorded, tombstones] = await Promise.all([
      listProjectRefs(db, shard),
      // Every shard's: the static config is the same in every shard.
      loadResolvers(db),
      loadRecorded(db, undefined, shard),
      loadTombstones(db),
    ]);
    const movedIn: string[] = [];
    const disk = await scanRoot(this.#o.root);
    if (!dry) {
      // Traefik's file provider never starts when its folder is missing at Traefik's start
      // (docs/traefik-facts.md item 7): it must exist even while there are no projects.
      await mkdir(join(this.#o.root, 'dynamic'), { recursive: true });
      this.#resetInventory(disk);
      this.#restart.atStart(disk.find((f) => f.path === layout.static)?.checksum ?? null);
      this.#resolvers = resolvers;
      await this.#checkAnnounced(disk);
    }
    const index = new DiskIndex(disk);
    const names = new NameRegistry();
    const pass = new Pass(this.#ctx, recorded, dry);
    return this.#owing(pass, async () => {
      const staticDesired = [renderStatic({ ...this.#o.staticSettings, configDir: this.#traefikDir, resolvers })];
      // Pipelined: the next batch is loaded and rendered (CPU) while the previous one's writes
      // and fsyncs are in flight (I/O).
      let writing: Promise<void> = Promise.resolve();
      for (const batch of chunks(projects, BATCH)) {
        const states = await loadProjects(
          db,
          batch.map((p) => p.id),
          this.#o.shard ?? null,
        );
        const units: Unit[] = [];
        for (const [i, s] of states.entries()) {
          if (s.handoffPending) movedIn.push(s.id);
          // Rendering is CPU work: let the previous batch's I/O callbacks run every few projects,
          // or its writes stall (and the disk idles) while this batch renders.
          if (i % 16 === 15) await new Promise((resolve) => setImmediate(resolve));
          const u = this.#unit(s, [], names);
          u.actual.push(...index.take(u.desired, s.id, s.name));
          units.push(u);
        }
        await writing;
        writing = pass.add(units);
      }
      await writing;
      // Held to the end, like removals: dropping an ACME resolver would break routers still on disk.
      await pass.add(
        [
          {
            projectId: null,
            projectName: null,
            desired: staticDesired,
            actual: index.take(staticDesired, null, null),
            problems: [],
            version: 0,
            changedAt: null,
          },
        ],
        { hold: true },
      );
      const { orphans, unowned } = index.leftovers(tombstones);
      const handedOver = await this.#handOver(orphans);
      await pass.add(handedOver.units);
      const concluded = await this.#conclude(pass, started, undefined, !dry);
      if (!dry) await this.#recordWritten(movedIn, concluded.results);
      return { ...concluded, unowned, changes: pass.changes, handoffs: handedOver.handoffs };
    });
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
   * together): a few queries for all of them, one marker rename, one record of the files.
   */
  async syncProjects(projectIds: readonly string[]): Promise<SyncReport> {
    const started = this.#ctx.now();
    await this.#cleanOnce();
    if (this.#resolvers === null) {
      // First pass of this process: learn what is on disk.
      const disk = await scanRoot(this.#o.root);
      this.#resetInventory(disk);
      this.#restart.atStart(disk.find((f) => f.path === layout.static)?.checksum ?? null);
      await this.#checkAnnounced(disk);
    }
    const ids = [...new Set(projectIds)];
    const { db } = this.#o;
    const shard = this.#o.shard?.name ?? null;
    const [states, recorded] = await Promise.all([loadProjects(db, ids, this.#o.shard ?? null), loadRecorded(db, ids, shard)]);
    const byId = new Map(states.map((s) => [s.id, s]));
    const gone = ids.filter((id) => !byId.has(id));
    const tombstones = gone.length ? await loadTombstones(db, gone) : new Map<string, number>();
    const units = await mapLimit(ids, 16, async (id): Promise<Unit> => {
      const state = byId.get(id);
      const paths = new Set(this.#ctx.inventory.pathsOf(id));
      if (state) for (const p of await listFiles(this.#o.root, layout.projectDir(state.name))) paths.add(p);
      const actual = await readDiskFiles(this.#o.root, [...paths]);
      // Outside its folder (certificates, keys) a project's files are those whose header names it:
      // a file that moved to another project (a domain moved) is that project's now.
      const dir = `${layout.projectDir(state?.name ?? '')}/`;
      if (state)
        return this.#unit(
          state,
          actual.filter((f) => f.path.startsWith(dir) || (f.owned && f.projectId === id)),
        );
      const tombstone = tombstones.get(id);
      return {
        projectId: id,
        projectName: null,
        desired: [],
        actual: actual.filter((f) => f.owned && f.projectId === id),
        problems: [],
        version: tombstone ?? 0,
        changedAt: null,
        tombstoned: tombstone !== undefined,
      };
    });
    if (states.some((s) => this.#needsStatic(s))) {
      const resolvers = await loadResolvers(db);
      this.#resolvers = resolvers;
      const s = (await loadRecorded(db, [null])).get(layout.static);
      if (s) recorded.set(layout.static, s);
      units.push({
        projectId: null,
        projectName: null,
        desired: [renderStatic({ ...this.#o.staticSettings, configDir: this.#traefikDir, resolvers })],
        actual: await readDiskFiles(this.#o.root, [layout.static]),
        problems: [],
        version: 0,
        changedAt: null,
      });
    }
    const handedOver = await this.#handOver(units);
    const pass = new Pass(this.#ctx, recorded);
    const staticWritten = units.some((u) => u.desired.some((f) => f.path === layout.static));
    return this.#owing(pass, async () => {
      await pass.add(handedOver.units);
      const concluded = await this.#conclude(pass, started, new Set(ids), staticWritten);
      await this.#recordWritten(
        states.filter((s) => s.handoffPending).map((s) => s.id),
        concluded.results,
      );
      return { ...concluded, unowned: [], handoffs: handedOver.handoffs };
    });
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

  /**
   * Judge the held plans, apply or refuse them, make the pass durable. `scope`: the projects of
   * a partial pass (none: a full pass).
   */
  async #conclude(pass: Pass, started: number, scope?: ReadonlySet<string>, staticWritten = false): Promise<Omit<SyncReport, 'unowned'>> {
    const blocked = pass.guard(this.#o.maxDeleteFraction);
    if (blocked) {
      this.#o.log.error(blocked, 'delete guard: destructive changes refused, nothing removed');
      pass.refuseHeld();
    } else {
      await pass.applyHeld();
    }
    const owed = this.#owed;
    const markerRenamed = await pass.finish(scope, owed > this.#paid && !blocked);
    if (markerRenamed) this.#paid = Math.max(this.#paid, owed);
    // What static/traefik.yml now holds, against what Traefik started with (static-restart.ts).
    const onDisk = staticWritten && !blocked ? await readDiskFiles(this.#o.root, [layout.static]) : null;
    const traefikRestart = onDisk ? this.#restart.observe(onDisk[0]?.checksum ?? null, new Date(this.#ctx.now())) : this.#restart.state();
    return { results: pass.results, blocked, markerRenamed, durationMs: this.#ctx.now() - started, traefikRestart };
  }

  #needsStatic(state: ProjectState): boolean {
    const have = new Set(this.#resolvers ?? []);
    return state.domains.some((d) => d.isActive && d.sslEnabled && d.sslProvider && d.sslProvider !== 'custom' && !have.has(d.sslProvider));
  }

  /** Render a project into a unit; with `names`, also check its names against earlier projects. */
  #unit(state: ProjectState, actual: DiskFile[], names?: NameRegistry): Unit {
    const r = renderProject(state, {
      configDir: this.#traefikDir,
      allowedInternalTargets: this.#o.allowedInternalTargets,
      static: this.#static,
    });
    const clashes = names && r.problems.length === 0 ? names.add(r) : [];
    return {
      projectId: r.projectId,
      projectName: r.projectName,
      desired: r.files,
      actual,
      problems: [...r.problems, ...clashes],
      version: r.version,
      changedAt: state.changedAt,
    };
  }

  /**
   * A crash between a nested write and the marker rename leaves a change Traefik never re-read:
   * when any file under dynamic/ is newer than the marker, the next pass renames it.
   */
  async #checkAnnounced(disk: readonly DiskFile[]): Promise<void> {
    const marker = await stat(join(this.#o.root, layout.marker)).catch(() => null);
    const markerTime = marker?.mtimeMs ?? -1;
    if (disk.some((f) => f.path.startsWith('dynamic/') && f.mtimeMs > markerTime)) this.#owed++;
  }

  async #cleanOnce(): Promise<void> {
    if (this.#cleaned) return;
    const removed = await removeTempFiles(this.#o.root);
    if (removed.length) this.#o.log.warn({ files: removed }, 'removed temp files left by an interrupted write');
    this.#cleaned = true;
  }

  #resetInventory(disk: readonly DiskFile[]): void {
    this.#ctx.routerTotal = this.#ctx.inventory.reset(disk);
  }
}
