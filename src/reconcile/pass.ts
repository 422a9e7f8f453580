/**
 * One reconcile pass, fed unit by unit (a full pass streams projects in batches so memory stays
 * bounded). Each unit is planned against disk; a plan that removes nothing (no file deleted, no
 * router dropped) is applied at once and forgotten; a destructive one is held until every unit is
 * planned, so the delete guard judges the pass as a whole before anything is removed.
 *
 * A full pass runs beside project passes: it holds its projects by a {@link Claim}, and a project
 * that a project pass took over is left to that pass (reported in {@link Pass.superseded}), its
 * plan dropped, also from the delete guard's count. Each unit is written, and each batch recorded,
 * with its projects pinned (see src/queue/project-locks.ts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Recorded } from '../db/records.js';
import { messageOf } from '../errors.js';
import { AtomicWriter } from '../fs/atomic.js';
import { readDiskFile } from '../fs/scan.js';
import type { RenderedFile } from '../model.js';
import { layout } from '../render/project.js';
import { GLOBAL, type Claim } from '../queue/project-locks.js';
import { mapLimit } from '../util.js';
import { guardVerdict } from './guard.js';
import { deletions, netDeletions, plan, routerCount, routersRemoved, type Plan } from './plan.js';
import type { PassContext } from './pass-context.js';
import { result, type FileChange, type GuardVerdict, type ProjectResult, type Unit } from './report.js';
export { RemovalWindow, type PassContext } from './pass-context.js';

/** Write errors of the volume as a whole (full, read-only, over quota): they end when it takes writes again. */
const VOLUME_ERRORS = new Set(['ENOSPC', 'EROFS', 'EDQUOT']);

export interface PassOptions {
  /** Plan only (a preview): nothing is written, repaired or recorded. */
  readonly dry?: boolean;
  /** A full pass's hold on its projects; absent for a project pass (it locks its projects for the whole pass). */
  readonly claim?: Claim;
  /** Units written side by side (default: the context's). */
  readonly concurrency?: number;
}

/** The lock key of a unit. */
export const keyOf = (u: { readonly projectId: string | null }): string => u.projectId ?? GLOBAL;

/** Rows to write to traefik_configs, with the unit they belong to. */
interface PendingRecords {
  readonly key: string;
  readonly upserts: RenderedFile[];
  readonly removed: string[];
}

export class Pass {
  readonly #c: PassContext;
  readonly #dry: boolean;
  readonly #claim: Claim | undefined;
  readonly #concurrency: number;
  readonly #writer: AtomicWriter;
  /** Recorded rows, by path, of the units not settled yet. */
  readonly #recorded = new Map<string, Recorded>();
  readonly #held: Array<{ unit: Unit; plan: Plan }> = [];
  readonly #pending: PendingRecords[] = [];
  readonly results: ProjectResult[] = [];
  /** Projects a project pass took over while this (full) pass held them: they are that pass's. */
  readonly superseded: string[] = [];
  /** Planned changes (dry passes only). */
  readonly changes: FileChange[] = [];
  #dynamicChanged = false;
  /**
   * Managed files and routers as the pass began: the delete guard's denominators. Files this pass
   * creates must not dilute them (a wrong database with as many projects would otherwise pass).
   * A project pass takes them from the inventory; a full pass counts the owned files it reads.
   */
  #managed: number;
  #routers: number;
  /** Removals applied (by any pass) before this one began, for the guard's window. */
  readonly #windowMark: number;

  constructor(context: PassContext, options: PassOptions = {}) {
    this.#c = context;
    this.#dry = options.dry ?? false;
    this.#claim = options.claim;
    this.#concurrency = options.concurrency ?? context.concurrency;
    this.#writer = new AtomicWriter(context.root);
    this.#managed = options.claim ? 0 : Math.max(context.inventory.size, context.managedFloor());
    this.#routers = options.claim ? 0 : context.inventory.routers;
    this.#windowMark = context.removals.mark();
  }

  /** Whether this pass wrote or removed anything under dynamic/ (so far). */
  get dynamicChanged(): boolean {
    return this.#dynamicChanged;
  }

