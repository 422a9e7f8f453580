/**
 * TraefikSyncService (SEED.md): database desired state → files on the shared volume.
 *
 * One pass = load → render → validate → plan (against disk) → delete guard → atomic writes and
 * removals → fsync directories → rename the top-level marker once → record traefik_configs.
 * Level-based and idempotent: safe to run twice; a project that cannot render keeps its files;
 * a database error aborts the pass before anything on disk changes.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Queryable } from '../db/connect.js';
import { loadProjects, loadTombstones } from '../db/load.js';
import { loadRecorded, loadResolvers, recordFiles, type Recorded } from '../db/records.js';
import { AtomicWriter, removeTempFiles } from '../fs/atomic.js';
import { listFiles, readDiskFiles, scanRoot, type DiskFile } from '../fs/scan.js';
import type { Logger } from '../log.js';
import type { RenderedFile } from '../model.js';
import { layout, renderProject, type RenderedProject } from '../render/project.js';
import { renderStatic } from '../render/static.js';
import { crossCheck } from '../render/validate.js';
import { messageOf } from '../errors.js';
import { mapLimit } from '../util.js';
import { Inventory } from './inventory.js';
export type { InventoryEntry } from './inventory.js';
import { deletions, plan, routerCount, type DriftMode, type Plan } from './plan.js';
import { guardVerdict } from './guard.js';
import { result, type FileChange, type GuardVerdict, type ProjectResult, type SyncReport, type Unit } from './report.js';
import { assignFiles } from './units.js';
export { totals } from './report.js';
export type { FileChange, GuardVerdict, ProjectResult, ProjectStatus, SyncReport } from './report.js';

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
  /** Clock for timestamps (tests pass a fake). */
  readonly now?: () => number;
}

export class TraefikSyncService {
  readonly #o: SyncServiceOptions;
  readonly #traefikDir: string;
  readonly #now: () => number;
  /** What this process last wrote at each path (checksum); beats traefik_configs, which is shared. */
  readonly #baseline = new Map<string, string>();
  /** Owned files on disk: path → owning project and the identity seen last (for cheap drift checks). */
  readonly #inventory = new Inventory();
  #resolvers: string[] | null = null;
  /** Routers in owned files at the last full scan (the delete guard's denominator). */
  #routerTotal = 0;
  #cleaned = false;

  constructor(options: SyncServiceOptions) {
    this.#o = options;
    this.#traefikDir = options.traefikConfigDir ?? options.root;
    this.#now = options.now ?? Date.now;
  }

  /** Number of files traefik-sync owns on this volume (as of the last pass). */
  get managedFiles(): number {
    return this.#inventory.size;
  }

  /** Owned files with their project and identity (for drift checks between passes). */
  get inventory(): Inventory {
    return this.#inventory;
  }

  /** Checksum traefik-sync last wrote (or found correct) at `path`, if any. */
  baselineOf(path: string): string | undefined {
    return this.#baseline.get(path);
  }

