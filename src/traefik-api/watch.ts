/**
 * The controller's collaborator that closes the loop with Traefik (README "Traefik in the loop").
 * The controller tells it what each pass rendered and wrote; it reads Traefik's API soon after a
 * write (Traefik's throttle, then backing off up to the sync interval) and at every interval, and
 * keeps per project: live or not, Traefik's errors, routers of others on its hosts. It never
 * touches the files and never blocks a pass: an unreachable API only sets traefik_sync_traefik_up 0.
 *
 * One check: `/api/overview` (counts); the error lists when it counts errors; the projects with a
 * change pending or not compared yet (verify.ts); at interval ticks only, the unowned files and
 * other providers' routers (shadows.ts, other providers every 10th tick). Without
 * TRAEFIK_API_URL it only counts the unowned files.
 */
import type { Queryable } from '../db/connect.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics, TraefikMetrics } from '../observability/metrics.js';
import { withJitter } from '../queue/backoff.js';
import type { RenderedProject } from '../render/project.js';
import type { SyncReport } from '../reconcile/sync-service.js';
import type { Overview, TraefikApi } from './client.js';
import { foreignRouters, othersRun, shadowsOf, UnownedFiles, unownedRouters, type ForeignRouter } from './shadows.js';
import { LiveState, projectOfName, type ObjectError, type ProjectLive, type Shadow } from './state.js';
import { difference, fileErrors, FEW, readProjects } from './verify.js';

/** Kubernetes Event reasons this collaborator reports (controller/events.ts). */
export type TraefikEventReason = 'TraefikRejected' | 'TraefikShadowed';

export interface TraefikWatchOptions {
  /** Traefik's API; null when TRAEFIK_API_URL is not set. */
  readonly api: TraefikApi | null;
  readonly db: Queryable;
  readonly root: string;
  readonly metrics: Metrics;
  /** Registered with the API only (observability/metrics.ts). */
  readonly traefikMetrics: TraefikMetrics | null;
  readonly log: Logger;
  readonly intervalMs: number;
  /** Traefik's providersThrottleDuration (TRAEFIK_THROTTLE) in ms: the first look after a write waits that long. */
  readonly throttleMs: number;
  readonly emit?: (reason: TraefikEventReason, message: string, type: 'Normal' | 'Warning') => void;
  readonly now?: () => number;
}

/** Per-project fields of /api/v1/status. */
export interface LiveFields {
  readonly live: boolean | null;
  readonly liveDetail: string | null;
  readonly traefikErrors: readonly ObjectError[];
  readonly shadowedBy: readonly Shadow[];
}

export class TraefikWatch {
  readonly #o: TraefikWatchOptions;
  readonly #now: () => number;
  readonly state = new LiveState();
  readonly unowned = new UnownedFiles();
  #up: boolean | null = null;
  #lastCheckAt: number | null = null;
  #lastError: string | null = null;
  #tickTimer: NodeJS.Timeout | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #pollDelay = 0;
  #running: Promise<void> | null = null;
  #queued: { tick: boolean } | null = null;
  #ticks = 0;
  #foreign: ForeignRouter[] = [];
  #lastBulkAt = -Infinity;
  #bulkMs = 0;
  #stopped = true;

