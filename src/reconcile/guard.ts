/**
 * The delete guard: refuse a pass that would remove more than `fraction` of the managed files,
 * or of the routers they define (an emptied file removes routers without deleting a file).
 * Units of projects whose deletion the database recorded (tombstones) do not count. Pure.
 */
import { deletions, routersRemoved, type Plan } from './plan.js';
import type { GuardVerdict, Unit } from './report.js';

/**
 * A verdict when the planned removals exceed the limit, else null. `managedFiles` and
 * `routersOnDisk` describe the whole volume (the pass may see only part of it).
 */
export function guardVerdict(plans: ReadonlyMap<Unit, Plan>, fraction: number, managedFiles: number, routersOnDisk: number): GuardVerdict | null {
  let deletes = 0;
  let removedRouters = 0;
  for (const [u, p] of plans) {
    if (u.tombstoned) continue;
    deletes += deletions(p);
    removedRouters += routersRemoved(p, u.actual);
  }
  if (deletes === 0 && removedRouters === 0) return null;
  let seen = 0;
  for (const u of plans.keys()) for (const f of u.actual) seen += f.routers;
  const routersManaged = Math.max(routersOnDisk, seen);
  const tooManyFiles = deletes > fraction * managedFiles;
  const tooManyRouters = removedRouters > fraction * routersManaged;
  if (!tooManyFiles && !tooManyRouters) return null;
  return {
    deletes, managed: managedFiles, routersRemoved: removedRouters, routersManaged, fraction,
    limit: Math.floor(fraction * (tooManyFiles ? managedFiles : routersManaged)),
  };
}
