/**
 * Where the controller reports notable events: Kubernetes Events on its pod when in a cluster
 * (k8s/events.ts implements it), nowhere otherwise.
 */

import type { TraefikEventReason } from '../traefik-api/watch.js';

/** Where notable events go (Kubernetes Events when in a cluster). */
export interface EventSink {
  emit(
    reason: 'DriftDetected' | 'SyncFailed' | 'SyncRecovered' | 'DeleteGuardBlocked' | 'TraefikRestartNeeded' | TraefikEventReason,
    message: string,
    type?: 'Normal' | 'Warning',
  ): void;
}
