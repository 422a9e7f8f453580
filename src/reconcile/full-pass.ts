/**
 * The full pass: every project, the static config, and what is on disk but belongs to no current
 * project — streamed in batches, so memory does not grow with the number of files, and run beside
 * project passes (src/queue/project-locks.ts):
 *
 * - a batch's projects are claimed before their rows are read, and their folders are read after:
 *   whichever of a project pass and the full pass comes second reads the newer rows and the disk
 *   as the first left it; a project a project pass holds or takes over is left to that pass;
 * - destructive plans are held to the end and judged together by the delete guard;
 * - the leftovers (folders no project has, files of deleted projects) are read at the end, so a
 *   project created or renamed meanwhile is never taken for a deleted one.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { listProjectRefs, loadProjects, loadTombstones } from '../db/load.js';
import { loadRecorded, loadRecordedOfGoneProjects, loadResolvers, type Recorded } from '../db/records.js';
import { TEMP_MARK } from '../fs/atomic.js';
import { listFiles, readDiskFiles, type DiskFile } from '../fs/scan.js';
import type { Handoff, ShardMember } from '../db/shards.js';
import type { ProjectState, RenderedFile } from '../model.js';
import { GLOBAL, type Claim, type ProjectLocks } from '../queue/project-locks.js';
import { layout } from '../render/project.js';
import { NameRegistry } from '../render/validate.js';
import { chunks, mapLimit } from '../util.js';
import type { Pass, PassContext } from './pass.js';
import { unitFiles } from './project-files.js';
import { goneUnit, type Unit } from './report.js';

/** Projects read, rendered and planned together (memory is bounded by a batch, not by the volume). */
const BATCH = 100;
/**
 * Directory listings a full pass has in flight, and projects it writes side by side:
 * the rest of the I/O thread pool (16: bin/traefik-sync.js) is left to project passes.
 */
export const FULL_PASS_IO = 12;
export const FULL_PASS_WRITES = 8;
/** Longest a full pass waits for project passes between two pieces of its work. */
const YIELD_MS = 100;

