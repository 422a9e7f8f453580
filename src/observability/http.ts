/**
 * The sidecar's HTTP server (docs/contract.md §5): probes, metrics, status, and whatever routes other modules
 * add (the read-only file API). Plain node:http; routes are exact paths, GET/HEAD only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { messageOf } from '../errors.js';
import { redact, redactDeep } from '../redact.js';
import { guardConnections } from './connections.js';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

/** What the probes and status endpoint ask of the controller. */
export interface Probe {
  /** Whether Traefik can be served from the volume (/readyz). */
  readonly serving: boolean;
  readonly heartbeatAgeMs: number;
  status(): Record<string, unknown>;
}

/** Send a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

/** Routes every sidecar serves: /metrics, /healthz, /readyz, /api/v1/status. */
export function coreRoutes(registry: Registry, probe: Probe, maxHeartbeatAgeMs = 15_000): Map<string, Handler> {
  // /metrics is open to anyone and costs milliseconds of the event loop the probes share: requests
  // that come while one is rendered share it, and past 10 renderings in a second the last one is
  // served again (Prometheus scrapes every few seconds: it always gets a fresh one).
  let rendering: Promise<string> | null = null;
  let last: string | null = null;
  const window = { start: 0, renders: 0 };
  const metricsText = (): Promise<string> => {
    if (rendering) return rendering;
    const now = Date.now();
    if (now - window.start >= 1_000) Object.assign(window, { start: now, renders: 0 });
    if (last !== null && window.renders >= 10) return Promise.resolve(last);
    window.renders++;
    rendering = registry.metrics().then(
      (text) => {
        rendering = null;
        return (last = text);
      },
      (err: unknown) => {
        rendering = null;
        throw err;
      },
    );
    return rendering;
  };
  return new Map<string, Handler>([
    [
      '/metrics',
      async (_req, res) => {
        const body = await metricsText();
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(body);
      },
    ],
    [
      '/healthz',
      (_req, res) => {
        const age = probe.heartbeatAgeMs;
        if (age <= maxHeartbeatAgeMs) sendJson(res, 200, { status: 'ok', heartbeatAgeMs: age });
        else sendJson(res, 503, { status: 'stalled', heartbeatAgeMs: age });
      },
    ],
    [
      '/readyz',
      (_req, res) => {
        if (probe.serving) sendJson(res, 200, { status: 'ready' });
        else sendJson(res, 503, { status: 'not ready: the first full sync has not written the config yet' });
      },
    ],
    // Errors in the status quote rows and files: redacted here, where they leave the process.
    ['/api/v1/status', (_req, res) => sendJson(res, 200, redactDeep(probe.status()))],
  ]);
}

/** Limits that keep clients from holding the process's sockets (and file descriptors). */
export interface ServerLimits {
  /**
   * Connections open at once (default 512). A new connection is always taken; one held (idle
   * first, from the client holding the most) is closed to make room (see connections.ts), so
   * the probes cannot be crowded out.
   */
  readonly maxConnections?: number;
  /** Connections one client address holds at once; its oldest idle one makes room (default 64). */
  readonly maxPerClient?: number;
  /**
   * A socket silent this long is closed (default 120 s: above the slowest legitimate answer, a
   * database query that waited 30 s for a pool connection and then its 35 s).
   */
  readonly idleTimeoutMs?: number;
  /** A request's headers must arrive within this (default 10 s). */
  readonly headersTimeoutMs?: number;
}

/** An HTTP server for `routes`: an unknown path is 404, a known one asked with another method than GET/HEAD is 405. */
export function createHttpServer(
  routes: ReadonlyMap<string, Handler>,
  onError?: (err: unknown) => void,
  limits: ServerLimits = {},
): Server {
  const headersTimeout = limits.headersTimeoutMs ?? 10_000;
  const server = createServer(
    {
      headersTimeout,
      requestTimeout: Math.max(headersTimeout, 30_000),
      keepAliveTimeout: 5_000,
      connectionsCheckingInterval: Math.min(1_000, headersTimeout),
    },
    (req, res) => {
      let url: URL;
      try {
        // Resolved against a base, "//healthz" would name a host called "healthz": keep the path a path.
        const raw = req.url ?? '/';
        url = raw.startsWith('/') ? new URL(`http://localhost${raw}`) : new URL(raw, 'http://localhost');
      } catch {
        sendJson(res, 400, { error: 'bad request URL' });
        return;
      }
      const handler = routes.get(url.pathname);
      if (!handler) {
        sendJson(res, 404, { error: `no such endpoint: ${url.pathname.slice(0, 200)}` });
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        sendJson(res, 405, { error: `method ${req.method} not allowed: this API is read-only` });
        return;
      }
      Promise.resolve(handler(req, res, url)).catch((err: unknown) => {
        onError?.(err);
        if (!res.headersSent) sendJson(res, 500, { error: redact(messageOf(err)) });
        else res.destroy();
      });
    },
  );
  guardConnections(server, { maxConnections: limits.maxConnections ?? 512, maxPerClient: limits.maxPerClient ?? 64 });
  server.setTimeout(limits.idleTimeoutMs ?? 120_000); // no 'timeout' listener: the socket is destroyed
  return server;
}

/** Listen on host:port; resolves with the bound port. */
export async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A deep accept queue: a burst of connections must not drop the probes' SYNs (retried only after 1 s).
    server.listen({ port, host, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : port;
}
