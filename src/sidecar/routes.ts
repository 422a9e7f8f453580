/**
 * Every HTTP route of the sidecar, composed here and nowhere else: the core ones (probes, metrics,
 * status), the read-only file API (docs/contract.md §5) with its OpenAPI document, and the operator page.
 */
import { settingName, SETTINGS, type Config } from '../config.js';
import type { ConnectionPool } from '../db/connect.js';
import { fileApiRoutes } from '../file-service/http.js';
import { openApiDocument } from '../file-service/openapi.js';
import { TraefikFileSystemService } from '../file-service/service.js';
import { coreRoutes, sendJson, type Handler, type Probe } from '../observability/http.js';
import type { Metrics } from '../observability/metrics.js';
import { acceptedHosts, loadApiToken, protectRoutes } from '../observability/access.js';
import { uiRoutes } from '../ui/routes.js';

/** What the routes need from the composition root. */
export interface RouteContext {
  readonly db: ConnectionPool;
  readonly config: Config;
  /** The controller, as the probes and the status endpoint see it. */
  readonly controller: Probe;
  readonly metrics: Metrics;
}

/** All routes by path; the API and the page behind the token or loopback check (observability/access.ts). */
export function sidecarRoutes(ctx: RouteContext): Map<string, Handler> {
  const files = new TraefikFileSystemService({ root: ctx.config.configDir, db: ctx.db });
  const routes = new Map<string, Handler>([
    ...coreRoutes(ctx.metrics.registry, ctx.controller),
    ...fileApiRoutes(files, { db: ctx.db }),
    ['/api/v1/openapi.json', (_req, res) => sendJson(res, 200, openApiDocument)],
    ...uiRoutes(),
  ]);
  const { apiTokenFile } = ctx.config;
  return protectRoutes(routes, {
    token: apiTokenFile ? loadApiToken(apiTokenFile, settingName(SETTINGS.apiTokenFile)) : null,
    hosts: acceptedHosts(ctx.config),
  });
}
