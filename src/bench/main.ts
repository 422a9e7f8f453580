/**
 * `npm run bench [-- --projects 10000]`: reproducible numbers on an embedded PostgreSQL.
 * Prints a table and writes bench-results/bench-<projects>.json. See README "Benchmark".
 * With `--replicas N`, a fleet of N controllers instead (fleet.ts); with `--traefik`, change→live
 * through a real Traefik (traefik-live.ts).
 */
import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { chmod, mkdir, mkdtemp, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect, sql, type ConnectionPool } from '../db/connect.js';
import { freePort, startEmbeddedPostgres } from '../demo/embedded-postgres.js';
import { changeFingerprint, listProjectRefs } from '../db/load.js';
import { migrate } from '../db/migrate.js';
import { fsyncDir } from '../fs/atomic.js';
import { defaultMaxWatches } from '../fs/watch.js';
import { silentLogger } from '../log.js';
import { TraefikSyncService, totals } from '../reconcile/sync-service.js';
import { mapLimit } from '../util.js';
import { runFleet } from './fleet.js';
import { backgroundLoad, changeLatencies, Child, latencyStats, rssOf, type LatencyStats } from './phases.js';
import { runTraefikLive } from './traefik-live.js';
import { apiRoutes, seedBench } from './seed.js';
import { watcherTick } from './watcher-tick.js';
import { log, metricsOf, ms, pct, sleep, within } from './support.js';

const BIN = fileURLToPath(new URL('../../bin/traefik-sync.js', import.meta.url));

/** Flags, checked: a bad one stops the run with one line naming it (exit 2). */
function options() {
  try {
    const { values } = parseArgs({
      options: {
        projects: { type: 'string', default: '1000' },
        updates: { type: 'string' },
        'burst-per': { type: 'string', default: '100' },
        out: { type: 'string', default: 'bench-results' },
        replicas: { type: 'string' },
        interval: { type: 'string', default: '30s' },
        'idle-window': { type: 'string', default: '60' },
        'pool-size': { type: 'string' },
        bin: { type: 'string' },
        traefik: { type: 'boolean', default: false },
      },
    });
    const int = (flag: string, text: string | undefined, min: number, max = Infinity) => {
      const n = Number(text);
      if (!Number.isInteger(n) || n < min || n > max)
        throw new Error(`--${flag}: expected an integer ≥ ${min}${max < Infinity ? ` and ≤ ${max}` : ''}, got ${JSON.stringify(text)}`);
      return n;
    };
    const fleet = values.replicas !== undefined;
    return {
      N: int('projects', values.projects, 100),
      UPDATES: int('updates', values.updates ?? (fleet ? '50' : values.traefik ? '200' : '1000'), 1),
      TRAEFIK: values.traefik,
      BURST_PER: int('burst-per', values['burst-per'], 1),
      OUT: values.out,
      REPLICAS: fleet ? int('replicas', values.replicas, 1, 200) : null,
      INTERVAL: values.interval,
      IDLE_WINDOW_S: int('idle-window', values['idle-window'], 10),
      POOL_SIZE: values['pool-size'] === undefined ? undefined : int('pool-size', values['pool-size'], 1, 100),
      BIN_PATH: values.bin ? path.resolve(values.bin) : BIN,
    };
  } catch (err) {
    process.stderr.write(
      `bench: ${(err as Error).message} (usage: npm run bench -- [--projects N] [--updates N] [--burst-per N] [--out DIR] | --traefik [--projects N] [--updates N] [--out DIR] | --replicas N [--projects N] [--updates N] [--interval 30s] [--idle-window SECONDS] [--pool-size N] [--bin PATH] [--out DIR])\n`,
    );
    process.exit(2);
  }
}
const { N, UPDATES, BURST_PER, OUT, REPLICAS, INTERVAL, IDLE_WINDOW_S, POOL_SIZE, BIN_PATH, TRAEFIK } = options();
/** Background commits per second while changes are timed (as in issue 18's measurement). */
const LOAD_PER_S = 50;

