/**
 * Timing assertions that a loaded machine cannot fail and a slow regression cannot pass.
 *
 * A fixed window ("answers in under 2.5 s") fails on a busy 2-core CI machine, where this process
 * may not run for a second, and a wide one lets a regression through. `timed` measures how long
 * `fn` took AND how late this process's timers ran meanwhile (the event loop's worst delay, which
 * is what a starved process shows); `expectWithin` then allows the expected time plus that
 * lateness plus a fixed slack. On a quiet machine the bound stays tight; under load it widens by
 * exactly the load seen.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { expect } from 'vitest';

/** What {@link timed} measured. */
export interface Timing<T> {
  readonly value: T;
  /** Wall-clock time `fn` took. */
  readonly ms: number;
  /** The worst event-loop delay seen while it ran: how late a timer could have fired. */
  readonly lagMs: number;
}

/** Run `fn`, measuring its duration and the event-loop lag meanwhile. */
export async function timed<T>(fn: () => Promise<T>): Promise<Timing<T>> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const started = performance.now();
  try {
    const value = await fn();
    return { value, ms: performance.now() - started, lagMs: h.max / 1e6 };
  } finally {
    h.disable();
  }
}

/**
 * `t.ms` is at least `atLeastMs` (timers never fire early) and at most `atMostMs` plus the lag
 * seen plus `slackMs` (default 500: scheduling, I/O). `what` names the measurement in a failure.
 */
export function expectWithin(t: Timing<unknown>, what: string, atLeastMs: number, atMostMs: number, slackMs = 500): void {
  const limit = atMostMs + t.lagMs + slackMs;
  const summary = `${what}: took ${Math.round(t.ms)} ms (event-loop lag up to ${Math.round(t.lagMs)} ms)`;
  expect(t.ms, `${summary}; expected at least ${atLeastMs} ms`).toBeGreaterThanOrEqual(atLeastMs);
  expect(t.ms, `${summary}; expected at most ${atMostMs} ms + lag + ${slackMs} ms`).toBeLessThanOrEqual(limit);
}
