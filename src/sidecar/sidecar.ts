/**
 * Composition root of the long-running sidecar (`traefik-sync run`, also used by `demo` and the
 * tests): config → real dependencies → controller + HTTP server (routes.ts).
 */
import { hostname } from 'node:os';
import type { Server } from 'node:http';
import { requireDatabaseUrl, settingName, SETTINGS, type Config } from '../config.js';
import { Controller, STOP_STEP_MS } from '../controller/controller.js';
import type { EventSink } from '../controller/events.js';
import { connect, type ConnectionPool } from '../db/connect.js';
import type { Leadership } from '../db/leader.js';
import { createLogger, type Logger } from '../log.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { createHttpServer, listen, type Handler } from '../observability/http.js';
import { sidecarRoutes } from './routes.js';
import { queryName } from '../observability/query-names.js';
import { clusterIntegration } from '../k8s/cluster.js';
import { TraefikSyncService } from '../reconcile/sync-service.js';
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
  const db = connect(databaseUrl, {
    poolSize: 6,
    setting: settingName(SETTINGS.databaseUrl),
    onError: (err) => log.warn({ err }, 'database pool error'),
    onQuery: (text, seconds) => metrics.dbQueryDuration.observe({ query: queryName(text) }, seconds),
  });
  const replicaId = options.replicaId ?? config.podName ?? `${hostname()}-${process.pid}`;
  const sync = new TraefikSyncService({
    db,
    root: config.configDir,
    driftMode: config.driftMode,
    maxDeleteFraction: config.maxDeleteFraction,
    allowedInternalTargets: config.allowedInternalTargets,
    log,
    staticSettings: config.traefikStatic,
    now: options.now,
  });
  const onLeader = (leader: boolean) => {
    metrics.isLeader.set(leader ? 1 : 0);
    log.info({ replica: replicaId, leader }, leader ? 'became leader' : 'not leader');
  };
  const cluster = await clusterIntegration(config, log, databaseUrl);
  const leadership = (options.leadership ?? cluster.leadership)(onLeader);
  const controller = new Controller({
    db,
    databaseUrl,
    sync,
    root: config.configDir,
    metrics,
    log,
    replicaId,
    intervalMs: config.intervalMs,
    leadership,
    events: options.events ?? cluster.events,
    watchFiles: options.watchFiles,
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