/** The floor: the same bytes through the minimal atomic write (temp, fsync, rename, dir fsync). */
async function floorWrite(files: Array<{ path: string; content: string }>, root: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const dirs = new Set<string>();
  await mapLimit(files, 16, async (f) => {
    const target = path.join(root, f.path);
    const dir = path.dirname(target);
    if (!dirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      dirs.add(dir);
    }
    const tmp = `${target}.tmp`;
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644);
    await fh.writeFile(f.content);
    await fh.sync();
    await fh.close();
    await rename(tmp, target);
  });
  await mapLimit([...dirs], 64, (d) => fsyncDir(d));
  return ms(t0);
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(tmpdir(), 'tsync-bench-'));
  await chmod(work, 0o755);
  log(`working in ${work}; ${N} projects`);
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(work, 'pg'),
    postgresFlags: ['-c', 'fsync=off', '-c', 'max_connections=200'],
  });
  let queries = 0;
  const db = connect(pg.url, {
    poolSize: 8,
    onQuery: () => {
      queries++;
    },
  });
  const result: Record<string, unknown> = {
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    projects: N,
  };
  let child: Child | undefined;
  try {
    await migrate(db);
    let t0 = process.hrtime.bigint();
    await db.tx((tx) => seedBench(tx, N));
    const [counts] = await db.query(
      sql`SELECT (SELECT count(*) FROM services) AS services, (SELECT count(*) FROM route_configs) AS routes, (SELECT count(*) FROM domain_configs) AS domains`,
    );
    result.seed = { ms: ms(t0), ...counts };
    log(`seeded in ${ms(t0).toFixed(0)} ms: ${JSON.stringify(counts)}`);

    // Before each timed write: let earlier writes (the seed's, the previous run's) reach the disk,
    // or the kernel flushing them in the background slows the fsyncs being timed.
    const settle = async () => {
      await db.query(sql`CHECKPOINT`);
      execFileSync('sync');
    };

    // 1. Cold full sync vs the floor: the raw SELECT of the rows plus the same bytes through the
    // minimal atomic write. Disk speed drifts on shared machines (the floor alone has measured
    // 8–17 s at 10,000 projects), so the floor is measured right before and right after the cold
    // sync, from the same flushed state, and the cold sync is compared with their mean.
    const rootA = path.join(work, 'a');
    const service = new TraefikSyncService({ db, root: rootA, driftMode: 'repair', maxDeleteFraction: 0.5, log: silentLogger });
    const files = (await service.preview()).changes.flatMap((c) => (c.after === null ? [] : [{ path: c.path, content: c.after }]));
    const floor = async (dir: string) => {
      await settle();
      const t1 = process.hrtime.bigint();
      await db.query(sql`SELECT * FROM projects`);
      await db.query(sql`SELECT * FROM services`);
      await db.query(sql`SELECT * FROM domain_configs`);
      await db.query(sql`SELECT * FROM route_configs`);
      const selectMs = ms(t1);
      return { selectMs, writeMs: await floorWrite(files, path.join(work, dir)) };
    };
    const floorBefore = await floor('floor-before');
    await settle();
    t0 = process.hrtime.bigint();
    const cold = await service.syncAllProjects();
    const coldMs = ms(t0);
    const floorAfter = await floor('floor-after');
    const floorMs = (floorBefore.selectMs + floorBefore.writeMs + floorAfter.selectMs + floorAfter.writeMs) / 2;
    if (totals(cold.results).created !== files.length)
      throw new Error(`cold sync wrote ${totals(cold.results).created} files, the preview had ${files.length}`);
    result.coldSync = {
      ms: coldMs,
      files: files.length,
      floorBefore,
      floorAfter,
      floorMs,
      ratio: coldMs / floorMs,
    };
    log(
      `cold sync ${coldMs.toFixed(0)} ms for ${files.length} files; floor ${(floorBefore.selectMs + floorBefore.writeMs).toFixed(0)} ms before, ${(floorAfter.selectMs + floorAfter.writeMs).toFixed(0)} ms after`,
    );

    // 2. Idle resync: the periodic check the controller makes when nothing changed — one query,
    // plus a rotating slice of 2,000 stat() calls (file events cover the rest) — and, for
    // reference, a stat() of every managed file and a full no-op pass.
    const idle: number[] = [];
    const idleDb: number[] = [];
    let idleQueries = 0;
    for (let i = 0; i < 10; i++) {
      const q0 = queries;
      t0 = process.hrtime.bigint();
      await changeFingerprint(db);
      idleDb.push(ms(t0));
      const changed = await service.verifyDisk(2000);
      idle.push(ms(t0));
      idleQueries = queries - q0;
      if (changed.size) throw new Error('idle check found changes');
    }
    t0 = process.hrtime.bigint();
    await service.verifyDisk();
    const fullVerifyMs = ms(t0);
    // The tick when the watcher hit its limit on this machine (half of max_user_watches, at most
    // 131,072): two directories a project, plus dynamic/, static/, ssl/….
    const watcher = await watcherTick({
      names: (await listProjectRefs(db)).map((p) => p.name),
      directories: 2 * N + 4,
      maxWatches: await defaultMaxWatches(),
      inventory: service.inventory,
      verifyDisk: (limit, unwatched) => service.verifyDisk(limit, unwatched),
      query: () => changeFingerprint(db),
    });
    result.watcher = { ...watcher, tickBeforeMs: fullVerifyMs };
    log(
      `watcher: ${watcher.directories} directories, limit ${watcher.maxWatches}; ${watcher.unwatchedDirectories} unwatched: tick ${watcher.tickMs.toFixed(1)} ms (${watcher.callsPerTick} calls), listing their files ${watcher.listMs.toFixed(1)} ms`,
    );
    t0 = process.hrtime.bigint();
    const noop = await service.syncAllProjects();
    result.idleResync = {
      ms: pct(idle, 50),
      dbMs: pct(idleDb, 50),
      diskMs: pct(idle, 50) - pct(idleDb, 50),
      queries: idleQueries,
      filesWritten: 0,
      fullDiskVerifyMs: fullVerifyMs,
      fullNoopPassMs: ms(t0),
      fullNoopPassFilesWritten: Object.values(totals(noop.results)).reduce((a, b) => a + b, 0),
    };
    log(
      `idle resync ${pct(idle, 50).toFixed(1)} ms (${idleQueries} queries); stat of every file ${fullVerifyMs.toFixed(0)} ms; full no-op pass ${ms(t0).toFixed(0)} ms`,
    );

    // 3. `sync --once` (the init container) fills the controller's volume, then `run` starts on it
    // and is ready from the volume at once. Both are processes of their own (memory measured
    // alone), without a heap flag, logging at info (the log lines are counted).
    const rootC = path.join(work, 'c');
    const env = { PATH: process.env.PATH, DATABASE_URL: pg.url, TRAEFIK_CONFIG_DIR: rootC, LOG_LEVEL: 'info' };
    await settle();
    t0 = process.hrtime.bigint();
    const once = new Child(BIN_PATH, ['sync', '--once'], env);
    await once.ended();
    if (once.exited !== 'exited with code 0') throw new Error(`sync --once ${once.exited}`);
    result.syncOnce = { ms: ms(t0), peakRssMb: once.peakRssMb, infoLogLines: once.counts() };
    log(`sync --once ${ms(t0).toFixed(0)} ms, peak RSS ${once.peakRssMb.toFixed(0)} MB`);

    const routes = await apiRoutes(db);
    // The changes timed go to 50 projects spread over the name range (a full pass meets some soon,
    // some late); the background commits go to the others.
    const step = Math.max(1, Math.floor(routes.length / 50));
    const probe = routes.filter((_, i) => i % step === 0).slice(0, 50);
    const background = routes.filter((r) => !probe.includes(r));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const started = Date.now();
    // Its log is kept beside the results (README "Benchmark"), to find why a change was slow.
    await mkdir(OUT, { recursive: true });
    const runLog = path.join(OUT, `run-${N}.log`);
    child = new Child(BIN_PATH, ['run'], { ...env, HTTP_ADDR: `127.0.0.1:${port}`, SYNC_INTERVAL: '30s' }, runLog);
    const c = child;
    const exited = () => c.exited;
    for (;;) {
      const status = await fetch(`${base}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) break;
      if (c.exited) throw new Error(`the controller ${c.exited} before it was ready (its log is above)`);
      await sleep(20);
    }
    const readyMs = Date.now() - started;
    log(`controller ready (from the volume) in ${readyMs} ms`);
    const load = backgroundLoad(pg.url, background, LOAD_PER_S);
    const phase = async (label: string, max: number, until?: Promise<void>): Promise<LatencyStats> => {
      let over = false;
      void until?.then(() => (over = true));
      const since = Date.now();
      const xs = await changeLatencies({ db, root: rootC, probes: probe, max, more: () => !over, exited, label });
      const s = latencyStats(xs, since);
      log(
        `${label}: ${s.changes} changes, p50 ${s.p50.toFixed(1)} / p95 ${s.p95.toFixed(1)} / p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(0)}`,
      );
      return s;
    };
    // During the start-up full pass: changes one at a time until it has finished.
    const firstPass = c.waitFor('full pass finished', started);
    const startup = await phase('during the start-up full pass', Infinity, firstPass);
    await within(firstPass, 1_800_000, 'the first full pass', exited);
    const syncedAt = Date.now();
    const startupLog = c.counts();
    // Idle: no full pass running.
    const idleChanges = await phase('idle', UPDATES);
    await sleep(Math.max(0, syncedAt + 30_000 - Date.now()));
    const steadyRssMb = (await rssOf(c.proc.pid!)).now;
    // A bulk transaction: 10 % of the projects in one commit (5 % or more: one full pass).
    const bulk = background.filter((_, i) => i % 10 === 0);
    const bulkAt = Date.now();
    await db.query(sql`UPDATE route_configs SET target_port = 30000 WHERE id = ANY(${bulk.map((r) => r.routeId)}::uuid[])`);
    const bulkPass = c.waitFor('full pass finished', bulkAt);
    const during = await phase('during the bulk full pass', Infinity, bulkPass);
    await within(bulkPass, 1_800_000, 'the bulk full pass', exited);
    await within(
      mapLimit(bulk, 8, async (r) => {
        while (!(await readFile(path.join(rootC, `dynamic/${r.project}/services/api.yml`), 'utf8')).includes(':30000\n')) await sleep(20);
      }),
      600_000,
      'the bulk transaction',
      exited,
    );
    const bulkMs = Date.now() - bulkAt;
    const loadCommits = await load.stop();
    result.controller = {
      startToReadyMs: readyMs,
      startToFirstFullPassMs: syncedAt - started,
      // Besides one "project synced" per project a project pass changed (the background commits).
      firstFullPassInfoLogLines: Object.entries(startupLog).reduce((n, [msg, k]) => n + (msg === 'project synced' ? 0 : k), 0),
      firstFullPassLog: startupLog,
      steadyRssMb,
    };
    result.changeToFile = {
      backgroundCommitsPerSecond: LOAD_PER_S,
      backgroundCommits: loadCommits,
      duringStartupFullPass: startup,
      idle: idleChanges,
      duringBulkFullPass: during,
      bulk: { projects: bulk.length, convergeMs: bulkMs },
    };

    // 4. Burst: 100 updates (--burst-per) to each of 100 projects, 10,000 in all.
    const burst = routes.slice(0, 100);
    const before = await metricsOf(base);
    t0 = process.hrtime.bigint();
    const PER = BURST_PER;
    await mapLimit(burst, 4, async (r) => {
      for (let k = 1; k <= PER; k++) await db.query(sql`UPDATE route_configs SET target_port = ${40000 + k} WHERE id = ${r.routeId}`);
    });
    const committedMs = ms(t0);
    await within(
      mapLimit(burst, 8, async (r) => {
        const file = path.join(rootC, `dynamic/${r.project}/services/api.yml`);
        for (;;) {
          if ((await readFile(file, 'utf8')).includes(`:${40000 + PER}\n`)) return;
          await sleep(2);
        }
      }),
      600_000,
      'the burst',
      exited,
    );
    const convergedMs = ms(t0);
    await sleep(500);
    const after = await metricsOf(base);
    const reconciles = ['success', 'noop', 'error'].reduce(
      (n, r) =>
        n +
        (after.get(`traefik_sync_reconcile_total{result="${r}"}`) ?? 0) -
        (before.get(`traefik_sync_reconcile_total{result="${r}"}`) ?? 0),
      0,
    );
    const check = new TraefikSyncService({ db, root: rootC, driftMode: 'repair', maxDeleteFraction: 0.5, log: silentLogger });
    const { changes } = await check.preview();
    result.burst = {
      updates: burst.length * PER,
      projects: burst.length,
      commitMs: committedMs,
      convergeMs: convergedMs,
      reconciles,
      reconcilesPerUpdate: reconciles / (burst.length * PER),
      finalStateExact: changes.length === 0,
      remainingDifferences: changes.length,
    };
    log(`burst converged in ${convergedMs.toFixed(0)} ms with ${reconciles} reconciles; exact: ${changes.length === 0}`);

    result.controllerPeakRssMb = Math.max(c.peakRssMb, (await rssOf(c.proc.pid!)).peak);
    result.benchProcessPeakRssMb = process.resourceUsage().maxRSS / 1024;
  } finally {
    // The controller stops before its database does (a controller stopped with its database gone
    // was once seen never to exit, keeping this process alive), and is killed if it takes long.
    await child?.stop();
    await db.dispose();
    await pg.stop();
    await rm(work, { recursive: true, force: true });
  }

  await mkdir(OUT, { recursive: true });
  const out = path.join(OUT, `bench-${N}.json`);
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  const r = result as any;
  const lat = (x: LatencyStats) =>
    `p50 ${x.p50.toFixed(1)} / p95 ${x.p95.toFixed(1)} / p99 **${x.p99.toFixed(1)}** ms (max ${x.max.toFixed(0)}; ${x.changes} changes, ${x.over100ms} over 100 ms)`;
  const ctf = r.changeToFile;
  const rows: Array<[string, string, string]> = [
    [
      'cold full sync',
      `${r.coldSync.ms.toFixed(0)} ms (${r.coldSync.files} files)`,
      `**${r.coldSync.ratio.toFixed(2)}×** the floor (${r.coldSync.floorMs.toFixed(0)} ms); target ≤ 1.5×`,
    ],
    ['`sync --once` (a process)', `${r.syncOnce.ms.toFixed(0)} ms`, `peak RSS ${r.syncOnce.peakRssMb.toFixed(0)} MB`],
    [
      'idle resync',
      `${r.idleResync.ms.toFixed(1)} ms, ${r.idleResync.queries} query, 0 files`,
      `db ${r.idleResync.dbMs.toFixed(1)} ms + 2,000 stat() ${r.idleResync.diskMs.toFixed(1)} ms; all files ${r.idleResync.fullDiskVerifyMs.toFixed(0)} ms; full no-op pass ${r.idleResync.fullNoopPassMs.toFixed(0)} ms; target ≤ 50 ms, O(1) queries`,
    ],
    [
      'idle tick, watcher at its limit',
      r.watcher.unwatchedDirectories ? `${r.watcher.tickMs.toFixed(1)} ms` : 'not reached',
      r.watcher.unwatchedDirectories === 0
        ? `${r.watcher.directories.toLocaleString('en')} directories, limit ${r.watcher.maxWatches.toLocaleString('en')}: every one watched (a tick is the idle resync above)`
        : `${r.watcher.directories.toLocaleString('en')} directories, limit ${r.watcher.maxWatches.toLocaleString('en')}, ${r.watcher.unwatchedDirectories.toLocaleString('en')} unwatched (${r.watcher.unwatchedFiles.toLocaleString('en')} files), looked at in turns: ${r.watcher.callsPerTick.toLocaleString('en')} lstat() a tick, a file created, deleted or renamed there found within ${r.watcher.ticks.changed} ticks, an edit in place within ${r.watcher.ticks.edited}; finding their files among all ${r.watcher.listMs.toFixed(0)} ms (once per change of the watched set); stat() of every file ${r.watcher.tickBeforeMs.toFixed(0)} ms`,
    ],
    [
      '`run` start to ready / to first full pass done',
      `${r.controller.startToReadyMs} ms / ${r.controller.startToFirstFullPassMs} ms`,
      `ready from the volume; ${r.controller.firstFullPassInfoLogLines} lines logged at info until the first full pass was done (besides one per project a project pass changed)`,
    ],
    [
      'change→file during the start-up full pass',
      lat(ctf.duringStartupFullPass),
      `${LOAD_PER_S} commits/s background; target p99 ≤ 100 ms`,
    ],
    ['change→file, idle', lat(ctf.idle), `${LOAD_PER_S} commits/s background; target p99 ≤ 100 ms`],
    [
      `change→file during a bulk transaction's full pass`,
      lat(ctf.duringBulkFullPass),
      `${ctf.bulk.projects} projects in one commit, on disk in ${ctf.bulk.convergeMs} ms; target p99 ≤ 100 ms`,
    ],
    [
      `burst ${r.burst.updates.toLocaleString('en')} updates / ${r.burst.projects} projects`,
      `${r.burst.convergeMs.toFixed(0)} ms, ${r.burst.reconciles} reconciles`,
      `${(r.burst.reconcilesPerUpdate * 100).toFixed(1)}% of updates, exact: ${r.burst.finalStateExact}; target ≤ 10%`,
    ],
    [
      'controller RSS: peak / 30 s after the first full pass',
      `**${r.controllerPeakRssMb.toFixed(0)}** / **${r.controller.steadyRssMb.toFixed(0)}** MB`,
      'no heap flag; target ≤ 250 / ≤ 150 MB at 10,000 projects, peak ≤ 600 MB at 50,000',
    ],
  ];
  process.stdout.write(
    `\ntraefik-sync benchmark: ${N} projects, ${r.machine.cpus} cores (${r.machine.cpuModel}), Node ${r.machine.node}\n\n`,
  );
  process.stdout.write('| scenario | result | notes |\n|---|---|---|\n');
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
  process.stdout.write(`\nJSON: ${out}\n`);
}

(TRAEFIK
  ? runTraefikLive({ projects: N, changes: UPDATES, quietChanges: Math.min(20, Math.ceil(UPDATES / 2)), bin: BIN_PATH, out: OUT })
  : REPLICAS === null
    ? main()
    : runFleet({
        replicas: REPLICAS,
        projects: N,
        updates: UPDATES,
        interval: INTERVAL,
        idleWindowMs: IDLE_WINDOW_S * 1000,
        out: OUT,
        bin: BIN_PATH,
        poolSize: POOL_SIZE,
      })
).catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
