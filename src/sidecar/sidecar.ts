/**
 * Composition root of the long-running sidecar (`traefik-sync run`, also used by `demo` and the
 * tests): config → real dependencies → controller + HTTP server (routes.ts).
 */
import { hostname } from 'node:os';
import type { Server } from 'node:http';
import { parseDuration, requireDatabaseUrl, sessionDatabaseUrl, settingName, SETTINGS, type Config } from '../config.js';
import { Controller, STOP_STEP_MS } from '../controller/controller.js';
import type { EventSink } from '../controller/events.js';
import { connect, type ConnectionPool } from '../db/connect.js';
import { SessionLockLeader, type Leadership } from '../db/leader.js';
import { CHANNEL, Listener, shardChannel } from '../db/listen.js';
import { passwordOf, registerSecret } from '../redact.js';
import { createLogger, type Logger } from '../log.js';
import { createMetrics, createTraefikMetrics, type Metrics } from '../observability/metrics.js';
import { createHttpServer, listen, type Handler } from '../observability/http.js';
import { sidecarRoutes } from './routes.js';
import { queryName } from '../observability/query-names.js';
import { clusterIntegration } from '../k8s/cluster.js';
import { TraefikSyncService, type ShardScope } from '../reconcile/sync-service.js';
import { TraefikApi } from '../traefik-api/client.js';
import { TraefikWatch } from '../traefik-api/watch.js';
import { settledWithin } from '../util.js';

export interface SidecarOptions {
  readonly log?: Logger;
  readonly metrics?: Metrics;
  /** Leadership; defaults to a PostgreSQL advisory lock. */
  readonly leadership?: (onChange: (leader: boolean) => void) => Leadership;
  readonly events?: EventSink;
  readonly watchFiles?: boolean;
  readonly replicaId?: string;
  /** Leader housekeeping interval (tests shorten it). */
  readonly housekeepingEveryMs?: number;
  /** The sync service's clock (the delete guard's window); tests pass a fake. */
  readonly now?: () => number;
  /** More HTTP routes (e.g. the file API) by path. */
  readonly routes?: (ctx: { db: ConnectionPool; config: Config; controller: Controller }) => Map<string, Handler>;
}

export interface Sidecar {
  readonly controller: Controller;
  readonly server: Server;
  readonly port: number;
  readonly metrics: Metrics;
  readonly db: ConnectionPool;
  /** Finish the pass in flight, release leadership, close everything. */
  stop(): Promise<void>;
}

