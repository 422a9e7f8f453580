/** What both benchmarks (one controller: main.ts; a fleet: fleet.ts) use: timing, percentiles, waiting for a file. */
import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** Milliseconds since `t0` (process.hrtime.bigint()). */
export const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
/** The `p`th percentile of `xs`. */
export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
export const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
/** Progress on stderr (stdout carries the table). */
export const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

/**
 * Resolves when `file` contains `needle`: woken by directory events (rename into place), with a
 * slow poll as a fallback, so the measuring process does not compete for CPU with a tight loop.
 */
export function appearance(file: string, needle: string, pollMs = 20): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const check = async () => {
      if (done) return;
      const text = await readFile(file, 'utf8').catch(() => '');
      if (text.includes(needle) && !done) {
        done = true;
        watcher.close();
        clearInterval(poll);
        resolve();
      }
    };
    const watcher = watch(path.dirname(file), () => void check());
    const poll = setInterval(() => void check(), pollMs);
  });
}

/** `p`, or an error naming `what` when it takes longer than `ms` or the controller exits. */
export async function within<T>(p: Promise<T>, ms: number, what: string, exited: () => string | null): Promise<T> {
  const deadline = Date.now() + ms;
  let done = false;
  const watchdog = (async () => {
    while (!done) {
      const gone = exited();
      if (gone) throw new Error(`${what}: the controller ${gone}`);
      if (Date.now() > deadline) throw new Error(`${what} did not reach the file within ${ms / 1000} s`);
      await sleep(100);
    }
  })();
  try {
    return await Promise.race([p, watchdog as Promise<never>]);
  } finally {
    done = true;
  }
}

/** The traefik_sync_* series of a controller's /metrics. */
export async function metricsOf(base: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(traefik_sync_[a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}
