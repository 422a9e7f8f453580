/**
 * Every HTTP route of the sidecar: the core ones (probes, metrics, status) plus the read-only
 * file API and the operator page when those modules are present.
 */
import type { Config } from '../config.js';
import type { Controller } from '../controller.js';
import type { ConnectionPool } from '../db/connect.js';
import type { Metrics } from './metrics.js';
import { coreRoutes, type Handler } from './http.js';

export interface RouteContext {
  readonly db: ConnectionPool;
  readonly config: Config;
  readonly controller: Controller;
  readonly metrics: Metrics;
}

/** All routes by path. */
export function sidecarRoutes(ctx: RouteContext): Map<string, Handler> {
  return new Map([...coreRoutes(ctx.metrics.registry, ctx.controller)]);
}