  /**
   * Plan `units`; apply the plans that remove nothing, hold the others (`hold`: hold all).
   * `recorded`: the traefik_configs rows of these units' projects.
   */
  async add(units: readonly Unit[], recorded: ReadonlyMap<string, Recorded>, options: { hold?: boolean } = {}): Promise<void> {
    for (const [path, r] of recorded) this.#recorded.set(path, r);
    const apply: Array<{ unit: Unit; plan: Plan }> = [];
    for (const u of units) {
      if (this.#claim) {
        for (const f of u.actual) {
          if (!f.owned) continue;
          this.#managed++;
          this.#routers += f.routers;
        }
        if (!this.#claim.has(keyOf(u))) {
          this.#supersede(u);
          continue;
        }
      }
      const p = u.problems.length ? undefined : this.#plan(u);
      if (!p) {
        if (u.problems.length)
          this.#c.log.warn({ project: u.projectName, problems: u.problems }, 'project not written: keeping its last good files');
        this.results.push(result(u, u.problems.length ? 'failed' : 'noop', undefined));
        this.#settle(u, undefined, true);
      } else if (this.#dry) {
        await this.#describe(u, p);
      } else if (!options.hold && deletions(p) === 0 && routersRemoved(p, u.actual) === 0) {
        apply.push({ unit: u, plan: p });
      } else {
        this.#held.push({ unit: u, plan: p });
      }
    }
    await this.#apply(apply);
    await this.flushRecords();
  }

