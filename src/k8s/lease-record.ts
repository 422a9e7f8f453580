/**
 * The Lease record as client-go's leader election reads and writes it: timings, expiry, and the
 * spec written on create, renew, takeover and release. Pure functions of their inputs (the
 * time is passed in), used by src/k8s/lease.ts.
 */
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';

/** Name of the Lease (deploy/base/role.yaml grants get/update on this name only). */
export const DEFAULT_LEASE_NAME = 'traefik-sync';

export interface LeaseTimings {
  /** How long a lease is valid after its renewTime; whole seconds (the Lease stores seconds). */
  readonly leaseDurationMs: number;
  /** A leader steps down when it could not renew for this long. */
  readonly renewDeadlineMs: number;
  /** Time between attempts to acquire or renew. */
  readonly retryPeriodMs: number;
}

/** controller-runtime's defaults. */
export const DEFAULT_LEASE_TIMINGS: LeaseTimings = Object.freeze({
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
});

/** A candidate waits retryPeriod × (1 + JITTER × random) between attempts. */
export const JITTER = 0.2;

/** Check the timings as client-go does; throws naming the rule that is broken. */
export function checkTimings(t: LeaseTimings): void {
  if (!(t.retryPeriodMs > 0)) throw new Error(`retry period must be positive, got ${t.retryPeriodMs} ms`);
  if (!(t.leaseDurationMs >= 1000 && t.leaseDurationMs % 1000 === 0))
    throw new Error(`lease duration must be a whole number of seconds, got ${t.leaseDurationMs} ms`);
  if (!(t.leaseDurationMs > t.renewDeadlineMs))
    throw new Error(`lease duration (${t.leaseDurationMs} ms) must be greater than the renew deadline (${t.renewDeadlineMs} ms)`);
  if (!(t.renewDeadlineMs > t.retryPeriodMs * (1 + JITTER)))
    throw new Error(
      `renew deadline (${t.renewDeadlineMs} ms) must be greater than the retry period × ${1 + JITTER} (${t.retryPeriodMs} ms)`,
    );
}

/** Milliseconds since the epoch of a Lease time (the client hands back strings or Dates); NaN if unset. */
export function timeOf(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  return typeof value === 'string' ? Date.parse(value) : NaN;
}

/** The holder, '' when nobody holds the Lease (never acquired, or released). */
export function holderOf(lease: V1Lease): string {
  return lease.spec?.holderIdentity || '';
}

/** True when renewTime + leaseDurationSeconds is not in the future (or the times are missing). */
export function isExpired(lease: V1Lease, now: number): boolean {
  const renewed = timeOf(lease.spec?.renewTime);
  return !Number.isFinite(renewed) || renewed + (lease.spec?.leaseDurationSeconds ?? 0) * 1000 <= now;
}

function spec(identity: string, t: LeaseTimings, now: number, acquiredAt: number, transitions: number): NonNullable<V1Lease['spec']> {
  return {
    holderIdentity: identity,
    leaseDurationSeconds: t.leaseDurationMs / 1000,
    acquireTime: new V1MicroTime(acquiredAt),
    renewTime: new V1MicroTime(now),
    leaseTransitions: transitions,
  };
}

/** A new Lease held by `identity`. */
export function newLease(name: string, namespace: string, identity: string, t: LeaseTimings, now: number): V1Lease {
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: spec(identity, t, now, now, 0) };
}

/** The holder's renewal: renewTime moves, acquireTime and transitions stay; metadata (resourceVersion) is kept. */
export function renewedLease(lease: V1Lease, identity: string, t: LeaseTimings, now: number): V1Lease {
  const acquired = timeOf(lease.spec?.acquireTime);
  return { ...lease, spec: spec(identity, t, now, Number.isFinite(acquired) ? acquired : now, lease.spec?.leaseTransitions ?? 0) };
}

/** Takeover by `identity`: acquired now, one more transition; metadata (resourceVersion) is kept. */
export function takenOverLease(lease: V1Lease, identity: string, t: LeaseTimings, now: number): V1Lease {
  return { ...lease, spec: spec(identity, t, now, now, (lease.spec?.leaseTransitions ?? 0) + 1) };
}

/** Release as client-go writes it: no holder, 1 s duration, transitions kept. */
export function releasedLease(lease: V1Lease, now: number): V1Lease {
  return {
    ...lease,
    spec: {
      leaseTransitions: lease.spec?.leaseTransitions,
      leaseDurationSeconds: 1,
      renewTime: new V1MicroTime(now),
      acquireTime: new V1MicroTime(now),
    },
  };
}
