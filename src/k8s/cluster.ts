/**
 * Cluster integration chosen at start. In Kubernetes — POD_NAME and POD_NAMESPACE set (downward
 * API) and credentials found (the pod's service account, or KUBECONFIG / ~/.kube/config) —
 * leadership comes from the `traefik-sync` Lease in POD_NAMESPACE (src/k8s/lease.ts) and notable
 * events become Events on the pod (src/k8s/events.ts). Otherwise a PostgreSQL advisory lock
 * leads and events go to the log only.
 *
 * The choice depends only on the environment, never on whether the API server answers at start:
 * falling back to the advisory lock on a transient API error would let one replica lead by Lease
 * and another by lock at the same time.
 */
import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../config.js';
import type { EventSink } from '../controller/events.js';
import { AdvisoryLockLeader, type Leadership } from '../db/leader.js';
import type { Logger } from '../log.js';
import type { Timers } from './api.js';
import type { LeaseTimings } from './lease.js';
// The Kubernetes client (and the modules using it) is imported only in a cluster: loading it
// costs about 25 MB of heap and 55 MB of RSS, which a standalone controller does not need.

export interface ClusterIntegration {
  readonly mode: 'kubernetes' | 'standalone';
  leadership(onChange: (leader: boolean) => void): Leadership;
  readonly events: EventSink;
}

/** Overrides for tests (and embedding); production passes none. */
export interface ClusterOptions {
  /** Use this KubeConfig (or, with null, none) instead of discovering one. */
  readonly kubeConfig?: KubeConfig | null;
  readonly leaseName?: string;
  readonly leaseTimings?: Partial<LeaseTimings>;
  /** Release the Lease on stop (default true). */
  readonly releaseOnStop?: boolean;
  readonly podUid?: string;
  readonly timers?: Timers;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Pick the integration for this process. */
export async function clusterIntegration(
  config: Config,
  log: Logger,
  databaseUrl: string,
  options: ClusterOptions = {},
): Promise<ClusterIntegration> {
  const { podName, podNamespace } = config;
  const kubeConfig =
    podName && podNamespace ? (options.kubeConfig !== undefined ? options.kubeConfig : await discoverKubeConfig(log)) : null;
  if (!podName || !podNamespace || !kubeConfig) {
    log.info(
      { cluster: 'standalone', reason: podName && podNamespace ? 'no Kubernetes credentials found' : 'POD_NAME and POD_NAMESPACE not set' },
      'leadership by PostgreSQL advisory lock; events go to the log',
    );
    return {
      mode: 'standalone',
      leadership: (onChange) => new AdvisoryLockLeader(databaseUrl, onChange),
      events: { emit: (reason, message, type = 'Normal') => log.info({ reason, type, event: message }, 'event') },
    };
  }
  const [{ KubeEventSink }, { DEFAULT_LEASE_NAME, LeaseLeader }] = await Promise.all([import('./events.js'), import('./lease.js')]);
  const leaseName = options.leaseName ?? DEFAULT_LEASE_NAME;
  const podUid = options.podUid ?? podUidFromToken(SERVICE_ACCOUNT_TOKEN, podName);
  log.info(
    {
      cluster: 'kubernetes',
      server: kubeConfig.getCurrentCluster()?.server,
      lease: `${podNamespace}/${leaseName}`,
      identity: podName,
      podUid: podUid ?? null,
    },
    'leadership by Kubernetes Lease; events become Kubernetes Events on the pod',
  );
  const events = new KubeEventSink({ kubeConfig, namespace: podNamespace, podName, podUid, log, timers: options.timers });
  return {
    mode: 'kubernetes',
    leadership: (onChange) =>
      new LeaseLeader({
        kubeConfig,
        namespace: podNamespace,
        identity: podName,
        onChange,
        log,
        name: leaseName,
        timings: options.leaseTimings,
        releaseOnStop: options.releaseOnStop,
        timers: options.timers,
      }),
    // Every replica reports what happens to its own volume: Events are not gated by leadership.
    events,
  };
}

/**
 * The pod's service-account credentials, else KUBECONFIG / ~/.kube/config (as
 * `KubeConfig.loadFromDefault` finds them); null when there are none — the library then falls
 * back to an unauthenticated http://localhost:8080, which we do not use.
 */
export async function discoverKubeConfig(log: Logger): Promise<KubeConfig | null> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    kc.loadFromDefault();
  } catch (err) {
    log.warn({ err }, 'could not load a kubeconfig');
    return null;
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) return null;
  if (cluster.name === 'cluster' && cluster.server === 'http://localhost:8080') return null; // the library's fallback
  if (/\/\/undefined(:|$)/.test(cluster.server)) return null; // service-account files but no KUBERNETES_SERVICE_HOST
  return kc;
}

/**
 * The pod UID from a projected service-account token's claims (`kubernetes.io.pod`), when the
 * token is this pod's. Only the payload is decoded; the token itself never leaves this function.
 */
export function podUidFromToken(tokenPath: string, podName: string): string | undefined {
  try {
    const payload = readFileSync(tokenPath, 'utf8').trim().split('.')[1];
    if (!payload) return undefined;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      'kubernetes.io'?: { pod?: { name?: unknown; uid?: unknown } };
    };
    const pod = claims['kubernetes.io']?.pod;
    return pod?.name === podName && typeof pod.uid === 'string' ? pod.uid : undefined;
  } catch {
    return undefined;
  }
}