/** Start the controller and its HTTP server. */
export async function startSidecar(config: Config, options: SidecarOptions = {}): Promise<Sidecar> {
  const databaseUrl = requireDatabaseUrl(config);
  const log = options.log ?? createLogger(config.logLevel);
  const metrics = options.metrics ?? createMetrics();
  // Two kinds of connection (README "Sizing a fleet"): the pool (at most DB_POOL_SIZE; idle
  // connections close after 10 s), which keeps no session state and may go through PgBouncer in
  // transaction mode; and one session connection (LISTEN_DATABASE_URL, else DATABASE_URL) for
  // LISTEN, the advisory-lock leader and the periodic ping.
  const sessionUrl = sessionDatabaseUrl(config);
  registerSecret(passwordOf(sessionUrl));
  const db = connect(databaseUrl, {
    poolSize: config.dbPoolSize,
    setting: settingName(SETTINGS.databaseUrl),
    onError: (err) => log.warn({ err }, 'database pool error'),
    onQuery: (text, seconds) => metrics.dbQueryDuration.observe({ query: queryName(text) }, seconds),
  });
  const replicaId = options.replicaId ?? config.podName ?? `${hostname()}-${process.pid}`;
  // Traefik's checks emit through the cluster's Event sink (set up below, before any check runs).
  const traefik: TraefikWatch = new TraefikWatch({
    api: config.traefikApiUrl ? new TraefikApi({ baseUrl: config.traefikApiUrl }) : null,
    db,
    root: config.configDir,
    metrics,
    traefikMetrics: config.traefikApiUrl ? createTraefikMetrics(metrics.registry, (): number => traefik.lagSeconds()) : null,
    log,
    intervalMs: config.intervalMs,
    throttleMs: parseDuration(config.traefikStatic.throttle, settingName(SETTINGS.traefikThrottle)),
    emit: (reason, message, type) => events?.emit(reason, message, type),
  });
  const sync = new TraefikSyncService({
    db,
    ...syncServiceSettings(config, replicaId),
    log,
    onRendered: (project) => traefik.rendered(project),
    now: options.now,
  });
  const session = new Listener({
    databaseUrl: sessionUrl,
    channel: config.shard === null ? CHANNEL : shardChannel(config.shard),
    // A replica cut off from PostgreSQL loses its session (and the leader's lock) after this much
    // silence; the periodic ping keeps a live session busy once per SYNC_INTERVAL (± 10 %).
    idleSessionTimeoutMs: 2 * config.intervalMs + 10_000,
  });
  metrics.shardInfo.set({ shard: config.shard ?? '*' }, 1);
  const onLeader = (leader: boolean) => {
    metrics.isLeader.set(leader ? 1 : 0);
    log.info({ replica: replicaId, leader }, leader ? 'became leader' : 'not leader');
  };
  // Standalone, the advisory lock is held on the session connection (no connection of its own).
  const cluster = await clusterIntegration(config, log, sessionUrl);
  const standalone = (onChange: (leader: boolean) => void) => new SessionLockLeader(session, onChange, config.intervalMs);
  const leadership = (options.leadership ?? (cluster.mode === 'standalone' ? standalone : cluster.leadership))(onLeader);
  const events = options.events ?? cluster.events;
  const controller = new Controller({
    db,
    databaseUrl: sessionUrl,
    session,
    shard: config.shard,
    sync,
    root: config.configDir,
    metrics,
    log,
    replicaId,
    intervalMs: config.intervalMs,
    leadership,
    events,
    watchFiles: options.watchFiles,
    traefik,
    housekeepingEveryMs: options.housekeepingEveryMs,
  });
  const routes = new Map([...sidecarRoutes({ db, config, controller, metrics }), ...(options.routes?.({ db, config, controller }) ?? [])]);
  const server = createHttpServer(routes, (err) => log.error({ err }, 'HTTP handler failed'));
  const port = await listen(server, config.httpHost, config.httpPort);
  log.info(
    {
      replica: replicaId,
      cluster: cluster.mode,
      configDir: config.configDir,
      http: `${config.httpHost}:${port}`,
      driftMode: config.driftMode,
      shard: config.shard ?? '(all)',
      poolSize: config.dbPoolSize,
    },
    'traefik-sync controller starting',
  );
  controller.start();
  let stopping: Promise<void> | null = null;
  return {
    controller,
    server,
    port,
    metrics,
    db,
    stop() {
      stopping ??= (async () => {
        await controller.stop();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        // Waits for connections to be returned; one stuck on an unreachable server never is.
        if (!(await settledWithin(db.dispose(), STOP_STEP_MS)))
          log.warn(`stopping: closing the database pool did not finish within ${STOP_STEP_MS / 1000} s; going on without it`);
        log.info('traefik-sync stopped');
      })();
      return stopping;
    },
  };
}

/** The shard scope of a sync service (null: every project), for `run` and the one-shot commands. */
function shardScope(config: Config, replicaId: string): ShardScope | null {
  return config.shard === null
    ? null
    : { name: config.shard, replicaId, drainMs: config.shardDrainMs, timeoutMs: config.shardHandoffTimeoutMs };
}

/** What the settings say of a sync service (the same for `run` and the one-shot commands). */
export function syncServiceSettings(config: Config, replicaId: string) {
  return {
    root: config.configDir,
    driftMode: config.driftMode,
    maxDeleteFraction: config.maxDeleteFraction,
    allowedInternalTargets: config.allowedInternalTargets,
    shard: shardScope(config, replicaId),
    staticSettings: config.traefikStatic,
    providers: config.traefikProviders,
  } as const;
}
