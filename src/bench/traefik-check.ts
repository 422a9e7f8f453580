/**
 * `npm run bench:traefik-check -- --traefik PATH [--projects 10000]`: the cost of reading what
 * Traefik serves (src/traefik-api/) at N benchmark projects, against a real Traefik started with
 * the generated static config. Measures, each as time, requests and bytes read from the API:
 * the first comparison of every project (start-up), an idle periodic check, and the checks after
 * one changed project until Traefik is seen serving it (with change→live, and when Traefik's API
 * first showed the change, polled by name every 100 ms apart from the watch). Prints JSON.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connect, sql } from '../db/connect.js';
import { migrate } from '../db/migrate.js';
import { freePort, startEmbeddedPostgres } from '../demo/embedded-postgres.js';
import { silentLogger } from '../log.js';
import { createMetrics, createTraefikMetrics } from '../observability/metrics.js';
import { TraefikSyncService } from '../reconcile/sync-service.js';
import type { RenderedProject } from '../render/types.js';
import { DEFAULT_STATIC_SETTINGS, type StaticSettings } from '../render/static-settings.js';
import { TraefikApi } from '../traefik-api/client.js';
import { TraefikWatch } from '../traefik-api/watch.js';
import { apiRoutes, seedBench } from './seed.js';

const { values } = parseArgs({
  options: {
    traefik: { type: 'string' },
    projects: { type: 'string', default: '1000' },
    'wait-minutes': { type: 'string', default: '20' },
  },
});
const N = Number(values.projects);
const WAIT_MS = Number(values['wait-minutes']) * 60_000;
if (!values.traefik || !Number.isInteger(N) || N < 1 || !(WAIT_MS > 0)) {
  process.stderr.write('usage: npm run bench:traefik-check -- --traefik PATH [--projects N] [--wait-minutes 20]\n');
  process.exit(2);
}
/** The watch's idea of Traefik's throttle in this benchmark. */
const THROTTLE_MS = 500;
const log = (m: string) => process.stderr.write(`traefik-check: ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const work = await mkdtemp(path.join(tmpdir(), 'tsync-traefik-check-'));
await chmod(work, 0o755); // PostgreSQL's initdb runs as `postgres` when this runs as root
const root = path.join(work, 'configs');
const pg = await startEmbeddedPostgres({ dataDir: path.join(work, 'pg'), postgresFlags: ['-c', 'fsync=off'] });
const db = connect(pg.url, { poolSize: 8, statementTimeoutMs: 600_000 });
const ports = { web: await freePort(), websecure: await freePort(), api: await freePort() };
const settings: StaticSettings = {
  ...DEFAULT_STATIC_SETTINGS,
  entryPoints: [
    { name: 'web', address: `127.0.0.1:${ports.web}` },
    { name: 'websecure', address: `127.0.0.1:${ports.websecure}` },
  ],
  apiAddress: `127.0.0.1:${ports.api}`,
  // ACME account storage in the work folder and a CA that is a closed port: no network needed.
  overlay: {
    file: '(bench)',
    doc: {
      certificatesResolvers: {
        letsencrypt: {
          acme: { storage: path.join(work, 'acme.json'), caServer: 'https://127.0.0.1:9/directory', httpChallenge: { entryPoint: 'web' } },
        },
      },
    },
  },
};
const metrics = createMetrics({ defaultMetrics: false });
const api = new TraefikApi({ baseUrl: `http://127.0.0.1:${ports.api}`, timeoutMs: 30_000 });
const watch: TraefikWatch = new TraefikWatch({
  api,
  db,
  root,
  metrics,
  traefikMetrics: createTraefikMetrics(metrics.registry, (): number => watch.lagSeconds()),
  log: silentLogger,
  intervalMs: 3_600_000,
  throttleMs: THROTTLE_MS,
});
const sync = new TraefikSyncService({
  db,
  root,
  driftMode: 'repair',
  maxDeleteFraction: 1,
  log: silentLogger,
  staticSettings: settings,
  onRendered: (p) => {
    watch.rendered(p);
    rendered.set(p.projectId, p);
  },
});
/** The last rendered documents of each project (to find the changed service's name). */
const rendered = new Map<string, RenderedProject>();
let peakRss = 0;
const rss = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

/** One check, measured. */
async function measured(tick: boolean): Promise<{ ms: number; requests: number; bytes: number }> {
  const [r0, b0, t0] = [api.requests, api.bytesRead, performance.now()];
  await watch.check(tick);
  return { ms: Math.round(performance.now() - t0), requests: api.requests - r0, bytes: api.bytesRead - b0 };
}

/** The name of the service in `project`'s documents whose server URL contains `port`. */
function changedService(project: RenderedProject | undefined, port: string): string | undefined {
  for (const doc of project?.documents.values() ?? []) {
    for (const [name, svc] of Object.entries(doc.http?.services ?? {})) {
      if (JSON.stringify(svc).includes(port)) return name;
    }
  }
  return undefined;
}

let traefik: ReturnType<typeof spawn> | undefined;
try {
  await migrate(db);
  log(`seeding ${N} projects`);
  await db.tx((tx) => seedBench(tx, N));
  log('full sync');
  watch.passed(await sync.syncAllProjects(), true);
  traefik = spawn(values.traefik, [`--configFile=${path.join(root, 'static/traefik.yml')}`], { stdio: 'ignore' });
  const want = watch.state.totals();
  const loadStart = performance.now();
  for (;;) {
    const o = await api.overview().catch(() => null);
    if (o && o.http.routers.total >= want.routers && o.http.middlewares.total >= want.middlewares) break;
    await sleep(1000);
  }
  const traefikLoadS = Math.round((performance.now() - loadStart) / 100) / 10;
  log(`Traefik serves ${want.routers} routers after ${traefikLoadS} s`);
  const startup = await measured(false);
  const live = [...watch.state.projects.values()].filter((p) => p.loaded).length;
  const idle = await measured(true);
  const idle2 = await measured(true);
  // One change: a route's port, committed, written by a project pass, then checks until served.
  const [route] = await apiRoutes(db);
  const committed = Date.now();
  await db.query(sql`UPDATE route_configs SET target_port = 3001 WHERE id = ${route!.routeId}`);
  const id = (await db.query(sql`SELECT id FROM projects WHERE name = ${route!.project}`))[0]!.id as string;
  watch.passed(await sync.syncProjects([id]), false);
  const writtenS = (Date.now() - committed) / 1000;
  // Independently of the watch: when Traefik's API first shows the changed service (one GET by
  // name every 100 ms), so change→live can be told apart from Traefik's own reload time.
  const service = changedService(rendered.get(id), ':3001');
  let traefikServesS: number | null = null;
  let watching = true;
  const independent = (async () => {
    while (watching && service) {
      const r = await fetch(`http://127.0.0.1:${ports.api}/api/http/services/${encodeURIComponent(`${service}@file`)}`).catch(() => null);
      if (r?.ok && (await r.text()).includes(':3001')) {
        traefikServesS = (Date.now() - committed) / 1000;
        return;
      }
      await sleep(100);
    }
  })();
  const polls: Array<{ ms: number; requests: number; bytes: number }> = [];
  // Polled as the controller polls (src/traefik-api/watch.ts): Traefik's throttle + 200 ms, then
  // twice as long each time up to the sync interval (default 30 s); given up after --wait-minutes.
  let delay = THROTTLE_MS + 200;
  while (watch.state.pendingProjects().length > 0 && Date.now() - committed < WAIT_MS) {
    await sleep(delay);
    polls.push(await measured(false));
    delay = Math.min(delay * 2, 30_000);
  }
  const confirmed = watch.state.pendingProjects().length === 0;
  const changeLiveS = (Date.now() - committed) / 1000;
  await Promise.race([independent, sleep(5_000)]);
  watching = false;
  const ms = polls.map((p) => p.ms).sort((a, b) => a - b);
  const out = {
    projects: N,
    objects: want,
    traefikLoadS,
    startupCompare: { ...startup, projectsLive: live },
    idleCheck: [idle, idle2],
    afterOneChange: {
      confirmed,
      writtenS: Math.round(writtenS * 10) / 10,
      changeLiveS: confirmed ? Math.round(changeLiveS * 10) / 10 : null,
      traefikServesS: traefikServesS === null ? null : Math.round((traefikServesS as number) * 10) / 10,
      pollMs: { count: ms.length, p50: ms[Math.floor(ms.length / 2)] ?? null, max: ms.at(-1) ?? null },
      polls,
    },
    peakRssMB: Math.round(peakRss / 2 ** 20),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
} finally {
  clearInterval(rss);
  traefik?.kill();
  await db.dispose();
  await pg.stop();
  await rm(work, { recursive: true, force: true });
}
