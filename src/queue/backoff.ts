/** Retry delays: a pure function of the attempt number (plus injected randomness for jitter). */

export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Fraction of the delay added or removed at random (0–1). */
  readonly jitter?: number;
}

/** Exponential backoff: base × 2^(attempt-1) ± jitter, never above `maxMs`. `attempt` starts at 1. */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const raw = Math.min(o.maxMs, o.baseMs * 2 ** Math.max(0, attempt - 1));
  const j = o.jitter ?? 0.2;
  return Math.max(0, Math.min(o.maxMs, Math.round(raw * (1 - j + 2 * j * random()))));
}

/** `ms` ± `fraction` at random (for periodic timers, so replicas do not tick together). */
export function withJitter(ms: number, fraction: number, random: () => number = Math.random): number {
  return Math.round(ms * (1 - fraction + 2 * fraction * random()));
}
