/**
 * One reconcile pass, fed unit by unit (a full pass streams projects in batches so memory stays
 * bounded). Each unit is planned against disk; a plan that removes nothing (no file deleted, no
 * router dropped) is applied at once and forgotten; a destructive one is held until every unit is
 * planned, so the delete guard judges the pass as a whole before anything is removed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { recordFiles, type Recorded } from '../db/records.js';
import { messageOf } from '../errors.js';
import { AtomicWriter } from '../fs/atomic.js';
import type { Logger } from '../log.js';
import type { RenderedFile } from '../model.js';
import { layout } from '../render/project.js';
import { mapLimit } from '../util.js';
import type { Queryable } from '../db/connect.js';
import { guardVerdict, type RecentRemovals } from './guard.js';
import type { Inventory } from './inventory.js';
import { deletions, netDeletions, plan, routerCount, routersRemoved, type DriftMode, type Plan } from './plan.js';
import { result, type FileChange, type GuardVerdict, type ProjectResult, type Unit } from './report.js';

/** Write errors of the volume as a whole (full, read-only, over quota): they end when it takes writes again. */
const VOLUME_ERRORS = new Set(['ENOSPC', 'EROFS', 'EDQUOT']);

/** What a pass needs from its service: shared state that outlives the pass. */
export interface PassContext {
  readonly db: Queryable;
  readonly root: string;
  readonly driftMode: DriftMode;
  readonly log: Logger;
  readonly now: () => number;
  readonly concurrency: number;
  /** What this process last wrote at each path (checksum). */
  readonly baseline: Map<string, string>;
  readonly inventory: Inventory;
  /** Routers in owned files on this volume; adjusted as files change. */
  routerTotal: number;
  /** Removals applied recently (not for deleted projects), for the delete guard's window. */
  readonly removals: RemovalWindow;
}

/**
 * Removals applied within the last `windowMs`: the delete guard adds them to each pass, so a mass
 * removal cannot get through as many small passes (one per project).
 */
export class RemovalWindow {
  readonly #entries: Array<{ at: number; files: number; routers: number }> = [];
  constructor(
    readonly windowMs: number,
    readonly now: () => number,
  ) {}

  add(files: number, routers: number): void {
    if (files || routers) this.#entries.push({ at: this.now(), files, routers });
  }

  /** Sum over the window. */
  recent(): RecentRemovals {
    const since = this.now() - this.windowMs;
    while (this.#entries.length && this.#entries[0]!.at < since) this.#entries.shift();
    return this.#entries.reduce((t, e) => ({ files: t.files + e.files, routers: t.routers + e.routers }), { files: 0, routers: 0 });
  }
}

export class Pass {
  readonly #c: PassContext;
  readonly #recorded: ReadonlyMap<string, Recorded>;
  readonly #dry: boolean;
  readonly #writer: AtomicWriter;
  readonly #held: Array<{ unit: Unit; plan: Plan }> = [];
  readonly #desired = new Set<string>();
  readonly #keepRecorded = new Set<string | null>();
  readonly #upserts: RenderedFile[] = [];
  readonly results: ProjectResult[] = [];
  /** Planned changes (dry passes only). */
  readonly changes: FileChange[] = [];
  #dynamicChanged = false;
  /** Paths this pass wrote: their inventory entry is the write's, not what a unit read before. */
  readonly #written = new Set<string>();
  /**
   * Managed files and routers as the pass began: the delete guard's denominators. Files this pass
   * creates must not dilute them (a wrong database with as many projects would otherwise pass).
   */
  readonly #managedAtStart: number;
  readonly #routersAtStart: number;

  constructor(context: PassContext, recorded: ReadonlyMap<string, Recorded>, dry = false) {
    this.#c = context;
    this.#recorded = recorded;
    this.#dry = dry;
    this.#writer = new AtomicWriter(context.root);
    this.#managedAtStart = context.inventory.size;
    this.#routersAtStart = context.routerTotal;
  }

  /** Whether this pass wrote or removed anything under dynamic/ (so far). */
  get dynamicChanged(): boolean {
    return this.#dynamicChanged;
  }

