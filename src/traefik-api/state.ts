/**
 * What this replica knows about Traefik's view of each project: what the passes wrote (digests
 * per kind, from the rendered documents), whether Traefik serves it (`live`), the changes it does
 * not serve yet (since when), Traefik's errors for its objects, and routers of others that take
 * its hosts. Only digests are kept for every project; the written objects themselves only while a
 * change waits to be confirmed (at most {@link FULL_KEPT} projects at once).
 */
import { createHash } from 'node:crypto';
import type { RenderedProject } from '../render/project.js';
import type { ProjectResult } from '../reconcile/sync-service.js';
import { KINDS, type Kind } from './client.js';
import { digestOf } from './views.js';

type Obj = Readonly<Record<string, unknown>>;

/** Projects whose written objects are kept for the leaf-by-leaf check (beyond that: digests only). */
export const FULL_KEPT = 2000;

/** What a pass wrote for a project, in short. */
export interface Expectation {
  readonly digests: Readonly<Record<Kind, string>>;
  readonly counts: Readonly<Record<Kind, number>>;
  /** Hash of every object written: a change shows here even when no view changed. */
  readonly fullHash: string;
}

/** The objects a pass wrote, by kind and name (without `@file`). */
export type Objects = Readonly<Record<Kind, ReadonlyArray<readonly [string, Obj]>>>;

/** An object Traefik reports in error or warning, with its own messages. */
export interface ObjectError {
  readonly kind: 'router' | 'service' | 'middleware';
  /** `name@file`. */
  readonly name: string;
  readonly status: string;
  readonly messages: readonly string[];
}

/** A router Traefik serves for one of the project's hosts that traefik-sync did not write. */
export interface Shadow {
  /** `name@provider`. */
  readonly router: string;
  readonly rule: string;
  readonly host: string;
  /** Where it comes from: `provider docker`, or the unowned file under dynamic/. */
  readonly source: string;
}

/** A written change Traefik has not been seen serving yet. */
export interface Pending {
  /** Since when (database commit time when the version moved, else the write), ms since epoch. */
  readonly since: number;
  /** Record it in traefik_sync_change_live_seconds once served (a new version of the rows). */
  readonly observe: boolean;
  /** Objects were removed: Traefik must be seen without them (a read of all the project's objects, not of each by name). */
  readonly shrank: boolean;
}

/** One project. */
export interface ProjectLive {
  readonly id: string;
  name: string;
  exp: Expectation;
  version: number;
  /** The objects written (JSON), kept while `pending`. */
  full: string | null;
  pending: Pending | null;
  /** Compared with Traefik at least once since start (or since Traefik came back). */
  verified: boolean;
  /** The last comparison found Traefik serving what was written. */
  loaded: boolean;
  /** The first difference the last comparison found. */
  mismatch: string | null;
  errors: ObjectError[];
  shadows: Shadow[];
}

/** The objects of a project's rendered documents, by kind, sorted by name. */
export function objectsOf(project: RenderedProject): Objects {
  const out: Record<Kind, Array<[string, Obj]>> = { routers: [], services: [], middlewares: [] };
  for (const doc of project.documents.values()) {
    for (const kind of KINDS) for (const [name, o] of Object.entries(doc.http?.[kind] ?? {})) out[kind].push([name, o]);
  }
  for (const kind of KINDS) out[kind].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return out;
}

/** The expectation of a set of objects, and their JSON. */
export function expectationOf(objects: Objects): { exp: Expectation; json: string } {
  const json = JSON.stringify(objects);
  const digests = {} as Record<Kind, string>;
  const counts = {} as Record<Kind, number>;
  for (const kind of KINDS) {
    digests[kind] = digestOf(kind, objects[kind]);
    counts[kind] = objects[kind].length;
  }
  return { exp: { digests, counts, fullHash: createHash('sha1').update(json).digest('base64') }, json };
}

/** The projects, fed by rendered projects and pass results. */
export class LiveState {
  readonly projects = new Map<string, ProjectLive>();
  readonly #byName = new Map<string, string>();
  /** Rendered in the pass under way: expectation, and the objects' JSON when they changed. */
  readonly #candidates = new Map<string, { exp: Expectation; json: string | null }>();
  /** Projects whose objects are kept (committed, and candidates of the pass under way). */
  #fullKept = 0;
  #candidatesKept = 0;

  /** A pass rendered this project (it may still fail to write). */
  rendered(project: RenderedProject): void {
    if (project.problems.length) return;
    const { exp, json } = expectationOf(objectsOf(project));
    const known = this.projects.get(project.projectId);
    const changed = known?.exp.fullHash !== exp.fullHash;
    const keep = changed && this.#fullKept + this.#candidatesKept < FULL_KEPT;
    if (keep) this.#candidatesKept++;
    this.#candidates.set(project.projectId, { exp, json: keep ? json : null });
  }

  /** Project id by name. */
  idOf(name: string): string | undefined {
    return this.#byName.get(name);
  }