  /** A project pass took `u`'s project over: forget it here. */
  #supersede(u: Unit): void {
    if (u.projectId !== null) this.superseded.push(u.projectId);
    for (const [path, r] of this.#recorded) if (r.projectId === u.projectId) this.#recorded.delete(path);
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
    // Plans of projects that project passes took over meanwhile are theirs now (and their
    // removals, if any, are in the window already): not counted twice.
    for (const h of this.#held.splice(0)) {
      if (!this.#claim || this.#claim.has(keyOf(h.unit))) this.#held.push(h);
      else this.#supersede(h.unit);
    }
    const during = this.#c.removals.since(this.#windowMark);
    const recent = this.#c.removals.recent();
    return guardVerdict(
      new Map(this.#held.map((h) => [h.unit, h.plan])),
      fraction,
      // Files removed by passes that ran during this one were managed when it began: counted once.
      this.#managed - during.files,
      this.#routers - during.routers,
      recent,
    );
  }

  /** Refuse the held plans: their projects keep their files and are reported as blocked. */
  refuseHeld(): void {
    for (const { unit, plan: p } of this.#held) {
      this.results.push(result(unit, 'blocked', p));
      this.#settle(unit, undefined, true);
    }
    this.#held.length = 0;
  }

  /**
   * Apply the held plans. A file is removed only if it is still the one planned: another unit of
   * this pass (a certificate whose domain moved project, a renamed project's old folder taken by
   * another project) or a project pass may have written it since.
   */
  async applyHeld(): Promise<void> {
    const held = await mapLimit(this.#held.splice(0), 8, async ({ unit, plan: p }) => {
      const seen = new Map(unit.actual.map((f) => [f.path, f.checksum]));
      const actions = [];
      for (const a of p.actions) {
        if (a.op === 'delete') {
          const now = await readDiskFile(this.#c.root, a.path).catch(() => null);
          if (!now || now.checksum !== seen.get(a.path)) continue;
        }
        actions.push(a);
      }
      return { unit, plan: { ...p, actions } };
    });
    await this.#apply(held);
  }

  async #apply(items: ReadonlyArray<{ unit: Unit; plan: Plan }>): Promise<void> {
    await mapLimit(items, this.#concurrency, async ({ unit, plan: p }) => {
      const key = keyOf(unit);
      if (this.#claim && !this.#claim.pin(key)) return this.#supersede(unit);
      try {
        this.results.push(await this.#applyUnit(unit, p));
      } finally {
        this.#claim?.unpin(key);
      }
    });
  }

  async #applyUnit(u: Unit, p: Plan): Promise<ProjectResult> {
    const { baseline, inventory, log } = this.#c;
    const counts = { create: 0, update: 0, delete: 0 };
    let appliedAt: number | null = null;
    const routersBefore = new Map(u.actual.map((f) => [f.path, f.routers]));
    const touched = new Set<string>();
    try {
      for (const a of p.actions) {
        const path = a.op === 'delete' ? a.path : a.file.path;
        touched.add(path);
        if (a.op === 'delete') {
          await this.#writer.remove(path);
          baseline.delete(path);
          inventory.delete(path);
        } else {
          const id = await this.#writer.write(path, a.file.content, a.file.mode);
          baseline.set(path, a.file.checksum);
          inventory.set(path, { projectId: a.file.projectId, routers: routerCount(a.file.content), ...id, mode: a.file.mode });
        }
        if (path.startsWith('dynamic/')) this.#dynamicChanged = true;
        counts[a.op]++;
        appliedAt = this.#c.now();
        log.debug({ project: u.projectName, file: path, op: a.op }, 'file written');
      }
    } catch (err) {
      log.error({ project: u.projectName, err }, 'writing project files failed');
      this.#settle(u, undefined, true);
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
    for (const f of u.desired) if (!baseline.has(f.path)) baseline.set(f.path, f.checksum);
    for (const f of u.actual) {
      if (!f.owned || touched.has(f.path)) continue;
      // Not a file another unit wrote since this one read it (a certificate whose domain moved project).
      const known = inventory.get(f.path);
      if (known && known.projectId !== f.projectId && (known.ino !== f.ino || known.mtimeMs !== f.mtimeMs)) continue;
      inventory.set(f.path, { projectId: f.projectId, ino: f.ino, size: f.size, mtimeMs: f.mtimeMs, mode: f.mode, routers: f.routers });
    }
    // What the inventory still says this project owns but is no longer there (removed by hand).
    const present = new Set([...u.actual.map((f) => f.path), ...touched]);
    for (const path of [...inventory.pathsOf(u.projectId)]) if (!present.has(path)) inventory.delete(path);
    if (!u.tombstoned) this.#c.removals.add(netDeletions(p), routersRemoved(p, u.actual));
    this.#settle(u, p, false);
    const changed = counts.create + counts.update + counts.delete > 0;
    if (changed) {
      const fields = { project: u.projectName, created: counts.create, updated: counts.update, deleted: counts.delete };
      // A full pass summarises (see the sync service); a project pass names each project it changed.
      if (this.#claim) log.debug(fields, 'project synced');
      else log.info(fields, 'project synced');
    }
    return {
      ...result(u, changed ? 'updated' : 'noop', p),
      created: counts.create,
      updated: counts.update,
      deleted: counts.delete,
      appliedAt,
    };
  }

  /**
   * A unit is done: queue its records (the desired files recorded differently, the rows of its
   * project's paths it no longer wants) and forget its recorded rows. `keep`: its project keeps
   * its files (failed, refused), and so its rows.
   */
  #settle(u: Unit, p: Plan | undefined, keep: boolean): void {
    const upserts: RenderedFile[] = [];
    const removed: string[] = [];
    const wanted = new Set(u.desired.map((f) => f.path));
    if (!keep && p) for (const f of u.desired) if (this.#recorded.get(f.path)?.checksum !== f.checksum) upserts.push(f);
    for (const [path, r] of this.#recorded) {
      if (r.projectId !== u.projectId && !wanted.has(path)) continue;
      this.#recorded.delete(path);
      // A path another project wants now keeps its row: that project's pass records it.
      if (!keep && !wanted.has(path) && !this.#c.baseline.has(path)) removed.push(path);
    }
    if (!this.#dry && (upserts.length || removed.length)) this.#pending.push({ key: keyOf(u), upserts, removed });
    else this.#claim?.release(keyOf(u));
  }

  /**
   * Record what was written so far (per batch, so file contents are not kept to the end). In a
   * full pass the projects are pinned while their rows are written, and the rows of projects
   * that project passes took over are dropped: those record what they wrote themselves.
   */
  async flushRecords(): Promise<void> {
    const pending = this.#pending.splice(0).filter((r) => !this.#claim || this.#claim.pin(r.key));
    if (pending.length === 0) return;
    try {
      await this.#c.record(
        pending.flatMap((r) => r.upserts),
        pending.flatMap((r) => r.removed),
      );
    } finally {
      for (const r of pending) this.#claim?.release(r.key);
    }
  }

  /**
   * Make the pass durable and visible: fsync directories, rename the marker once if anything
   * under dynamic/ changed (or `announce`), record the last rows.
   */
  async finish(announce = false): Promise<boolean> {
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
      // Its temp file is written in the root, outside dynamic/: in dynamic/ each step of the write
      // (create, write, rename) would be one more re-read of the whole tree (docs/traefik-reload.md).
      await this.#writer.write(layout.marker, `${new Date(this.#c.now()).toISOString()}\n`, 0o644, { durable: false, stageIn: '' });
      markerRenamed = true;
    }
    await this.flushRecords();
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
