/**
 * `npm run bench -- --traefik [--projects 1000] [--updates 200]`: change→live through a real
 * Traefik (src/demo/traefik.ts finds it). The benchmark projects (seed.ts) are served by the
 * controller (`traefik-sync run`, its own process) and by Traefik started with the static config
 * the controller generated. Some projects' plain-HTTP route points at one of two loopback backends
 * that answer with their name; each change moves one of them to the other backend, and is timed
 * from COMMIT to the first request through Traefik answered by the new backend. Also timed: when
 * the controller renamed the reload marker (→ Traefik's reload time), and Traefik's CPU and peak
 * RSS from /proc. A quiet phase (changes spaced past the throttle, no other writes) shows Traefik's
 * own re-read; the loaded phase runs 100 background commits/s as `npm run bench` does.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { watch } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { connect, sql } from '../db/connect.js';
import { migrate } from '../db/migrate.js';
import { freePort, startEmbeddedPostgres } from '../demo/embedded-postgres.js';
import { findTraefik, startTraefik, traefikPorts, type RunningTraefik } from '../demo/traefik.js';
import { layout } from '../render/project.js';
import { stopChild } from '../util.js';
import { apiRoutes, seedBench } from './seed.js';
import { backgroundLoad, rssOf } from './phases.js';
import { log, pct, sleep } from './support.js';

/** What `runTraefikLive` measures with. */
export interface TraefikLiveOptions {
  readonly projects: number;
  /** Changes timed under background load (≥ 200 for the README's numbers). */
  readonly changes: number;
  /** Changes timed with nothing else going on, spaced past the throttle. */
  readonly quietChanges: number;
  /** The controller's entry point (bin/traefik-sync.js). */
  readonly bin: string;
  readonly out: string;
  /** TRAEFIK_THROTTLE for the controller's static config; undefined = the default. */
  readonly throttle?: string;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

/** A loopback backend answering every request with its name. */
async function nameBackend(name: string): Promise<{ port: number; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

/** GET `/probe` with `host` at `address` (`127.0.0.1:PORT`), a new connection each: status and body; status 0 when it failed. */
function get(address: string, host: string): Promise<{ status: number; body: string }> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const req = request(
      { hostname: address.slice(0, i), port: Number(address.slice(i + 1)), path: '/probe', headers: { host }, agent: false, timeout: 5000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', () => resolve({ status: 0, body: '' }));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

/** CPU seconds (user + system) a process used so far, from /proc/<pid>/stat. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
}

/** traefik_config_reloads_total from Traefik's Prometheus endpoint. */
export async function reloads(metricsAddress: string): Promise<number> {
  const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
  return Number(/^traefik_config_reloads_total (\S+)$/m.exec(text)?.[1] ?? NaN);
}

/** Poll until `ok()` or `timeoutMs`; throws naming `what`. */
export async function until(what: string, ok: () => Promise<boolean>, timeoutMs: number, everyMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(everyMs);
  }
}

/**
 * The ACME storage of `resolver` as after certificates were issued: one self-signed `*.example`
 * covering every benchmark domain. Traefik then asks no CA at each reload (as in production, where
 * certificates are issued once); without it every reload retries every SSL domain against the
 * closed CA and logs an error for each, which is not what a running Traefik spends its time on.
 */
export async function issuedCertificates(work: string, resolver: string): Promise<string> {
  const [key, crt] = [path.join(work, 'wild.key'), path.join(work, 'wild.crt')];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=*.example',
      '-addext',
      'subjectAltName=DNS:*.example',
      '-keyout',
      key,
      '-out',
      crt,
    ],
    { stdio: 'ignore' },
  );
  const b64 = async (f: string) => Buffer.from(await readFile(f)).toString('base64');
  const certificate = { domain: { main: '*.example' }, certificate: await b64(crt), key: await b64(key), Store: 'default' };
  return JSON.stringify({ [resolver]: { Account: null, Certificates: [certificate] } });
}

/** Summary of a list of milliseconds. */
const summary = (xs: number[]) => ({ n: xs.length, p50: pct(xs, 50), p95: pct(xs, 95), p99: pct(xs, 99), max: Math.max(...xs) });

/** Run the scenario; writes `<out>/bench-traefik-<projects>.json` and prints a table. */
export async function runTraefikLive(o: TraefikLiveOptions): Promise<void> {
  const binary = findTraefik('newest');
  if ('missing' in binary) throw new Error(`--traefik: ${binary.missing}`);
  const work = await mkdtemp(path.join(tmpdir(), 'tsync-bench-traefik-'));
  await chmod(work, 0o755); // PostgreSQL's initdb runs as `postgres` when this runs as root
  const root = path.join(work, 'configs');
  log(`working in ${work}; ${o.projects} projects; Traefik ${binary.version} (${binary.path})`);
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(work, 'pg'),
    postgresFlags: ['-c', 'fsync=off', '-c', 'max_connections=200'],
  });
  const db = connect(pg.url, { poolSize: 4 });
  const blue = await nameBackend('blue');
  const green = await nameBackend('green');
  const color = (port: number) => (port === blue.port ? 'blue' : 'green');
  let controller: ChildProcess | undefined;
  let traefik: RunningTraefik | undefined;
  const markerEvents: number[] = [];
  let markerWatch: ReturnType<typeof watch> | undefined;
  const result: Record<string, unknown> = {
    machine: {
      loadAverageAtStart: loadavg()[0],
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    projects: o.projects,
    traefik: binary.version,
    throttle: o.throttle ?? 'default',
  };
  try {
    await migrate(db);
    await db.tx((tx) => seedBench(tx, o.projects));
    // The probes: the plain-HTTP route `/` of the first projects, on service `worker`, moved to
    // the loopback backends (allowed by ALLOWED_INTERNAL_TARGETS below).
    const probeCount = Math.min(50, Math.floor(o.projects / 2));
    const probes = await db.query(sql`
      SELECT r.id, p.name FROM route_configs r JOIN domain_configs d ON d.id = r.domain_config_id
        JOIN projects p ON p.id = d.project_id JOIN services s ON s.id = r.service_id
       WHERE p.name LIKE 'bench-%' AND NOT d.ssl_enabled AND r.path_rule = '/' AND s.name = 'worker'
       ORDER BY p.name LIMIT ${probeCount}`);
    const names = probes.map((r) => r.name as string);
    await db.query(
      sql`UPDATE services SET host = '127.0.0.1' WHERE name = 'worker' AND project_id IN (SELECT id FROM projects WHERE name = ANY(${names}))`,
    );
    await db.query(sql`UPDATE route_configs SET target_port = ${blue.port} WHERE id = ANY(${probes.map((r) => r.id as string)})`);
    const state = new Map(names.map((n) => [n, blue.port]));

    // The controller, with Traefik's ports and an overlay keeping ACME offline (accounts in the
    // work folder, a CA on a closed port): no certificate is ever requested from the network.
    const { ports, flags } = await traefikPorts();
    const overlay = path.join(work, 'static-overlay.yml');
    await writeFile(path.join(work, 'acme.json'), await issuedCertificates(work, 'letsencrypt'), { mode: 0o600 });
    await writeFile(
      overlay,
      stringify({
        certificatesResolvers: {
          letsencrypt: {
            acme: {
              storage: path.join(work, 'acme.json'),
              caServer: 'https://127.0.0.1:9/directory',
              httpChallenge: { entryPoint: 'web' },
            },
          },
        },
      }),
    );
    const httpPort = await freePort();
    controller = spawn(process.execPath, [o.bin, 'run'], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: pg.url,
        TRAEFIK_CONFIG_DIR: root,
        HTTP_ADDR: `127.0.0.1:${httpPort}`,
        LOG_LEVEL: 'warn',
        SYNC_INTERVAL: '30s',
        NODE_OPTIONS: '--max-old-space-size=256',
        TRAEFIK_ENTRYPOINTS: flags['traefik-entrypoints'],
        TRAEFIK_API_ADDR: flags['traefik-api-addr'],
        TRAEFIK_STATIC_FILE: overlay,
        ALLOWED_INTERNAL_TARGETS: '127.0.0.1',
        ...(o.throttle ? { TRAEFIK_THROTTLE: o.throttle } : {}),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = () => controller!.exitCode !== null || controller!.signalCode !== null;
    await until(
      'the controller is ready',
      async () => {
        if (exited()) throw new Error('the controller exited before it was ready (its log is above)');
        return (
          (await fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
            (r) => r.status,
            () => 0,
          )) === 200
        );
      },
      600_000,
      100,
    );
    log('controller ready; starting Traefik');

    let t0 = now();
    traefik = await startTraefik(binary, path.join(root, 'static/traefik.yml'), { timeoutMs: 120_000 });
    const web = traefik.entryPoints.web!;
    const metricsAt = `127.0.0.1:${ports.metrics}`;
    const host = (project: string) => `status.${project}.example`;
    // The whole tree loads at once: the last probe answering means every project is served.
    await until('Traefik serves the seeded projects', async () => (await get(web, host(names.at(-1)!))).body === 'blue', 600_000, 20);
    result.traefikFirstLoadMs = now() - t0;
    log(`Traefik serves all ${o.projects} projects ${(now() - t0).toFixed(0)} ms after its start`);

    markerWatch = watch(path.join(root, path.dirname(layout.marker)), (_e, file) => {
      if (file === path.basename(layout.marker)) markerEvents.push(now());
    });

    /** One change: move a probe to the other backend; returns its timings (ms). */
    const change = async (i: number) => {
      const project = names[i % names.length]!;
      const port = state.get(project) === blue.port ? green.port : blue.port;
      const want = color(port);
      const file = path.join(root, 'dynamic', project, 'services', 'worker.yml');
      let fileAt: number | undefined;
      const fileWatch = watch(path.dirname(file), async () => {
        const at = now();
        if (fileAt === undefined && (await readFile(file, 'utf8').catch(() => '')).includes(`127.0.0.1:${port}`)) fileAt ??= at;
      });
      try {
        await db.query(sql`UPDATE route_configs SET target_port = ${port} WHERE id = ${probes[i % names.length]!.id as string}`);
        const committed = now();
        await until(`change ${i + 1} (${project} → ${want})`, async () => (await get(web, host(project))).body === want, 600_000);
        const live = now();
        state.set(project, port);
        // The file was in place by the time Traefik served it, however late its event was handled.
        if (fileAt === undefined || fileAt > live) fileAt = live;
        const marker = markerEvents.find((t) => t >= (fileAt ?? committed)) ?? live;
        return { changeToLive: live - committed, changeToFile: (fileAt ?? live) - committed, reload: live - marker };
      } finally {
        fileWatch.close();
      }
    };
    let changed = 0;
    const phase = async (label: string, count: number, between: () => Promise<void>) => {
      const pid = traefik!.child.pid!;
      const [cpu0, reloads0, w0] = [await cpuSeconds(pid), await reloads(metricsAt), now()];
      const rows: Array<{ changeToLive: number; changeToFile: number; reload: number }> = [];
      for (let i = 0; i < count; i++) {
        rows.push(await change(changed++));
        if ((i + 1) % 50 === 0) log(`${label}: ${i + 1} of ${count} changes`);
        await between();
      }
      const wallS = (now() - w0) / 1000;
      const cpuS = (await cpuSeconds(pid)) - cpu0;
      return {
        changes: count,
        changeToLive: summary(rows.map((r) => r.changeToLive)),
        changeToFile: summary(rows.map((r) => r.changeToFile)),
        traefikReload: summary(rows.map((r) => r.reload)),
        traefikReloads: (await reloads(metricsAt)) - reloads0,
        traefikCpuSeconds: cpuS,
        traefikCpuCores: cpuS / wallS,
        // CPU seconds per reload beyond the idle rate: what a re-read of the tree costs on one core, however busy the machine.
        traefikCpuSecondsPerReload:
          (cpuS - (result.traefikIdleCpuCores as number) * wallS) / Math.max(1, (await reloads(metricsAt)) - reloads0),
        seconds: wallS,
      };
    };

    // Traefik at rest (health checks only), to tell its reload work apart.
    const pid = traefik.child.pid!;
    const [idleCpu0, idleAt] = [await cpuSeconds(pid), now()];
    await sleep(10_000);
    result.traefikIdleCpuCores = ((await cpuSeconds(pid)) - idleCpu0) / ((now() - idleAt) / 1000);

    // Quiet: one change at a time, each past the throttle after the last reload.
    result.quiet = await phase('quiet', o.quietChanges, async () => {
      await sleep(1200);
    });
    log(
      `quiet: change→live p50 ${(result.quiet as any).changeToLive.p50.toFixed(0)} ms, reload p50 ${(result.quiet as any).traefikReload.p50.toFixed(0)} ms`,
    );

    // Loaded: 100 background commits/s to the other projects, as `npm run bench` does.
    const background = (await apiRoutes(db)).filter((r) => !state.has(r.project));
    const load = backgroundLoad(pg.url, background, 100);
    try {
      result.loaded = { ...(await phase('loaded', o.changes, async () => {})), backgroundCommitsPerSecond: 100 };
    } finally {
      (result.loaded as any).backgroundCommits = await load.stop();
    }
    (result.machine as Record<string, unknown>).loadAverageAtEnd = loadavg()[0];
    const rss = await rssOf(traefik.child.pid!);
    result.traefikPeakRssMb = rss.peak;
    result.traefikRssMb = rss.now;
    result.controllerPeakRssMb = (await rssOf(controller.pid!)).peak;
    const errors = traefik
      .logs()
      .filter((l) => /"level":"error"/.test(l) && /providerName":"file"|watcher callback|building configuration/.test(l));
    result.traefikProviderErrors = errors.length;
    if (errors.length) log(`Traefik reported ${errors.length} file-provider errors, e.g. ${errors[0]}`);
  } finally {
    markerWatch?.close();
    await traefik?.stop();
    if (controller) await stopChild(controller, 'SIGTERM', 15_000);
    for (const s of [blue.server, green.server]) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
    await db.dispose();
    await pg.stop();
    await rm(work, { recursive: true, force: true });
  }
  await mkdir(o.out, { recursive: true });
  const out = path.join(o.out, `bench-traefik-${o.projects}.json`);
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  printTable(result, out);
}

function printTable(r: any, out: string): void {
  const f = (x: number) => x.toFixed(0);
  const p = (s: any) => `p50 ${f(s.p50)} / p95 ${f(s.p95)} / p99 ${f(s.p99)} ms`;
  const rows: Array<[string, string, string]> = [
    [
      'change→live, 100 commits/s background',
      p(r.loaded.changeToLive),
      `${r.loaded.changes} changes; target p50 ≤ 250 ms, p99 ≤ 1 s (1,000) / 2 s (10,000)`,
    ],
    ['  of which change→file', p(r.loaded.changeToFile), 'COMMIT → the nested file renamed into place'],
    [
      'Traefik reload (marker rename → served)',
      p(r.loaded.traefikReload),
      `throttle ${r.throttle}; ${r.loaded.traefikReloads} reloads in ${f(r.loaded.seconds)} s`,
    ],
    ['change→live, quiet', p(r.quiet.changeToLive), `${r.quiet.changes} changes, nothing else written`],
    ['Traefik reload, quiet (re-read of the tree)', p(r.quiet.traefikReload), ''],
    [
      'Traefik CPU',
      `${r.loaded.traefikCpuCores.toFixed(2)} cores loaded, ${r.quiet.traefikCpuCores.toFixed(2)} quiet`,
      'from /proc/<pid>/stat',
    ],
    [
      'Traefik RSS',
      `peak ${f(r.traefikPeakRssMb)} MB (now ${f(r.traefikRssMb)} MB)`,
      `first load of all projects ${f(r.traefikFirstLoadMs)} ms`,
    ],
  ];
  process.stdout.write(
    `\ntraefik-sync + Traefik ${r.traefik}: ${r.projects} projects, ${r.machine.cpus} cores (${r.machine.cpuModel}), Node ${r.machine.node}\n\n`,
  );
  process.stdout.write('| scenario | result | notes |\n|---|---|---|\n');
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
  process.stdout.write(`\nJSON: ${out}\n`);
}