  /**
   * A pass finished: projects it wrote have a change pending; those it found in order keep their
   * state (new ones: not verified yet); deleted ones (and, after a full pass, those it did not
   * see) are forgotten; a full pass does not forget the projects it left to project passes running
   * beside it (`superseded`: their own results tell). Returns the projects that have a change pending now.
   */
  passed(results: readonly ProjectResult[], full: boolean, now: number, superseded: readonly string[] = []): number {
    let pending = 0;
    const seen = new Set<string>(superseded);
    for (const r of results) {
      if (r.projectId === null) continue;
      seen.add(r.projectId);
      // Passes of different projects run side by side: take only this result's candidate.
      const cand = this.#candidates.get(r.projectId);
      if (cand) {
        this.#candidates.delete(r.projectId);
        if (cand.json !== null) this.#candidatesKept--;
      }
      if (r.projectName === null) {
        this.#forget(r.projectId);
        continue;
      }
      if (r.status === 'failed' || r.status === 'blocked' || !cand) continue;
      let p = this.projects.get(r.projectId);
      if (!p) {
        p = {
          id: r.projectId,
          name: r.projectName,
          exp: cand.exp,
          version: -1,
          full: null,
          pending: null,
          verified: false,
          loaded: false,
          mismatch: null,
          errors: [],
          shadows: [],
        };
        this.projects.set(p.id, p);
      }
      if (p.name !== r.projectName && this.#byName.get(p.name) === p.id) this.#byName.delete(p.name);
      p.name = r.projectName;
      this.#byName.set(p.name, p.id);
      const shrank = KINDS.some((k) => cand.exp.counts[k] < p!.exp.counts[k]);
      p.exp = cand.exp;
      if (r.created + r.updated + r.deleted > 0) {
        const moved = r.version > p.version && r.changedAt !== null;
        const since = moved ? r.changedAt!.getTime() : (r.appliedAt ?? now);
        // A change on top of one still pending keeps the older start: the lag is of the oldest.
        p.pending = {
          since: p.pending ? Math.min(p.pending.since, since) : since,
          observe: moved || (p.pending?.observe ?? false),
          shrank: shrank || (p.pending?.shrank ?? false),
        };
        this.#setFull(p, cand.json);
        p.loaded = false;
        p.mismatch = 'written; waiting for Traefik to load it';
        pending++;
      }
      p.version = Math.max(p.version, r.version);
    }
    if (full) for (const id of [...this.projects.keys()]) if (!seen.has(id)) this.#forget(id);
    return pending;
  }

  #setFull(p: ProjectLive, json: string | null): void {
    if (p.full !== null) this.#fullKept--;
    p.full = json;
    if (json !== null) this.#fullKept++;
  }

  /** Traefik serves what was written (or not, and why); `now` for the change→live time. Returns that time in seconds when it is to be recorded. */
  compared(p: ProjectLive, mismatch: string | null, now: number): number | null {
    p.verified = true;
    p.loaded = mismatch === null;
    p.mismatch = mismatch;
    if (mismatch !== null || !p.pending) return null;
    const seconds = p.pending.observe ? Math.max(0, (now - p.pending.since) / 1000) : null;
    p.pending = null;
    this.#setFull(p, null);
    return seconds;
  }

  /** Give every project its new errors or shadows; `changed` hears of each project whose list changed (before it is set). */
  update<K extends 'errors' | 'shadows'>(
    key: K,
    next: (p: ProjectLive) => ProjectLive[K],
    changed: (p: ProjectLive, now: ProjectLive[K]) => void,
  ): void {
    for (const p of this.projects.values()) {
      const now = next(p);
      if (JSON.stringify(now) === JSON.stringify(p[key])) continue;
      changed(p, now);
      p[key] = now;
    }
  }

  /** Compare everything again (Traefik restarted, or reports fewer objects than were written). */
  unverifyAll(): void {
    for (const p of this.projects.values()) p.verified = false;
  }

  /** Projects with a change pending, oldest first. */
  pendingProjects(): ProjectLive[] {
    return [...this.projects.values()].filter((p) => p.pending).sort((a, b) => a.pending!.since - b.pending!.since);
  }

  /** Projects not compared since start (or since Traefik came back). */
  unverified(): ProjectLive[] {
    return [...this.projects.values()].filter((p) => !p.verified && !p.pending);
  }

  /** Seconds since the oldest pending change (0 when none). */
  lagSeconds(now: number): number {
    let oldest = Infinity;
    for (const p of this.projects.values()) if (p.pending && p.pending.since < oldest) oldest = p.pending.since;
    return oldest === Infinity ? 0 : Math.max(0, (now - oldest) / 1000);
  }

  /** Objects written, summed over the projects, by kind. */
  totals(): Record<Kind, number> {
    const t: Record<Kind, number> = { routers: 0, services: 0, middlewares: 0 };
    for (const p of this.projects.values()) for (const kind of KINDS) t[kind] += p.exp.counts[kind];
    return t;
  }

  #forget(id: string): void {
    const p = this.projects.get(id);
    if (!p) return;
    this.#setFull(p, null);
    if (this.#byName.get(p.name) === id) this.#byName.delete(p.name);
    this.projects.delete(id);
  }
}

/** The project a Traefik object name belongs to (`shop_api_0123@file` → `shop`), if it is a file-provider name. */
export function projectOfName(fullName: string): string | null {
  if (!fullName.endsWith('@file')) return null;
  const cut = fullName.indexOf('_');
  return cut > 0 ? fullName.slice(0, cut) : null;
}