  /** Plan `units`; apply the plans that remove nothing, hold the others (`hold`: hold all). */
  async add(units: readonly Unit[], options: { hold?: boolean } = {}): Promise<void> {
    const apply: Array<{ unit: Unit; plan: Plan }> = [];
    for (const u of units) {
      for (const f of u.desired) this.#desired.add(f.path);
      const p = u.problems.length ? undefined : this.#plan(u);
      if (!p) {
        this.#keepRecorded.add(u.projectId);
        if (u.problems.length)
          this.#c.log.warn({ project: u.projectName, problems: u.problems }, 'project not written: keeping its last good files');
        this.results.push(result(u, u.problems.length ? 'failed' : 'noop', undefined));
      } else if (this.#dry) {
        await this.#describe(u, p);
      } else if (!options.hold && deletions(p) === 0 && routersRemoved(p, u.actual) === 0) {
        apply.push({ unit: u, plan: p });
      } else {
        this.#held.push({ unit: u, plan: p });
      }
    }
    await this.#apply(apply);
    await this.#flushUpserts();
  }

  /** Record what was written so far (per batch, so file contents are not kept to the end). */
  async #flushUpserts(): Promise<void> {
    if (this.#upserts.length === 0) return;
    await recordFiles(this.#c.db, this.#upserts.splice(0), []);
  }

  #plan(u: Unit): Plan | undefined {
    const recorded = new Map<string, string>();
    for (const f of u.desired) {
      const r = this.#recorded.get(f.path);
      if (r) recorded.set(f.path, r.checksum);
    }
    const p = plan({
      desired: u.desired,
      actual: u.actual,
      written: this.#c.baseline,
      recorded,
      driftMode: this.#dry ? 'repair' : this.#c.driftMode,
    });
    if (p.conflicts.length === 0) return p;
    const unreadable = new Map(u.actual.filter((f) => f.unreadable).map((f) => [f.path, f.unreadable]));
    u.problems.push(
      ...p.conflicts.map((c) =>
        unreadable.has(c)
          ? `${c}: cannot be read (${unreadable.get(c)}), so it may not be ours and is in the way; give the controller's user read access or move it away`
          : `${c}: a file not written by traefik-sync is in the way (no generated-by header); move it away`,
      ),
    );
    return undefined;
  }

  async #describe(u: Unit, p: Plan): Promise<void> {
    const onDisk = new Map(u.actual.map((f) => [f.path, f]));
    for (const a of p.actions) {
      const path = a.op === 'delete' ? a.path : a.file.path;
      // Passes keep checksums, not file texts: read the disk text again for the diff.
      const before = onDisk.has(path) ? await readFile(join(this.#c.root, path), 'utf8').catch(() => null) : null;
      const diskMode = onDisk.get(path)?.mode;
      const change: FileChange = { projectName: u.projectName, path, op: a.op, before, after: a.op === 'delete' ? null : a.file.content };
      this.changes.push(
        a.op === 'update' && diskMode !== undefined && diskMode !== a.file.mode
          ? { ...change, mode: { before: diskMode, after: a.file.mode } }
          : change,
      );
    }
    this.results.push(result(u, 'noop', p));
  }

  /** The delete guard over the held plans (null: the pass may proceed). */
  guard(fraction: number): GuardVerdict | null {
    return guardVerdict(
      new Map(this.#held.map((h) => [h.unit, h.plan])),
      fraction,
      this.#managedAtStart,
      this.#routersAtStart,
      this.#c.removals.recent(),
    );
  }

  /** Refuse the held plans: their projects keep their files and are reported as blocked. */
  refuseHeld(): void {
    for (const { unit, plan: p } of this.#held) {
      this.#keepRecorded.add(unit.projectId);
      this.results.push(result(unit, 'blocked', p));
    }
    this.#held.length = 0;
  }

  /** Apply the held plans. A file another unit of this pass wants is never deleted. */
  async applyHeld(): Promise<void> {
    const held = this.#held.splice(0).map(({ unit, plan: p }) => ({
      unit,
      plan: {
        ...p,
        actions: p.actions.filter((a) => a.op !== 'delete' || !this.#desired.has(a.path) || unit.desired.some((f) => f.path === a.path)),
      },
    }));
    await this.#apply(held);
  }

  async #apply(items: ReadonlyArray<{ unit: Unit; plan: Plan }>): Promise<void> {
    const done = await mapLimit(items, this.#c.concurrency, ({ unit, plan: p }) => this.#applyUnit(unit, p));
    this.results.push(...done);
  }

