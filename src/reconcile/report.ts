/** What a pass reports: per-project results, the delete guard's verdict, planned changes. */
import type { Handoff } from '../db/shards.js';
import type { DiskFile } from '../fs/scan.js';
import type { RenderedFile } from '../model.js';
import type { DriftItem, Plan } from './plan.js';
import type { TraefikRestart } from './static-restart.js';

export type ProjectOutcome = 'noop' | 'updated' | 'failed' | 'blocked';

/** Outcome of one project (or of the global static config: projectId null). */
export interface ProjectResult {
  readonly projectId: string | null;
  readonly projectName: string | null;
  readonly status: ProjectOutcome;
  readonly created: number;
  readonly updated: number;
  readonly deleted: number;
  readonly drift: DriftItem[];
  /** Files in the project's folder without our header: reported, never touched. */
  readonly unowned: string[];
  /** Why the project failed (render, validation, conflict or I/O), each naming the field or file. */
  readonly problems: string[];
  /** What an operator must know about the written project (a transport that skips verification). */
  readonly warnings?: string[];
  /** Writing failed because the volume was full, read-only or over quota: worth retrying as soon as it takes writes. */
  readonly writeFailed?: boolean;
  /** Change version and time of the state that was applied (for latency metrics). */
  readonly version: number;
  readonly changedAt: Date | null;
  /** When the last file of this project was renamed into place (ms since epoch), if any. */
  readonly appliedAt: number | null;
}

/** Outcome of a pass. */
export interface SyncReport {
  readonly results: ProjectResult[];
  /** Set when the delete guard refused the pass: nothing was written. */
  readonly blocked: GuardVerdict | null;
  readonly markerRenamed: boolean;
  /** Files under the root that belong to no project and are not ours. */
  readonly unowned: string[];
  readonly durationMs: number;
  /** Whether Traefik must restart to read the static config now on the volume (static-restart.ts). */
  readonly traefikRestart?: TraefikRestart;
  /**
   * Projects a full pass left to the project passes that took them while it ran (they report
   * them); absent when none.
   */
  readonly superseded?: readonly string[];
  /**
   * Projects moved to another shard whose files this volume still had (sharded sidecars only):
   * kept while `waiting`, removed when `released` or `timed-out`.
   */
  readonly handoffs?: readonly Handoff[];
}

/**
 * Why the delete guard refused a pass: it would remove more than `maxDeleteFraction` of the
 * managed files, or of the routers they define. Files of projects whose deletion the database
 * recorded (a tombstone in project_versions) do not count: that is an explicit removal, unlike an
 * empty or truncated table or a wrong database.
 */
export interface GuardVerdict {
  readonly deletes: number;
  readonly managed: number;
  readonly routersRemoved: number;
  readonly routersManaged: number;
  readonly fraction: number;
  /** Largest number of files (or routers) the pass may remove. */
  readonly limit: number;
}

/** One file a pass would change (see {@link TraefikSyncService.preview}). */
export interface FileChange {
  readonly projectName: string | null;
  readonly path: string;
  readonly op: 'create' | 'update' | 'delete';
  readonly before: string | null;
  readonly after: string | null;
  /** The file's mode on disk and the desired one, when they differ (an update). */
  readonly mode?: { readonly before: number; readonly after: number };
}

/** One unit of a pass: a project (or the global static config) with its desired and actual files. */
export interface Unit {
  /** Deletion recorded by the database: exempt from the delete guard. */
  readonly tombstoned?: boolean;
  readonly projectId: string | null;
  readonly projectName: string | null;
  readonly desired: RenderedFile[];
  readonly actual: DiskFile[];
  readonly problems: string[];
  /** What the rendering warns about (render/transport.ts insecureRoutes); absent: nothing. */
  readonly warnings?: string[];
  readonly version: number;
  readonly changedAt: Date | null;
}

/** Sum of per-kind counts in a set of results. */
export function totals(results: readonly ProjectResult[]): { created: number; updated: number; deleted: number } {
  return results.reduce((t, r) => ({ created: t.created + r.created, updated: t.updated + r.updated, deleted: t.deleted + r.deleted }), {
    created: 0,
    updated: 0,
    deleted: 0,
  });
}

/** A result for a unit, before counting writes. */
export function result(u: Unit, status: ProjectOutcome, p: Plan | undefined): ProjectResult {
  return {
    projectId: u.projectId,
    projectName: u.projectName,
    status,
    created: 0,
    updated: 0,
    deleted: 0,
    drift: p?.drift ?? [],
    unowned: p?.unowned ?? [],
    problems: u.problems,
    ...(u.warnings ? { warnings: u.warnings } : {}),
    version: u.version,
    changedAt: u.changedAt,
    appliedAt: null,
  };
}

/**
 * The unit of a project that no longer exists (`tombstone`: its final version, when the database
 * recorded its deletion), or of our global files nothing wants (projectId null): nothing is
 * desired, so its files go.
 */
export function goneUnit(projectId: string | null, tombstone: number | undefined): Unit {
  return {
    projectId,
    projectName: null,
    desired: [],
    actual: [],
    problems: [],
    version: tombstone ?? 0,
    changedAt: null,
    tombstoned: projectId !== null && tombstone !== undefined,
  };
}
