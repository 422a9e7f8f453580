/**
 * Where the controller reports notable events: Kubernetes Events on its pod when in a cluster
 * (k8s/events.ts implements it), nowhere otherwise.
 */

/** Where notable events go (Kubernetes Events when in a cluster). */
export interface EventSink {
  emit(
    reason: 'DriftDetected' | 'SyncFailed' | 'SyncRecovered' | 'DeleteGuardBlocked' | 'TraefikRestartNeeded',
    message: string,
    type?: 'Normal' | 'Warning',
  ): void;
}