  /**
   * Cheap check between passes: stat every owned file and compare with its identity at the last
   * pass. Returns the owning project ids (null = global) of files that changed or vanished.
   */
  async verifyDisk(): Promise<Set<string | null>> {
    const changed = new Set<string | null>();
    const entries = [...this.#inventory];
    await mapLimit(entries, 64, async ([path, e]) => {
      const st = await stat(join(this.#o.root, path)).catch(() => null);
      if (!st || st.ino !== e.ino || st.size !== e.size || st.mtimeMs !== e.mtimeMs) changed.add(e.projectId);
    });
    return changed;
  }

  /** Full reconcile of every project and the static config. */
  async syncAllProjects(): Promise<SyncReport> {
    const started = this.#now();
    await this.#cleanOnce();
    const { units, recorded, unowned } = await this.#allUnits();
    const report = await this.#run(units, recorded, started, true);
    return { ...report, unowned };
  }

  /**
   * What a full pass would change, without writing anything: per file, the disk content and the
   * desired content (null = absent). Drift is shown as a difference whatever the drift mode.
   */
  async preview(): Promise<{ changes: FileChange[]; failed: ProjectResult[]; unowned: string[] }> {
    const { units, recorded, unowned } = await this.#allUnits();
    const changes: FileChange[] = [];
    const failed: ProjectResult[] = [];
    const baseline = new Map<string, string>([...recorded].map(([path, rec]) => [path, rec.checksum]));
    for (const [path, checksum] of this.#baseline) baseline.set(path, checksum);
    for (const u of units) {
      const p = u.problems.length ? undefined : plan({ desired: u.desired, actual: u.actual, baseline, driftMode: 'repair' });
      if (!p || p.conflicts.length) {
        failed.push(result({ ...u, problems: [...u.problems, ...(p?.conflicts ?? []).map((c) => `${c}: a file not written by traefik-sync is in the way`)] }, 'failed', undefined));
        continue;
      }
      const onDisk = new Set(u.actual.map((f) => f.path));
      for (const a of p.actions) {
        const path = a.op === 'delete' ? a.path : a.file.path;
        // Disk text is read again here: passes keep only checksums, not file contents.
        const before = onDisk.has(path) ? await readFile(join(this.#o.root, path), 'utf8').catch(() => null) : null;
        changes.push({ projectName: u.projectName, path, op: a.op, before, after: a.op === 'delete' ? null : a.file.content });
      }
    }
    return { changes, failed, unowned };
  }

  async #allUnits(): Promise<{ units: Unit[]; recorded: Map<string, Recorded>; unowned: string[] }> {
    const [states, resolvers, recorded, tombstones] = await Promise.all([
      loadProjects(this.#o.db), loadResolvers(this.#o.db), loadRecorded(this.#o.db), loadTombstones(this.#o.db),
    ]);
    const disk = await scanRoot(this.#o.root);
    this.#resetInventory(disk);

    const rendered = states.map((s) => renderProject(s, { configDir: this.#traefikDir }));
    const clashes = crossCheck(rendered);
    this.#resolvers = resolvers;
    const units: Unit[] = [{
      projectId: null, projectName: null, desired: [renderStatic({ configDir: this.#traefikDir, resolvers })],
      actual: [], problems: [], version: 0, changedAt: null,
    }];
    rendered.forEach((r, i) => units.push(this.#unit(r, states[i]!.changedAt, [], clashes.get(r.projectId) ?? [])));

    const unowned = assignFiles(units, disk, tombstones);
    return { units, recorded, unowned };
  }

  /**
   * Reconcile one project (by id). A project that no longer exists has its files removed.
   * The static config is refreshed too when the project uses an ACME resolver it lacks.
   */
  async syncProjectConfigs(projectId: string): Promise<SyncReport> {
    const started = this.#now();
    await this.#cleanOnce();
    if (this.#resolvers === null) {
      // First pass of this process: learn what is on disk.
      this.#resetInventory(await scanRoot(this.#o.root));
    }
    const [states, recorded] = await Promise.all([loadProjects(this.#o.db, [projectId]), loadRecorded(this.#o.db, projectId)]);
    const state = states[0];
    const paths = new Set<string>();
    for (const path of this.#inventory.pathsOf(projectId)) paths.add(path);
    if (state) for (const p of await listFiles(this.#o.root, layout.projectDir(state.name))) paths.add(p);
    const actual = await readDiskFiles(this.#o.root, [...paths]);
    const units: Unit[] = [];
    if (state) {
      const r = renderProject(state, { configDir: this.#traefikDir });
      units.push(this.#unit(r, state.changedAt, actual, []));
      if (this.#needsStatic(state)) {
        const resolvers = await loadResolvers(this.#o.db);
        this.#resolvers = resolvers;
        const staticActual = await readDiskFiles(this.#o.root, [layout.static]);
        units.push({ projectId: null, projectName: null, desired: [renderStatic({ configDir: this.#traefikDir, resolvers })], actual: staticActual, problems: [], version: 0, changedAt: null });
        const rec = await loadRecorded(this.#o.db);
        const s = rec.get(layout.static);
        if (s) recorded.set(layout.static, s);
      }
    } else {
      const tombstone = (await loadTombstones(this.#o.db, [projectId])).get(projectId);
      units.push({ projectId, projectName: null, desired: [], actual: actual.filter((f) => f.owned && f.projectId === projectId), problems: [], version: tombstone ?? 0, changedAt: null, tombstoned: tombstone !== undefined });
    }
    return { ...(await this.#run(units, recorded, started, false)), unowned: [] };
  }

  #needsStatic(state: { domains: readonly { sslEnabled: boolean; sslProvider: string | null; isActive: boolean }[] }): boolean {
    const have = new Set(this.#resolvers ?? []);
    return state.domains.some((d) => d.isActive && d.sslEnabled && d.sslProvider && d.sslProvider !== 'custom' && !have.has(d.sslProvider));
  }

  #unit(r: RenderedProject, changedAt: Date | null, actual: DiskFile[], extraProblems: string[]): Unit {
    return {
      projectId: r.projectId, projectName: r.projectName, desired: r.files, actual,
      problems: [...r.problems, ...extraProblems], version: r.version, changedAt,
    };
  }

  async #cleanOnce(): Promise<void> {
    if (this.#cleaned) return;
    const removed = await removeTempFiles(this.#o.root);
    if (removed.length) this.#o.log.warn({ files: removed }, 'removed temp files left by an interrupted write');
    this.#cleaned = true;
  }

  #resetInventory(disk: readonly DiskFile[]): void {
    this.#inventory.clear();
    this.#routerTotal = 0;
    for (const f of disk) {
      if (!f.owned) continue;
      this.#inventory.set(f.path, { projectId: f.projectId, ino: f.ino, size: f.size, mtimeMs: f.mtimeMs });
      this.#routerTotal += f.routers;
    }
  }

  async #run(units: Unit[], recorded: Map<string, Recorded>, started: number, full: boolean): Promise<Omit<SyncReport, 'unowned'>> {
    const { log } = this.#o;
    const baselineOf = (path: string) => this.#baseline.get(path) ?? recorded.get(path)?.checksum;
    const plans = new Map<Unit, Plan>();
    for (const u of units) {
      if (u.problems.length) continue;
      const baseline = new Map<string, string>();
      for (const f of [...u.desired, ...u.actual]) {
        const b = baselineOf(f.path);
        if (b) baseline.set(f.path, b);
      }
      const p = plan({ desired: u.desired, actual: u.actual, baseline, driftMode: this.#o.driftMode });
      if (p.conflicts.length) {
        u.problems.push(...p.conflicts.map((c) => `${c}: a file not written by traefik-sync is in the way (no generated-by header); move it away`));
        continue;
      }
      plans.set(u, p);
    }

    const verdict = this.#guard(plans);
    if (verdict) {
      log.error(verdict, 'delete guard: pass refused, nothing written');
      const results = units.map((u) => result(u, plans.has(u) && deletions(plans.get(u)!) > 0 ? 'blocked' : u.problems.length ? 'failed' : 'noop', plans.get(u)));
      return { results, blocked: verdict, markerRenamed: false, durationMs: this.#now() - started };
    }

    const writer = new AtomicWriter(this.#o.root);
    let dynamicChanged = false;
    const results = await mapLimit(units, this.#o.concurrency ?? 64, async (u) => {
      const p = plans.get(u);
      if (!p) {
        if (u.problems.length) log.warn({ project: u.projectName, problems: u.problems }, 'project not written: keeping its last good files');
        return result(u, u.problems.length ? 'failed' : 'noop', undefined);
      }
      const counts = { create: 0, update: 0, delete: 0 };
      let appliedAt: number | null = null;
      const before = new Map(u.actual.map((f) => [f.path, f.routers]));
      try {
        for (const a of p.actions) {
          const path = a.op === 'delete' ? a.path : a.file.path;
          this.#routerTotal += (a.op === 'delete' ? 0 : routerCount(a.file.content)) - (before.get(path) ?? 0);
          if (a.op === 'delete') {
            await writer.remove(a.path);
            this.#baseline.delete(a.path);
            this.#inventory.delete(a.path);
            if (a.path.startsWith('dynamic/')) dynamicChanged = true;
          } else {
            const id = await writer.write(a.file.path, a.file.content, a.file.mode);
            this.#baseline.set(a.file.path, a.file.checksum);
            this.#inventory.set(a.file.path, { projectId: a.file.projectId, ...id });
            if (a.file.path.startsWith('dynamic/')) dynamicChanged = true;
          }
          counts[a.op]++;
          appliedAt = this.#now();
          log.debug({ project: u.projectName, file: a.op === 'delete' ? a.path : a.file.path, op: a.op }, 'file written');
        }
      } catch (err) {
        const msg = messageOf(err);
        log.error({ project: u.projectName, err }, 'writing project files failed');
        return { ...result(u, 'failed', p), problems: [`write failed: ${msg}`], created: counts.create, updated: counts.update, deleted: counts.delete, appliedAt };
      }
      // Files already right on disk are what we would have written.
      for (const f of u.desired) if (!this.#baseline.has(f.path)) this.#baseline.set(f.path, f.checksum);
      const touched = new Set(p.actions.map((a) => (a.op === 'delete' ? a.path : a.file.path)));
      for (const f of u.actual) {
        if (f.owned && !touched.has(f.path)) this.#inventory.set(f.path, { projectId: f.projectId, ino: f.ino, size: f.size, mtimeMs: f.mtimeMs });
      }
      const changed = counts.create + counts.update + counts.delete > 0;
      return { ...result(u, changed ? 'updated' : 'noop', p), created: counts.create, updated: counts.update, deleted: counts.delete, appliedAt };
    });

    await writer.flush();
    let markerRenamed = false;
    if (dynamicChanged) {
      // Traefik watches only the top level of dynamic/: one rename there makes it re-read the tree.
      await writer.write(layout.marker, `${new Date(this.#now()).toISOString()}\n`);
      await writer.flush();
      markerRenamed = true;
    }

    await this.#record(units, results, recorded, full);
    const durationMs = this.#now() - started;
    for (const r of results) {
      if (r.status === 'updated') log.info({ project: r.projectName, created: r.created, updated: r.updated, deleted: r.deleted, durationMs }, 'project synced');
      for (const d of r.drift) log.warn({ project: r.projectName, file: d.path, kind: d.kind, repaired: d.repaired }, 'drift detected');
      if (r.unowned.length) log.warn({ project: r.projectName, files: r.unowned }, 'files without the traefik-sync header left alone');
    }
    return { results, blocked: null, markerRenamed, durationMs };
  }

  /** The delete guard (see guard.ts), with this volume's counts. */
  #guard(plans: Map<Unit, Plan>): GuardVerdict | null {
    return guardVerdict(plans, this.#o.maxDeleteFraction, this.#inventory.size, this.#routerTotal);
  }

  /** Bring traefik_configs in line with what was written (failed projects keep their rows). */
  async #record(units: Unit[], results: ProjectResult[], recorded: Map<string, Recorded>, full: boolean): Promise<void> {
    const upserts: RenderedFile[] = [];
    const keep = new Set<string>();
    const handled = new Set<string | null>();
    results.forEach((r, i) => {
      const u = units[i]!;
      if (r.status === 'failed' || r.status === 'blocked') {
        for (const [path, rec] of recorded) if (rec.projectId === u.projectId) keep.add(path);
        return;
      }
      handled.add(u.projectId);
      for (const f of u.desired) {
        keep.add(f.path);
        if (recorded.get(f.path)?.checksum !== f.checksum) upserts.push(f);
      }
    });
    const removed = [...recorded.keys()].filter((path) => !keep.has(path) && (full || handled.has(recorded.get(path)!.projectId)));
    if (upserts.length || removed.length) await recordFiles(this.#o.db, upserts, removed);
  }
}
