/**
 * Desired files vs files on disk → the writes and removals of a pass, and the drift found. Pure.
 */
import type { DriftMode } from '../config.js';
import type { RenderedFile } from '../model.js';
import type { DiskFile } from '../fs/scan.js';
import { routerCount } from '../render/serialize.js';

export { routerCount };

export type DriftKind = 'modified' | 'missing' | 'unexpected';
export type { DriftMode };

export interface DriftItem {
  readonly path: string;
  readonly kind: DriftKind;
  /** True when this pass repairs it. */
  readonly repaired: boolean;
}

export type Action = { readonly op: 'create' | 'update'; readonly file: RenderedFile } | { readonly op: 'delete'; readonly path: string };

export interface Plan {
  readonly actions: Action[];
  readonly drift: DriftItem[];
  /** Files in the project's folder that are not ours: reported, never touched. */
  readonly unowned: string[];
  /** Desired paths occupied by a file that is not ours: the project cannot be written. */
  readonly conflicts: string[];
  /** Desired files already correct on disk. */
  readonly unchanged: number;
}

export interface PlanInput {
  /** Desired files of the project (or of the static config). */
  readonly desired: readonly RenderedFile[];
  /** Files on disk that belong to this unit: in its folder, or ours with its project id. */
  readonly actual: readonly DiskFile[];
  /** Checksum this process last wrote (or found correct) at each path. */
  readonly written: { get(path: string): string | undefined };
  /** Checksum recorded in traefik_configs (by any replica) at each path. */
  readonly recorded: ReadonlyMap<string, string>;
  readonly driftMode: DriftMode;
}

/** Order of writes: certificates and middlewares before the routers that use them. */
function writeRank(path: string): number {
  if (path.startsWith('ssl/')) return 0;
  if (path.endsWith('/middleware.yml')) return 1;
  if (path.includes('/services/')) return 2;
  return 3;
}

/**
 * Compute the plan for one unit. Drift is judged by the files themselves, so a replica that was
 * down while the database changed sees stale files, not drift:
 * - modified: an owned file whose body no longer matches its header checksum (edited by hand), or
 *   that differs from what this process wrote there, or whose mode is not the desired one (a key
 *   not 0600, any other file not 0644: see RenderedFile.mode);
 * - missing: a file this process wrote that is gone;
 * - unexpected: an owned file nobody wants whose body was edited; an intact one is simply stale
 *   (left by an earlier state or another replica's view of it) and removed as an orphan.
 */
export function plan(input: PlanInput): Plan {
  const { desired, actual, written, recorded, driftMode } = input;
  const repair = driftMode === 'repair';
  const onDisk = new Map(actual.map((f) => [f.path, f]));
  const wanted = new Map(desired.map((f) => [f.path, f]));
  const actions: Action[] = [];
  const drift: DriftItem[] = [];
  const unowned: string[] = [];
  const conflicts: string[] = [];
  let unchanged = 0;

  for (const file of desired) {
    const disk = onDisk.get(file.path);
    const mine = written.get(file.path);
    if (!disk) {
      if (mine === file.checksum) {
        // We wrote exactly this and it is gone.
        drift.push({ path: file.path, kind: 'missing', repaired: repair });
        if (repair) actions.push({ op: 'create', file });
      } else {
        actions.push({ op: 'create', file });
      }
      continue;
    }
    if (!disk.owned) {
      conflicts.push(file.path);
      continue;
    }
    if (disk.checksum === file.checksum) {
      if (disk.mode === file.mode) {
        unchanged++;
        continue;
      }
      // The right text with another mode (a key made readable to all, a config made private):
      // drift like an edit. A rewrite puts the desired mode back (the writer sets it from the start).
      drift.push({ path: file.path, kind: 'modified', repaired: repair });
      if (repair) actions.push({ op: 'update', file });
      continue;
    }
    const editedByHand = !disk.intact || (mine !== undefined && disk.checksum !== mine);
    const desiredChanged = (mine ?? recorded.get(file.path)) !== file.checksum;
    const rewrite = !editedByHand || repair || desiredChanged;
    // A changed mode is drift too, even where the text is merely stale (and rewritten anyway).
    if (editedByHand || disk.mode !== file.mode) drift.push({ path: file.path, kind: 'modified', repaired: rewrite });
    if (rewrite) actions.push({ op: 'update', file });
  }

  for (const disk of actual) {
    if (wanted.has(disk.path)) continue;
    if (!disk.owned) {
      unowned.push(disk.path);
      continue;
    }
    if (disk.intact) {
      actions.push({ op: 'delete', path: disk.path }); // ours, and the database no longer wants it
    } else {
      drift.push({ path: disk.path, kind: 'unexpected', repaired: repair });
      if (repair) actions.push({ op: 'delete', path: disk.path });
    }
  }

  actions.sort((a, b) => {
    const pa = a.op === 'delete' ? a.path : a.file.path;
    const pb = b.op === 'delete' ? b.path : b.file.path;
    // Writes first (certs → middlewares → services → domains), then deletes in reverse order.
    if ((a.op === 'delete') !== (b.op === 'delete')) return a.op === 'delete' ? 1 : -1;
    const r = a.op === 'delete' ? writeRank(pb) - writeRank(pa) : writeRank(pa) - writeRank(pb);
    return r !== 0 ? r : pa < pb ? -1 : pa > pb ? 1 : 0;
  });
  return { actions, drift, unowned, conflicts, unchanged };
}

/** Number of removals in a plan. */
export function deletions(p: Plan): number {
  return p.actions.filter((a) => a.op === 'delete').length;
}

/**
 * Files a plan removes net of those it creates: a renamed project or service moves its files to
 * new paths, which removes nothing.
 */
export function netDeletions(p: Plan): number {
  let net = 0;
  for (const a of p.actions) net += a.op === 'delete' ? 1 : a.op === 'create' ? -1 : 0;
  return Math.max(0, net);
}

/**
 * Routers a plan removes: those of deleted files and those dropped from rewritten files, net of
 * the routers it adds (a rename moves routers to new files and names, which removes nothing).
 */
export function routersRemoved(p: Plan, actual: readonly DiskFile[]): number {
  const disk = new Map(actual.map((f) => [f.path, f.routers]));
  let net = 0;
  for (const a of p.actions) {
    const before = disk.get(a.op === 'delete' ? a.path : a.file.path) ?? 0;
    const after = a.op === 'delete' ? 0 : routerCount(a.file.content);
    net += before - after;
  }
  return Math.max(0, net);
}