  constructor(options: TraefikWatchOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Whether Traefik's API is read at all. */
  get enabled(): boolean {
    return this.#o.api !== null;
  }

  /** A pass rendered this project (sync-service's onRendered). */
  rendered(project: RenderedProject): void {
    if (this.enabled) this.state.rendered(project);
  }

  /** A pass finished: note what it wrote and the unowned files it saw; look at Traefik soon when something is to confirm. */
  passed(report: SyncReport, full: boolean): void {
    if (full) this.unowned.setOutside(report.unowned);
    for (const r of report.results) if (r.projectId !== null && r.projectName !== null) this.unowned.setProject(r.projectId, r.unowned);
    this.#o.metrics.unownedFiles.set(this.unowned.all().length);
    if (!this.enabled) return;
    const pending = this.state.passed(report.results, full, this.#now(), report.superseded);
    if (pending > 0 || this.state.unverified().length > 0) this.#pollSoon();
  }

  start(): void {
    this.#stopped = false;
    const schedule = () => {
      this.#tickTimer = setTimeout(
        () => {
          void this.check(true).finally(() => {
            if (!this.#stopped) schedule();
          });
        },
        withJitter(this.#o.intervalMs, 0.1),
      );
      this.#tickTimer.unref();
    };
    schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#tickTimer);
    clearTimeout(this.#pollTimer);
    await this.#running?.catch(() => {});
  }

  #pollSoon(): void {
    this.#pollDelay = this.#o.throttleMs + 200;
    this.#schedulePoll();
  }

  #schedulePoll(): void {
    if (this.#stopped) return;
    clearTimeout(this.#pollTimer);
    this.#pollTimer = setTimeout(() => {
      void this.check(false).finally(() => {
        if (this.state.pendingProjects().length === 0 && this.state.unverified().length === 0) return;
        this.#pollDelay = Math.min(this.#pollDelay * 2, this.#o.intervalMs);
        this.#schedulePoll();
      });
    }, this.#pollDelay);
    this.#pollTimer.unref();
  }

  /** One check (`tick`: the interval's, which also looks for unowned files and shadows). One at a time; never throws. */
  check(tick = true): Promise<void> {
    if (this.#running) {
      this.#queued = { tick: tick || (this.#queued?.tick ?? false) };
      return this.#running;
    }
    this.#running = this.#check(tick)
      .catch((err: unknown) => this.#o.log.warn({ err }, 'checking what Traefik serves failed'))
      .finally(() => {
        this.#running = null;
        const next = this.#queued;
        this.#queued = null;
        if (next && !this.#stopped) void this.check(next.tick);
      });
    return this.#running;
  }

  async #check(tick: boolean): Promise<void> {
    const { api, log } = this.#o;
    if (tick) {
      this.#ticks++;
      await this.unowned.refresh(this.#o.root);
      this.#o.metrics.unownedFiles.set(this.unowned.all().length);
    }
    if (!api) return;
    let overview: Overview;
    try {
      overview = await api.overview();
    } catch (err) {
      this.#setUp(false, messageOf(err));
      return;
    }
    if (this.#up === false) {
      log.info("Traefik's API answers again; comparing every project with what it serves");
      this.state.unverifyAll();
    }
    this.#setUp(true, null);
    try {
      this.#applyErrors(await fileErrors(api, overview));
      const totals = this.state.totals();
      if (
        overview.http.routers.total < totals.routers ||
        overview.http.services.total < totals.services ||
        overview.http.middlewares.total < totals.middlewares
      ) {
        this.state.unverifyAll(); // Traefik holds fewer objects than we wrote: find which
      }
      await this.#verify();
      if (tick) await this.#shadows(overview);
      this.#lastCheckAt = this.#now();
    } catch (err) {
      this.#lastError = messageOf(err);
      log.warn({ err }, "reading Traefik's API failed; trying again at the next check");
    }
  }

  #setUp(up: boolean, error: string | null): void {
    if (!up && this.#up !== false)
      this.#o.log.warn({ err: error }, "Traefik's API does not answer; syncing goes on, what Traefik serves is not known");
    this.#up = up;
    this.#lastError = error;
    this.#o.traefikMetrics?.up.set(up ? 1 : 0);
  }

  /** Compare the projects that need it: pending ones first, the whole lists when many (at most every 3 sweep durations). */
  async #verify(): Promise<void> {
    const pending = this.state.pendingProjects();
    const unverified = this.state.unverified();
    let targets = [...pending, ...unverified];
    if (targets.length === 0) return;
    const started = this.#now();
    if (targets.length > FEW) {
      if (started - this.#lastBulkAt < 3 * this.#bulkMs) targets = pending.slice(0, FEW);
      else this.#lastBulkAt = started;
    }
    const theirs = await readProjects(this.#o.api!, this.state, targets);
    if (targets.length > FEW) this.#bulkMs = this.#now() - started;
    const now = this.#now();
    for (const p of targets) {
      const t = theirs.get(p.id);
      if (!t || !this.state.projects.has(p.id)) continue;
      const seconds = this.state.compared(p, difference(p, t), now);
      if (seconds !== null) this.#o.traefikMetrics?.changeLive.observe(seconds);
    }
  }

  #applyErrors(errors: readonly ObjectError[]): void {
    const byProject = new Map<string, ObjectError[]>();
    const counts = { router: 0, service: 0, middleware: 0 };
    for (const e of errors) {
      const name = projectOfName(e.name);
      const id = name === null ? undefined : this.state.idOf(name);
      if (id === undefined) continue; // not ours (an unowned file's)
      byProject.set(id, [...(byProject.get(id) ?? []), e]);
      counts[e.kind]++;
    }
    this.state.update(
      'errors',
      (p) => byProject.get(p.id) ?? [],
      (p, now) => {
        if (!now.length) return this.#o.log.info({ project: p.name }, 'Traefik serves this project without errors again');
        const text = now.map((e) => `${e.kind} ${e.name} ${e.status}: ${e.messages.join('; ') || '(no message)'}`).join(' | ');
        this.#o.log.warn({ project: p.name, errors: now }, 'Traefik rejects objects of this project');
        this.#o.emit?.('TraefikRejected', `project ${p.name}: ${text}`, 'Warning');
      },
    );
    for (const [kind, n] of Object.entries(counts)) this.#o.traefikMetrics?.errors.set({ kind }, n);
  }

  async #shadows(overview: Overview): Promise<void> {
    const api = this.#o.api!;
    const ours = (name: string) => this.state.idOf(name) !== undefined;
    const { routers, collisions } = await unownedRouters(api, this.unowned, this.#o.root, ours);
    if (!othersRun(overview)) this.#foreign = [];
    else if (this.#ticks % 10 === 1) this.#foreign = await foreignRouters(api);
    const byName = await shadowsOf(this.#o.db, [...routers, ...this.#foreign]);
    for (const [name, list] of collisions) byName.set(name, [...(byName.get(name) ?? []), ...list]);
    this.state.update(
      'shadows',
      (p) => byName.get(p.name) ?? [],
      (p, now) => {
        if (!now.length) return;
        const text = now.map((s) => `${s.router} (${s.source}) ${s.host ? `matches host ${s.host}` : 'has one of its names'}`).join('; ');
        this.#o.log.warn({ project: p.name, shadowedBy: now }, 'Traefik serves routers of others for this project');
        this.#o.emit?.('TraefikShadowed', `project ${p.name}: ${text}`, 'Warning');
      },
    );
  }

  /** Per-project fields of /api/v1/status. */
  fieldsOf(projectId: string): LiveFields {
    const p = this.state.projects.get(projectId);
    if (!this.enabled || !p) return { live: null, liveDetail: null, traefikErrors: p?.errors ?? [], shadowedBy: p?.shadows ?? [] };
    return { live: liveOf(p), liveDetail: detailOf(p), traefikErrors: p.errors, shadowedBy: p.shadows };
  }

  /** The `traefik` part of /api/v1/status. */
  summary(): Record<string, unknown> {
    const projects = [...this.state.projects.values()];
    return {
      apiRead: this.enabled,
      up: this.enabled ? this.#up : null,
      lastCheckAt: this.#lastCheckAt === null ? null : new Date(this.#lastCheckAt).toISOString(),
      lastError: this.#lastError,
      pending: projects.filter((p) => p.pending).length,
      configLagSeconds: this.state.lagSeconds(this.#now()),
      errors: projects.reduce((n, p) => n + p.errors.length, 0),
      unownedFiles: this.unowned.all(),
    };
  }

  /** Seconds since the oldest written change Traefik does not serve yet (the lag gauge). */
  lagSeconds(): number {
    return this.state.lagSeconds(this.#now());
  }
}

function liveOf(p: ProjectLive): boolean | null {
  if (p.pending) return false;
  if (!p.verified) return null;
  return p.loaded && p.errors.length === 0;
}

function detailOf(p: ProjectLive): string | null {
  if (p.errors.length) return `Traefik reports ${p.errors.length} object(s) in error`;
  if (!p.verified && !p.pending) return 'not compared with Traefik yet';
  return p.mismatch;
}
