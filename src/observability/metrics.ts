/**
 * Every metric of docs/contract.md §6 and §8, on one registry, plus Node's default process metrics. Names are an
 * API (users' alerts depend on them): change none. Label values are bounded; no project label
 * on counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<'result'>;
  readonly reconcileDuration: Histogram;
  readonly filesWritten: Counter<'op'>;
  readonly driftFiles: Gauge<'kind'>;
  readonly driftDetected: Counter<'kind'>;
  readonly projectsFailed: Gauge;
  readonly lastSuccess: Gauge;
  readonly changeApply: Histogram;
  readonly dbUp: Gauge;
  readonly listenConnected: Gauge;
  readonly queueDepth: Gauge;
  readonly isLeader: Gauge;
  readonly deleteGuardBlocked: Counter;
  readonly certificateNotAfter: Gauge<'domain'>;
  readonly volumeFreeBytes: Gauge;
  readonly dbQueryDuration: Histogram<'query'>;
  readonly traefikRestartNeeded: Gauge;
  readonly unownedFiles: Gauge;
  /** 1, labelled with the shard this replica serves (`*`: every shard); one series per process. */
  readonly shardInfo: Gauge<'shard'>;
}

/**
 * The metrics of Traefik's API (docs/contract.md §8), registered only when TRAEFIK_API_URL is set:
 * without it they are absent, so an alert on `traefik_sync_traefik_up == 0` stays quiet where
 * nobody asked for the API to be read.
 */
export interface TraefikMetrics {
  readonly up: Gauge;
  readonly changeLive: Histogram;
  readonly configLag: Gauge;
  readonly errors: Gauge<'kind'>;
}

/** Register the Traefik API metrics on `registry`; `lagSeconds` is read at each scrape. */
export function createTraefikMetrics(registry: Registry, lagSeconds: () => number): TraefikMetrics {
  const registers = [registry];
  const m: TraefikMetrics = {
    up: new Gauge({ name: 'traefik_sync_traefik_up', help: "1 when Traefik's API answered the last read, else 0.", registers }),
    changeLive: new Histogram({
      name: 'traefik_sync_change_live_seconds',
      help: 'Database commit to Traefik serving the change (seen in its API).',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
      registers,
    }),
    configLag: new Gauge({
      name: 'traefik_sync_traefik_config_lag_seconds',
      help: 'Age of the oldest written change Traefik does not serve yet (0 when none).',
      registers,
      collect() {
        this.set(lagSeconds());
      },
    }),
    errors: new Gauge({
      name: 'traefik_sync_traefik_errors',
      help: 'Objects of our files that Traefik reports in error or warning, by kind (router, service, middleware).',
      labelNames: ['kind'],
      registers,
    }),
  };
  for (const kind of ['router', 'service', 'middleware']) m.errors.set({ kind }, 0);
  m.up.set(0);
  return m;
}

/** Create the registry and every metric, initialised so that all series exist from the start. */
export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    // Gauges named *_total break `promtool check metrics` (and Prometheus naming rules).
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      registry.removeSingleMetric(name);
    }
  }
  const registers = [registry];
  const m: Metrics = {
    registry,
    reconcileTotal: new Counter({
      name: 'traefik_sync_reconcile_total',
      help: 'Reconcile passes by result (success, error, noop).',
      labelNames: ['result'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'traefik_sync_reconcile_duration_seconds',
      help: 'Duration of reconcile passes.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    filesWritten: new Counter({
      name: 'traefik_sync_files_written_total',
      help: 'Files created, updated or deleted on the config volume.',
      labelNames: ['op'],
      registers,
    }),
    driftFiles: new Gauge({
      name: 'traefik_sync_drift_files',
      help: 'Managed files currently drifted from the database, by kind.',
      labelNames: ['kind'],
      registers,
    }),
    driftDetected: new Counter({
      name: 'traefik_sync_drift_detected_total',
      help: 'Drifted files detected, by kind.',
      labelNames: ['kind'],
      registers,
    }),
    projectsFailed: new Gauge({
      name: 'traefik_sync_projects_failed',
      help: 'Projects whose last reconcile failed (they keep their last good files).',
      registers,
    }),
    lastSuccess: new Gauge({
      name: 'traefik_sync_last_success_timestamp_seconds',
      help: 'Unix time of the last successful full reconcile.',
      registers,
    }),
    changeApply: new Histogram({
      name: 'traefik_sync_change_apply_seconds',
      help: 'Database commit to file renamed on the volume.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    dbUp: new Gauge({ name: 'traefik_sync_db_up', help: '1 when the database answered the last query, else 0.', registers }),
    listenConnected: new Gauge({ name: 'traefik_sync_listen_connected', help: '1 while the LISTEN connection is established.', registers }),
    queueDepth: new Gauge({ name: 'traefik_sync_queue_depth', help: 'Projects waiting to be reconciled.', registers }),
    isLeader: new Gauge({ name: 'traefik_sync_is_leader', help: '1 when this replica leads database-side singleton work.', registers }),
    deleteGuardBlocked: new Counter({
      name: 'traefik_sync_delete_guard_blocked_total',
      help: 'Passes refused by the delete guard (MAX_DELETE_FRACTION).',
      registers,
    }),
    certificateNotAfter: new Gauge({
      name: 'traefik_sync_certificate_not_after_timestamp_seconds',
      help: 'Expiry (notAfter, Unix time) of custom certificates, by domain.',
      labelNames: ['domain'],
      registers,
    }),
    volumeFreeBytes: new Gauge({ name: 'traefik_sync_volume_free_bytes', help: 'Free bytes on the config volume.', registers }),
    dbQueryDuration: new Histogram({
      name: 'traefik_sync_db_query_duration_seconds',
      help: 'Database query duration by query name.',
      labelNames: ['query'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    }),
    traefikRestartNeeded: new Gauge({
      name: 'traefik_sync_traefik_restart_needed',
      help: '1 while static/traefik.yml differs from what Traefik started with (Traefik reads it only at start).',
      registers,
    }),
    unownedFiles: new Gauge({
      name: 'traefik_sync_unowned_files',
      help: 'Files under dynamic/ without the traefik-sync header (Traefik loads them too).',
      registers,
    }),
    shardInfo: new Gauge({
      name: 'traefik_sync_shard_info',
      help: 'Always 1; the label says which shard this replica renders (SHARD; "*" = every shard).',
      labelNames: ['shard'],
      registers,
    }),
  };
  for (const result of ['success', 'error', 'noop']) m.reconcileTotal.inc({ result }, 0);
  for (const op of ['create', 'update', 'delete']) m.filesWritten.inc({ op }, 0);
  for (const kind of ['modified', 'missing', 'unexpected']) {
    m.driftFiles.set({ kind }, 0);
    m.driftDetected.inc({ kind }, 0);
  }
  m.projectsFailed.set(0);
  m.dbUp.set(0);
  m.listenConnected.set(0);
  m.queueDepth.set(0);
  m.isLeader.set(0);
  m.volumeFreeBytes.set(0);
  m.traefikRestartNeeded.set(0);
  m.unownedFiles.set(0);
  return m;
}