  async #applyUnit(u: Unit, p: Plan): Promise<ProjectResult> {
    const { baseline, inventory, log } = this.#c;
    const counts = { create: 0, update: 0, delete: 0 };
    let appliedAt: number | null = null;
    const routersBefore = new Map(u.actual.map((f) => [f.path, f.routers]));
    try {
      for (const a of p.actions) {
        const path = a.op === 'delete' ? a.path : a.file.path;
        if (a.op === 'delete') {
          await this.#writer.remove(path);
          baseline.delete(path);
          inventory.delete(path);
        } else {
          const id = await this.#writer.write(path, a.file.content, a.file.mode);
          baseline.set(path, a.file.checksum);
          inventory.set(path, { projectId: a.file.projectId, ...id, mode: a.file.mode });
        }
        this.#written.add(path);
        // Counted once done: a write that fails (and is retried) must not add its routers again.
        this.#c.routerTotal += (a.op === 'delete' ? 0 : routerCount(a.file.content)) - (routersBefore.get(path) ?? 0);
        if (path.startsWith('dynamic/')) this.#dynamicChanged = true;
        counts[a.op]++;
        appliedAt = this.#c.now();
        log.debug({ project: u.projectName, file: path, op: a.op }, 'file written');
      }
    } catch (err) {
      log.error({ project: u.projectName, err }, 'writing project files failed');
      this.#keepRecorded.add(u.projectId);
      return {
        ...result(u, 'failed', p),
        problems: [`write failed: ${messageOf(err)}`],
        writeFailed: VOLUME_ERRORS.has((err as NodeJS.ErrnoException).code ?? ''),
        created: counts.create,
        updated: counts.update,
        deleted: counts.delete,
        appliedAt,
      };
    }
    // Files found right on disk are what we would have written.
    const touched = new Set(p.actions.map((a) => (a.op === 'delete' ? a.path : a.file.path)));
    for (const f of u.desired) {
      if (!baseline.has(f.path)) baseline.set(f.path, f.checksum);
      if (this.#recorded.get(f.path)?.checksum !== f.checksum) this.#upserts.push(f);
    }
    for (const f of u.actual) {
      // Not a file another unit of this pass wrote (a certificate whose domain moved project).
      if (f.owned && !touched.has(f.path) && !this.#written.has(f.path))
        inventory.set(f.path, { projectId: f.projectId, ino: f.ino, size: f.size, mtimeMs: f.mtimeMs, mode: f.mode });
    }
    if (!u.tombstoned) this.#c.removals.add(netDeletions(p), routersRemoved(p, u.actual));
    const changed = counts.create + counts.update + counts.delete > 0;
    if (changed)
      log.info({ project: u.projectName, created: counts.create, updated: counts.update, deleted: counts.delete }, 'project synced');
    return {
      ...result(u, changed ? 'updated' : 'noop', p),
      created: counts.create,
      updated: counts.update,
      deleted: counts.delete,
      appliedAt,
    };
  }

  /**
   * Make the pass durable and visible: fsync directories, rename the marker once if anything
   * under dynamic/ changed (or `announce`), record traefik_configs: rows of paths no unit wants
   * go too (of every project in a full pass, or of the projects in `scope`).
   */
  async finish(scope?: ReadonlySet<string | null>, announce = false): Promise<boolean> {
    if (this.#dry) {
      // A preview changes nothing (no marker, no records) and repairs nothing: its diff is the report.
      this.#logFindings(false);
      return false;
    }
    await this.#writer.flush();
    let markerRenamed = false;
    // `announce`: rename the marker even when this pass wrote nothing under dynamic/ (the first
    // pass of a process: a crash may have left nested writes that Traefik was never told about).
    if (this.#dynamicChanged || announce) {
      // Traefik watches only the top level of dynamic/: one rename there makes it re-read the tree.
      // The files it points at are durable already; the marker need not be (its content is
      // unused, and a marker lost in a crash is renamed again at the next start: see
      // TraefikSyncService#checkAnnounced).
      await this.#writer.write(layout.marker, `${new Date(this.#c.now()).toISOString()}\n`, 0o644, { durable: false });
      markerRenamed = true;
    }
    const removed = [...this.#recorded]
      .filter(([path, rec]) => !this.#desired.has(path) && !this.#keepRecorded.has(rec.projectId) && (!scope || scope.has(rec.projectId)))
      .map(([path]) => path);
    await this.#flushUpserts();
    if (removed.length) await recordFiles(this.#c.db, [], removed);
    this.#logFindings(true);
    return markerRenamed;
  }

  /** Log the drift (`drift`: not for a preview) and the foreign files this pass found. */
  #logFindings(drift: boolean): void {
    for (const r of this.results) {
      if (drift)
        for (const d of r.drift)
          this.#c.log.warn({ project: r.projectName, file: d.path, kind: d.kind, repaired: d.repaired }, 'drift detected');
      if (r.unowned.length)
        this.#c.log.warn({ project: r.projectName, files: r.unowned }, 'files without the traefik-sync header left alone');
    }
  }
}
