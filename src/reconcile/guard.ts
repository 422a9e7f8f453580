/**
 * The delete guard: refuse a pass that would remove more than `fraction` of the managed files,
 * or of the routers they define (an emptied file removes routers without deleting a file).
 * Each project's removals count net of what it adds, so renaming a project or a service (its
 * files and routers move to new names) removes nothing.
 * The files of one project whose deletion the database recorded (a tombstone) do not count; those
 * of several deleted projects in one pass do. Pure.
 */
import { deletions, netDeletions, routersRemoved, type Plan } from './plan.js';
import type { GuardVerdict, Unit } from './report.js';

/** Removals already applied within the guard's window (many small passes add up). */
export interface RecentRemovals {
  readonly files: number;
  readonly routers: number;
}

/**
 * A verdict when the planned removals, plus those already applied within the window, exceed the
 * limit; else null. `managedFiles` and `routersOnDisk` describe the whole volume now (the pass
 * may see only part of it); what the window removed counts as managed too.
 */
export function guardVerdict(
  plans: ReadonlyMap<Unit, Plan>,
  fraction: number,
  managedFiles: number,
  routersOnDisk: number,
  recent: RecentRemovals = { files: 0, routers: 0 },
): GuardVerdict | null {
  let deletes = 0;
  let removedRouters = 0;
  // Deleting one project is an explicit, audited act; deleting several in one go is judged.
  let tombstoned = 0;
  for (const [u, p] of plans) if (u.tombstoned && deletions(p) > 0) tombstoned++;
  for (const [u, p] of plans) {
    if (u.tombstoned && tombstoned <= 1) continue;
    deletes += netDeletions(p);
    removedRouters += routersRemoved(p, u.actual);
  }
  if (deletes === 0 && removedRouters === 0) return null;
  let seen = 0;
  for (const u of plans.keys()) for (const f of u.actual) seen += f.routers;
  deletes += recent.files;
  removedRouters += recent.routers;
  managedFiles += recent.files;
  const routersManaged = Math.max(routersOnDisk, seen) + recent.routers;
  const tooManyFiles = deletes > fraction * managedFiles;
  const tooManyRouters = removedRouters > fraction * routersManaged;
  if (!tooManyFiles && !tooManyRouters) return null;
  return {
    deletes,
    managed: managedFiles,
    routersRemoved: removedRouters,
    routersManaged,
    fraction,
    limit: Math.floor(fraction * (tooManyFiles ? managedFiles : routersManaged)),
  };
}
