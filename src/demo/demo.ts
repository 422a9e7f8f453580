/**
 * `traefik-sync demo` (also `npm run demo`): everything in one process, nothing to install — an
 * embedded PostgreSQL in ./.traefik-sync-demo (kept, with its port, for the next run), migrations,
 * the sample projects from examples/ (applied once, when the database is created), and the
 * controller writing ./traefik-configs with metrics, status and the operator page on
 * 127.0.0.1:9090. Every setting of `run` applies (flags and environment); the demo only changes
 * some defaults (settings.ts) and brings its own DATABASE_URL.
 *
 * SIGINT/SIGTERM stop it at any moment, start-up included: the step in flight finishes (initdb,
 * PostgreSQL's start, a migration), then the controller and PostgreSQL stop, in that order. The
 * exit code is then 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM): what a shell
 * reports for a process the signal ended, so the code is the same whether the signal comes while
 * Node is still loading (before this module runs, nothing started yet), during start-up or later.
 * (`npm run demo` exits 130 on Ctrl-C whatever the demo returns.)
 */
import { chmod, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TraefikConfigService } from '../config-service/service.js';
import { loadSpecFile } from '../config-service/spec.js';
import { connect } from '../db/connect.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { migrate } from '../db/migrate.js';
import { demoBanner } from './banner.js';
import { assertDataDirFree, assertHttpAddrFree, httpAddrError, postgresPort } from './preflight.js';
import { demoConfig, otherDatabaseUrl } from './settings.js';
import { readDemoState, writeDemoState } from './state.js';
import { StopRequest } from './stop.js';
import { createLogger } from '../log.js';
import { SETTINGS } from '../config.js';
import { startSidecar, type Sidecar } from '../sidecar/sidecar.js';
import type { RunningTraefik } from './traefik.js';
import {
  demoTraefikBinary,
  demoTraefikFlags,
  SAMPLE,
  sampleSpec,
  startDemoTraefik,
  startSampleBackends,
  type SampleBackends,
} from './with-traefik.js';

const EXAMPLES = fileURLToPath(new URL('../../examples', import.meta.url));

/** Thrown between steps once a stop was requested. */
class Stopped extends Error {}