export interface FullPassDeps {
  readonly ctx: PassContext;
  readonly locks: ProjectLocks;
  /** A project's unit, rendered (`names`: router rules already claimed by earlier projects). */
  readonly unit: (state: ProjectState, names?: NameRegistry) => Unit;
  readonly staticFile: (resolvers: readonly string[]) => RenderedFile;
  /** Only this shard's projects (null: every project). */
  readonly shard: ShardMember | null;
  /** Of the units of projects not this shard's, those that pass (a project handed over to another shard waits). */
  readonly handOver: (units: Unit[]) => Promise<{ units: Unit[]; handoffs: Handoff[] }>;
  /** Called with the number of projects listed, before the first batch. */
  readonly listed?: (count: number) => void;
  /** Called after each batch: projects done, projects in all. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What the pass found besides its plans. */
export interface FullPassOutcome {
  readonly resolvers: string[];
  /** Files under the root that belong to no project and are not ours. */
  readonly unowned: string[];
  /** A file below dynamic/ is newer than the reload marker (a crash before the marker rename). */
  readonly unannounced: boolean;
  /** Projects moved into this shard that this replica had not recorded writing (db/shards.ts). */
  readonly movedIn: string[];
  /** Projects moved to another shard whose files this volume still had. */
  readonly handoffs: Handoff[];
}

/**
 * Plan every project into `pass` (applying at once what removes nothing), holding them by `claim`
 * (none: a preview); the caller concludes the pass.
 */
export async function fullPass(deps: FullPassDeps, pass: Pass, claim: Claim | undefined): Promise<FullPassOutcome> {
  const { ctx, locks } = deps;
  const { db, root } = ctx;
  const marker = await stat(join(root, layout.marker)).catch(() => null);
  let unannounced = false;
  const seen = (files: readonly DiskFile[]) => {
    for (const f of files) if (f.path.startsWith('dynamic/') && f.mtimeMs > (marker?.mtimeMs ?? -1)) unannounced = true;
  };
  const shard = deps.shard?.name ?? null;
  // Resolvers of every shard: the static config is the same in every shard.
  const [projects, resolvers] = await Promise.all([listProjectRefs(db, shard), loadResolvers(db)]);
  const movedIn: string[] = [];
  deps.listed?.(projects.length);
  // Files outside the listed projects' folders, by owner (their header): certificates and keys,
  // and folders no listed project has (a project renamed while this process was not running).
  const listed = new Set(projects.map((p) => p.name));
  const foreign = (await readdir(join(root, 'dynamic'), { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isDirectory() && !listed.has(e.name))
    .map((e) => `dynamic/${e.name}`);
  listed.clear();
  const elsewhere = new Map<string | null, string[]>();
  for (const f of await readTrees(root, ['ssl', ...foreign])) if (f.owned) push(elsewhere, f.projectId, f.path);
  const names = new NameRegistry();
  const folders = new Set<string>();
  const taken = new Set<string>();
  let done = 0;
  let writing: Promise<void> = Promise.resolve();
  for (const batch of chunks(projects, BATCH)) {
    for (const p of batch) folders.add(p.name);
    if (claim)
      locks.claim(
        batch.map((p) => p.id),
        claim,
      );
    const ids = batch.filter((p) => !claim || claim.has(p.id)).map((p) => p.id);
    for (const p of batch) if (claim?.revoked(p.id)) pass.superseded.push(p.id);
    const states = await loadProjects(db, ids, deps.shard);
    for (const s of states) if (s.handoffPending) movedIn.push(s.id);
    const loaded = new Set(states.map((s) => s.id));
    // Deleted since the list was read: their files are leftovers, judged at the end.
    for (const id of ids) if (!loaded.has(id)) claim?.release(id);
    const recorded = await loadRecorded(db, [...loaded], shard);
    const units: Unit[] = [];
    for (const [i, s] of states.entries()) {
      // Rendering is CPU work on the event loop project passes share: they go first.
      if (i % 4 === 3) await locks.quiet(YIELD_MS);
      units.push(deps.unit(s, names));
      folders.add(s.name);
    }
    const files = await unitFiles(root, ctx.inventory, units, FULL_PASS_IO, elsewhere);
    for (const [i, u] of units.entries()) {
      u.actual.push(...files[i]!);
      seen(files[i]!);
      // Files outside its folder that it has or wants (certificates, keys, a renamed project's old folder).
      const dir = `${layout.projectDir(u.projectName!)}/`;
      for (const f of [...files[i]!, ...u.desired]) if (!f.path.startsWith(dir)) taken.add(f.path);
    }
    await writing;
    writing = pass.add(units, recorded).then(() => {
      done += batch.length;
      deps.onProgress?.(done, projects.length);
    });
  }
  await writing;

  // The static config, held to the end like removals: dropping an ACME resolver would break
  // routers still on disk.
  if (claim) locks.claim([GLOBAL], claim);
  const staticDesired = [deps.staticFile(resolvers)];
  const staticUnit: Unit = {
    projectId: null,
    projectName: null,
    desired: staticDesired,
    actual: [],
    problems: [],
    version: 0,
    changedAt: null,
  };
  const globals = new Map([[null, await listFiles(root, 'static')]]);
  staticUnit.actual.push(...(await unitFiles(root, ctx.inventory, [staticUnit], FULL_PASS_IO, globals))[0]!);
  await pass.add([staticUnit], await loadRecorded(db, [null]), { hold: true });

  const { units: left, unowned, recorded } = await leftovers(deps, { folders, taken }, claim);
  const { units, handoffs } = await deps.handOver(left);
  for (const u of units) seen(u.actual);
  await pass.add(units, recorded);
  return { resolvers, unowned, unannounced, movedIn, handoffs };
}

/**
 * What no unit took: folders under dynamic/ that no listed project had, other files at its top,
 * certificates and keys no project took, and the rows of projects that no longer exist. By owner,
 * claimed, then read again: a project that exists (renamed, or created meanwhile) is reconciled
 * again as a whole (its old files then go net of its new ones: a rename removes nothing); the
 * files and rows of a project that no longer exists go (counted by the delete guard unless it
 * alone was deleted), and so do our global files that nothing wants.
 */
async function leftovers(
  deps: FullPassDeps,
  seen: { folders: ReadonlySet<string>; taken: ReadonlySet<string> },
  claim: Claim | undefined,
): Promise<{ units: Unit[]; unowned: string[]; recorded: Map<string, Recorded> }> {
  const { ctx, locks } = deps;
  const { root, db } = ctx;
  const paths: string[] = [];
  const top = await readdir(join(root, 'dynamic'), { withFileTypes: true }).catch(() => []);
  for (const e of top) {
    if (e.isDirectory() && !seen.folders.has(e.name)) paths.push(...(await listFiles(root, `dynamic/${e.name}`)));
    else if (e.isFile() && !e.name.includes(TEMP_MARK) && `dynamic/${e.name}` !== layout.marker) paths.push(`dynamic/${e.name}`);
  }
  paths.push(...(await listFiles(root, 'ssl')));
  for (const [i, p] of paths.entries()) if (seen.taken.has(p)) paths[i] = '';
  const unowned: string[] = [];
  const byOwner = new Map<string | null, string[]>();
  for (const f of await readDiskFiles(root, paths.filter(Boolean))) {
    if (f.owned) push(byOwner, f.projectId, f.path);
    else unowned.push(f.path);
  }
  const recorded = await loadRecordedOfGoneProjects(db);
  for (const r of recorded.values()) if (!byOwner.has(r.projectId)) byOwner.set(r.projectId, []);
  if (claim)
    locks.claim(
      [...byOwner.keys()].map((id) => id ?? GLOBAL),
      claim,
    );
  const owners = [...byOwner.keys()].filter((id) => !claim || claim.has(id ?? GLOBAL));
  const ids = owners.filter((id): id is string => id !== null);
  const [states, tombstones] = ids.length
    ? await Promise.all([loadProjects(db, ids, deps.shard), loadTombstones(db, ids)])
    : [[], new Map<string, number>()];
  for (const [path, r] of await loadRecorded(
    db,
    states.map((s) => s.id),
    deps.shard?.name ?? null,
  ))
    recorded.set(path, r);
  const existing = new Map(states.map((s) => [s.id, s]));
  const units = owners.map((id): Unit => {
    const state = id === null ? undefined : existing.get(id);
    return state ? deps.unit(state) : goneUnit(id, id === null ? undefined : tombstones.get(id));
  });
  const files = await unitFiles(root, ctx.inventory, units, FULL_PASS_IO, byOwner);
  for (const [i, u] of units.entries()) u.actual.push(...files[i]!);
  return { units, unowned, recorded };
}

/** Every file below the folders `rels`, read. */
async function readTrees(root: string, rels: readonly string[]): Promise<DiskFile[]> {
  const paths = await mapLimit(rels, FULL_PASS_IO, (rel) => listFiles(root, rel));
  return readDiskFiles(root, paths.flat());
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
