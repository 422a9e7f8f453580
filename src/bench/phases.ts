/**
 * The controller's phases in the benchmark (README "Benchmark"): single changes timed from commit
 * to file while background commits run — during the start-up full pass, when idle, and during the
 * full pass a bulk transaction causes — and the controller's memory and log lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { connect, sql, type ConnectionPool } from '../db/connect.js';
import { appearance, ms, pct, sleep, within } from './support.js';

/** A route the benchmark changes, and its project. */
export interface BenchRoute {
  readonly routeId: string;
  readonly project: string;
}

/** Change→file latencies of a phase. */
export interface LatencyStats {
  readonly changes: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  /** Changes that took over 100 ms. */
  readonly over100ms: number;
  /** The five slowest: when committed (ms after the phase began), how long they took, which project. */
  readonly slowest: ReadonlyArray<{ readonly atMs: number; readonly ms: number; readonly project: string }>;
}

/** One change timed: when it was committed (ms since epoch) and how long it took to reach the file. */
export interface Timed {
  readonly at: number;
  readonly ms: number;
  readonly project: string;
}

export function latencyStats(xs: readonly Timed[], since: number): LatencyStats {
  const all = xs.map((x) => x.ms);
  const slowest = [...xs]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 5)
    .map((x) => ({ atMs: x.at - since, ms: Math.round(x.ms), project: x.project }));
  if (all.length === 0) return { changes: 0, p50: 0, p95: 0, p99: 0, max: 0, over100ms: 0, slowest };
  return {
    changes: all.length,
    p50: pct(all, 50),
    p95: pct(all, 95),
    p99: pct(all, 99),
    max: Math.max(...all),
    over100ms: all.filter((x) => x > 100).length,
    slowest,
  };
}

/** Commits to `routes` at `perSecond`, round robin, until stopped; `stop` resolves with how many. */
export function backgroundLoad(url: string, routes: readonly BenchRoute[], perSecond: number): { stop(): Promise<number> } {
  const db = connect(url, { poolSize: 2 });
  let commits = 0;
  let stopped = false;
  const loop = (async () => {
    const started = Date.now();
    while (!stopped) {
      const r = routes[commits % routes.length]!;
      await db.query(sql`UPDATE route_configs SET priority = ${1 + (commits % 7)} WHERE id = ${r.routeId}`);
      commits++;
      await sleep(Math.max(0, started + (commits * 1000) / perSecond - Date.now()));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await db.dispose();
      return commits;
    },
  };
}

/** Port numbers written by the changes: each change writes a port no earlier change wrote. */
let nextPort = 20_000;

/**
 * Single-route changes, one at a time, to `probes` (round robin), each timed from its commit to
 * the file holding it, while `more()` says so and at most `max`.
 */
export async function changeLatencies(o: {
  readonly db: ConnectionPool;
  readonly root: string;
  readonly probes: readonly BenchRoute[];
  readonly max: number;
  readonly more: () => boolean;
  readonly exited: () => string | null;
  readonly label: string;
}): Promise<Timed[]> {
  const out: Timed[] = [];
  for (let i = 0; i < o.max && o.more(); i++) {
    const r = o.probes[i % o.probes.length]!;
    const port = nextPort++;
    if (nextPort > 65_000) nextPort = 20_000;
    const seen = appearance(path.join(o.root, `dynamic/${r.project}/services/api.yml`), `:${port}\n`);
    await o.db.query(sql`UPDATE route_configs SET target_port = ${port} WHERE id = ${r.routeId}`);
    const c0 = process.hrtime.bigint();
    const at = Date.now();
    await within(seen, 60_000, `${o.label}: change ${i + 1} (${r.project})`, o.exited);
    out.push({ at, ms: ms(c0), project: r.project });
  }
  return out;
}

/** A process's resident memory in MB: now (VmRSS) and its peak so far (VmHWM). */
export async function rssOf(pid: number): Promise<{ now: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { now: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/**
 * A traefik-sync child process: its exit, its peak RSS (polled), and its JSON log lines on stdout
 * by message (`waitFor` a message after a point).
 */
export class Child {
  readonly proc: ChildProcess;
  exited: string | null = null;
  peakRssMb = 0;
  readonly #lines = new Map<string, number[]>();
  readonly #waiters: Array<{ msg: string; after: number; resolve: () => void }> = [];
  readonly #poll: NodeJS.Timeout;
  readonly #ended: Promise<void>;

  /** `logFile`: where its log lines are kept too (to read after a run). */
  constructor(bin: string, args: readonly string[], env: Record<string, string | undefined>, logFile?: string) {
    this.proc = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    if (logFile) this.proc.stdout!.pipe(createWriteStream(logFile));
    this.#ended = new Promise((resolve) =>
      this.proc.on('exit', (code, signal) => {
        this.exited = `exited with ${signal ?? `code ${code}`}`;
        resolve();
      }),
    );
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let msg: string;
      try {
        msg = String((JSON.parse(line) as { msg?: unknown }).msg);
      } catch {
        return;
      }
      const at = Date.now();
      const list = this.#lines.get(msg) ?? [];
      list.push(at);
      this.#lines.set(msg, list);
      for (const w of this.#waiters.splice(0)) {
        if (w.msg === msg && at >= w.after) w.resolve();
        else this.#waiters.push(w);
      }
    });
    this.#poll = setInterval(() => {
      void rssOf(this.proc.pid!).then((r) => {
        this.peakRssMb = Math.max(this.peakRssMb, r.peak);
      });
    }, 100);
  }

  /** Log lines so far, by message. */
  counts(): Record<string, number> {
    return Object.fromEntries([...this.#lines].map(([msg, at]) => [msg, at.length]));
  }

  /** Resolves when a line `msg` is logged at or after `after` (ms since epoch). */
  waitFor(msg: string, after: number): Promise<void> {
    if ((this.#lines.get(msg) ?? []).some((at) => at >= after)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ msg, after, resolve }));
  }

  /** Resolves with the exit (the last peak RSS read first). */
  async ended(): Promise<void> {
    await this.#ended;
    clearInterval(this.#poll);
  }

  /** SIGTERM, then SIGKILL after 15 s. */
  async stop(): Promise<void> {
    if (this.exited === null) {
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 15_000);
      await this.ended();
      clearTimeout(timer);
    }
    clearInterval(this.#poll);
  }
}