/** `p` as the user would type it: relative (./x) when inside the working directory, else absolute. */
function shown(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? p : `./${rel}`;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** What the demo runs with: the parsed flags, the environment and where its lines go. */
export interface DemoContext {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** The text of setting `key` as given (flag, else environment). */
function rawSetting(values: DemoContext['values'], env: DemoContext['env'], key: keyof typeof SETTINGS): string | undefined {
  const s = SETTINGS[key];
  const flag = values[s.flag];
  return typeof flag === 'string' && flag !== '' ? flag : 'env' in s ? env[s.env] : undefined;
}

/** Run the demo until SIGINT/SIGTERM; returns the exit code (128 + the signal's number after a clean stop). */
export async function demo(ctx: DemoContext): Promise<number> {
  const stop = await StopRequest.listen(() => ctx.err('demo: stopping…'));
  const check = () => {
    if (stop.requested) throw new Stopped();
  };
  try {
    await runDemo(ctx, check, stop);
  } catch (e) {
    // After a signal, a failing step is the stop's doing (Ctrl-C in a terminal reaches initdb and
    // PostgreSQL too): the stop was clean.
    if (!(e instanceof Stopped) && !stop.requested) throw e;
  } finally {
    stop.dispose();
  }
  ctx.err('demo: stopped');
  return 128 + constants.signals[await stop.received];
}

/** The demo from its checks to its stop; returns once it stopped after a signal. */
async function runDemo(ctx: DemoContext, check: () => void, stop: StopRequest): Promise<void> {
  const dataDir = path.resolve(typeof ctx.values['data-dir'] === 'string' ? ctx.values['data-dir'] : '.traefik-sync-demo');
  const traefikBinary = demoTraefikBinary(ctx.values, ctx.env);
  const binary = 'missing' in traefikBinary ? null : traefikBinary;
  let values = ctx.values;
  if (binary) {
    await mkdir(dataDir, { recursive: true });
    values = { ...values, ...(await demoTraefikFlags(values, ctx.env, dataDir)) };
  }
  const config = demoConfig(values, ctx.env);
  const log = createLogger(config.logLevel);
  // Ctrl-C in a terminal reaches PostgreSQL too, which then goes away under the controller: its
  // complaints about that while it stops are expected, and not shown.
  void stop.received.then(() => {
    log.level = 'silent';
  });
  const pgDir = path.join(dataDir, 'pg');
  const note = await assertDataDirFree(pgDir, shown(pgDir));
  if (note) ctx.err(`demo: ${note}`);
  await assertHttpAddrFree(config.httpHost, config.httpPort);
  await mkdir(dataDir, { recursive: true });
  await chmod(dataDir, 0o755); // PostgreSQL runs as `postgres` when we are root
  const created = !(await exists(path.join(pgDir, 'PG_VERSION')));
  const state = await readDemoState(dataDir);
  const { port, movedFrom } = await postgresPort(state.postgresPort);
  const examplesApplied = created ? false : state.examplesApplied;
  await writeDemoState(dataDir, { ...state, postgresPort: port, examplesApplied });
  check();
  ctx.err(`demo: starting PostgreSQL in ${shown(dataDir)}${created ? ' (first run: initdb takes a few seconds)…' : '…'}`);
  const pg = await startEmbeddedPostgres({ dataDir: pgDir, port, password: 'demo' });
  let backends: SampleBackends | undefined;
  try {
    check();
    if (otherDatabaseUrl(ctx.values, ctx.env, pg.url))
      ctx.err('demo: ignoring --database-url (DATABASE_URL): the demo uses its own database');
    const db = connect(pg.url, { poolSize: 2 });
    const demoServiceOptions = {
      actor: 'demo',
      configDir: config.configDir,
      providers: config.traefikProviders,
      traefikStatic: config.traefikStatic,
      allowedInternalTargets: config.allowedInternalTargets,
    };
    let applied: string[] | null = null;
    try {
      const migrations = await migrate(db);
      ctx.err(`demo: schema ${migrations.length ? `migrated (${migrations.join(', ')})` : 'up to date'}`);
      check();
      if (examplesApplied === false) {
        const service = new TraefikConfigService(db, demoServiceOptions);
        applied = (await readdir(EXAMPLES)).filter((f) => f.endsWith('.yaml')).sort();
        for (const f of applied) {
          const [r] = await service.applyProjects([await loadSpecFile(path.join(EXAMPLES, f))]);
          ctx.err(`demo: applied ${shown(path.join(EXAMPLES, f))}${r ? ` (${r.changes.length} change(s))` : ''}`);
        }
        await writeDemoState(dataDir, { ...state, postgresPort: port, examplesApplied: true });
      } else {
        ctx.err(`demo: database reused from ${shown(dataDir)}; examples not applied again`);
      }
      if (binary) {
        // The sample project points at the sample backends; applied again only when their ports moved.
        backends = await startSampleBackends(state.sampleBackends);
        const { blue, green } = backends;
        if (applied !== null || state.sampleBackends?.blue !== blue || state.sampleBackends.green !== green) {
          const file = path.join(dataDir, SAMPLE.file);
          await writeFile(file, sampleSpec(backends));
          await new TraefikConfigService(db, demoServiceOptions).applyProjects([await loadSpecFile(file)]);
          ctx.err(`demo: applied ${shown(file)} (the sample project, on the blue backend 127.0.0.1:${blue})`);
          await writeDemoState(dataDir, { ...state, postgresPort: port, examplesApplied: true, sampleBackends: { blue, green } });
        }
      }
    } finally {
      await db.dispose();
    }
    check();

    const running = Object.freeze({ ...config, databaseUrl: pg.url });
    const sidecar: Sidecar = await startSidecar(running, { log }).catch(async (e: unknown) => {
      throw await httpAddrError(e, running.httpHost, running.httpPort);
    });
    let traefik: RunningTraefik | undefined;
    try {
      for (let i = 0; i < 100 && !sidecar.controller.synced && !stop.requested; i++) await new Promise((r) => setTimeout(r, 100));
      check();
      if (binary) {
        traefik = await startDemoTraefik(binary, path.join(running.configDir, 'static/traefik.yml'), path.join(dataDir, 'traefik.log'));
        check();
      }
      const host =
        running.httpHost === '0.0.0.0' ? '127.0.0.1' : running.httpHost.includes(':') ? `[${running.httpHost}]` : running.httpHost;
      const handEdit = path.join(running.configDir, 'dynamic/shop/services/api.yml');
      ctx.out(
        demoBanner({
          base: `http://${host}:${sidecar.port}`,
          databaseUrl: pg.url,
          ...(movedFrom === undefined ? {} : { movedFrom }),
          configDir: { shown: shown(running.configDir), absolute: running.configDir },
          dataDir: shown(dataDir),
          examplesDir: shown(EXAMPLES),
          applied,
          driftMode: running.driftMode,
          ...((await exists(handEdit)) ? { handEdit: shown(handEdit) } : {}),
          traefik:
            traefik && backends
              ? {
                  version: traefik.binary.version,
                  web: traefik.entryPoints.web!,
                  api: traefik.apiUrl,
                  log: shown(path.join(dataDir, 'traefik.log')),
                  sample: { host: SAMPLE.host, file: shown(path.join(dataDir, SAMPLE.file)), green: backends.green },
                  allowedInternalTargets: rawSetting(values, ctx.env, 'allowedInternalTargets'),
                }
              : { missing: 'missing' in traefikBinary ? traefikBinary.missing : 'did not start' },
        }),
      );
      await stop.received;
    } finally {
      await traefik?.stop();
      await sidecar.stop();
    }
  } finally {
    await backends?.close();
    await pg.stop();
  }
}
