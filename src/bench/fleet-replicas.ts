/** The replicas of the fleet benchmark: `traefik-sync run` processes, each with its own config root and HTTP port. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from '../demo/embedded-postgres.js';
import { sleep } from './support.js';

/** One sidecar process of the fleet. */
export interface Replica {
  readonly index: number;
  readonly root: string;
  readonly port: number;
  readonly base: string;
  child: ChildProcess | null;
  /** Why it stopped, when it did on its own. */
  exited: string | null;
}

/** How each replica runs. */
export interface ReplicaSettings {
  readonly bin: string;
  readonly databaseUrl: string;
  readonly interval: string;
  readonly poolSize?: number;
}

/** N replicas (not started), with config roots under `work`. */
export async function replicas(n: number, work: string): Promise<Replica[]> {
  const out: Replica[] = [];
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    out.push({ index: i, root: path.join(work, `replica-${i}`), port, base: `http://127.0.0.1:${port}`, child: null, exited: null });
  }
  return out;
}

/** Start a replica's process (NODE_OPTIONS as in the image's Dockerfile). */
export function startReplica(r: Replica, s: ReplicaSettings): void {
  const child = spawn(process.execPath, [s.bin, 'run'], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: s.databaseUrl,
      TRAEFIK_CONFIG_DIR: r.root,
      HTTP_ADDR: `127.0.0.1:${r.port}`,
      LOG_LEVEL: 'warn',
      SYNC_INTERVAL: s.interval,
      POD_NAME: `fleet-${r.index}`,
      NODE_OPTIONS: '--max-old-space-size=256',
      ...(s.poolSize ? { DB_POOL_SIZE: String(s.poolSize) } : {}),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  r.child = child;
  r.exited = null;
  child.on('exit', (code, signal) => {
    r.exited = `exited with ${signal ?? `code ${code}`}`;
  });
}

/** SIGTERM every replica and wait for all to exit (SIGKILL after 20 s); resolves with the time it took. */
export async function stopReplicas(all: readonly Replica[]): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    all.map(async (r) => {
      const child = r.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await gone;
      clearTimeout(timer);
    }),
  );
  return performance.now() - t0;
}

/** A replica's /api/v1/status, or null while it does not answer. */
async function status(r: Replica): Promise<Record<string, unknown> | null> {
  try {
    const res = await fetch(`${r.base}/api/v1/status`, { signal: AbortSignal.timeout(5_000) });
    return res.ok ? ((await res.json()) as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Wait until every replica is ready (/readyz 200: `ready`) and until each has finished its own
 * first full pass (`synced`: status readySource "sync"); ms from `t0` for each, as the slowest replica.
 */
export async function untilAllSynced(
  all: readonly Replica[],
  t0: number,
  timeoutMs: number,
): Promise<{ readyMs: number; syncedMs: number }> {
  let readyMs = -1;
  const pending = new Set(all);
  const ready = new Set<Replica>();
  for (;;) {
    await Promise.all(
      [...pending].map(async (r) => {
        if (r.exited) throw new Error(`replica ${r.index} ${r.exited} before its first full sync (its log is above)`);
        const s = await status(r);
        if (s?.ready) ready.add(r);
        if (s?.readySource === 'sync') pending.delete(r);
      }),
    );
    if (readyMs < 0 && ready.size === all.length) readyMs = performance.now() - t0;
    if (pending.size === 0) return { readyMs: readyMs < 0 ? performance.now() - t0 : readyMs, syncedMs: performance.now() - t0 };
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`${pending.size} of ${all.length} replicas not synced within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

/** Resident memory of each running replica (MB). */
export async function residentMb(all: readonly Replica[]): Promise<number[]> {
  const out: number[] = [];
  for (const r of all) {
    const text = await readFile(`/proc/${r.child?.pid}/status`, 'utf8').catch(() => '');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? NaN);
    if (Number.isFinite(kb)) out.push(kb / 1024);
  }
  return out;
}

/** Queries each replica's pool ran so far (the sum of traefik_sync_db_query_duration_seconds_count). */
export async function poolQueries(r: Replica): Promise<number> {
  const text = await (await fetch(`${r.base}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  let n = 0;
  for (const m of text.matchAll(/^traefik_sync_db_query_duration_seconds_count\{[^}]*\} (\S+)$/gm)) n += Number(m[1]);
  return n;
}
