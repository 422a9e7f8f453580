/**
 * `npm run bench -- --replicas N [--projects 1000]`: a fleet of N sidecar processes (`traefik-sync
 * run`, each with its own config root and HTTP port) against one embedded PostgreSQL. Measures
 * what the fleet costs the database — connections held, queries per second while idle,
 * server CPU — how fast a change reaches every replica's files, and a fleet-wide start and
 * restart (every replica's cold sync at once). Writes bench-results/fleet-<N>x<projects>.json.
 * See README "Sizing a fleet".
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { connect, sql } from '../db/connect.js';
import { startEmbeddedPostgres } from '../demo/embedded-postgres.js';
import { migrate } from '../db/migrate.js';
import { ServerCpu, Sampler, StatsReader } from './fleet-probes.js';
import { poolQueries, replicas, residentMb, startReplica, stopReplicas, untilAllSynced, type Replica } from './fleet-replicas.js';
import { apiRoutes, seedBench } from './seed.js';
import { appearance, log, ms, pct, sleep, within } from './support.js';

/** What a fleet run does. */
export interface FleetOptions {
  readonly replicas: number;
  readonly projects: number;
  /** Changes timed to every replica's files. */
  readonly updates: number;
  /** SYNC_INTERVAL of the replicas. */
  readonly interval: string;
  readonly idleWindowMs: number;
  readonly out: string;
  /** The CLI to run (another build can be compared: `--bin ../other/bin/traefik-sync.js`). */
  readonly bin: string;
  /** DB_POOL_SIZE of the replicas (their default when omitted). */
  readonly poolSize?: number;
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));

/** Run the fleet scenarios; prints a table and writes the JSON. */
export async function runFleet(o: FleetOptions): Promise<void> {
  const work = await mkdtemp(path.join(tmpdir(), 'tsync-fleet-'));
  await chmod(work, 0o755);
  log(
    `working in ${work}; ${o.replicas} replicas, ${o.projects} projects, SYNC_INTERVAL ${o.interval}; load average ${loadavg()[0]!.toFixed(1)}`,
  );
  const dataDir = path.join(work, 'pg');
  const pg = await startEmbeddedPostgres({
    dataDir,
    postgresFlags: [
      '-c',
      'fsync=off',
      '-c',
      `max_connections=${Math.max(200, o.replicas * ((o.poolSize ?? 6) + 2) + 50)}`,
      // Counts every statement as it ends (README "Sizing a fleet" counts the idle queries with it).
      '-c',
      'shared_preload_libraries=pg_stat_statements',
      '-c',
      'pg_stat_statements.track=all',
    ],
  });
  const db = connect(pg.url, { poolSize: 4, applicationName: 'traefik-sync-bench' });
  const stats = new StatsReader(pg.url);
  const cpu = await ServerCpu.of(dataDir);
  const fleet = await replicas(o.replicas, work);
  const settings = { bin: o.bin, databaseUrl: pg.url, interval: o.interval, poolSize: o.poolSize };
  const result: Record<string, any> = {
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadAverageAtStart: loadavg().map((x) => round(x, 2)),
    },
    replicas: o.replicas,
    projects: o.projects,
    interval: o.interval,
    bin: o.bin,
    poolSize: o.poolSize ?? 'default',
  };
  /** Every replica started at once: time to all ready and all synced, server CPU and connections meanwhile. */
  const startAll = async (what: string) => {
    const cpuRate = new Sampler(() => cpu.seconds(), 'rate');
    const conns = new Sampler(() => stats.connectionCount(), 'level');
    await Promise.all([cpuRate.start(), conns.start()]);
    const t0 = performance.now();
    for (const r of fleet) startReplica(r, settings);
    const times = await untilAllSynced(fleet, t0, 30 * 60_000);
    const c = cpuRate.stop();
    const n = conns.stop();
    const out = {
      allReadyMs: round(times.readyMs, 0),
      allSyncedMs: round(times.syncedMs, 0),
      serverCpuPeakCores: round(c.peak, 2),
      serverCpuMeanCores: round(c.mean, 2),
      connectionsPeak: n.peak,
    };
    log(
      `${what}: all ready in ${out.allReadyMs} ms, all synced in ${out.allSyncedMs} ms; server CPU peak ${out.serverCpuPeakCores} cores; ${n.peak} connections at most`,
    );
    return out;
  };
  try {
    await migrate(db);
    await db.query(sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`);
    await db.tx((tx) => seedBench(tx, o.projects));
    await stats.open();

    // 1. Every replica's first start at once (empty volumes: each writes every file).
    result.coldStart = await startAll('cold start (empty volumes)');

    // 2. Idle: connections held and queries per second, fleet-wide, over a window.
    await sleep(5_000); // the catch-up after each first pass, the first status writes
    const idle = await measureIdle(fleet, stats, o.idleWindowMs);
    result.idle = {
      ...idle,
      replicaRssMb: { mean: round(mean(await residentMb(fleet))), max: round(Math.max(...(await residentMb(fleet)))) },
    };

    // 3. change→file on every replica.
    result.changeToFile = await changeToFile(fleet, db, o.updates);

    // 4. A fleet-wide restart: every replica stopped, then started again at once (volumes kept:
    // ready at once from the volume; "synced" once each one's full pass has read every project).
    result.restart = { stopMs: round(await stopReplicas(fleet), 0), ...(await startAll('fleet-wide restart (volumes kept)')) };
    result.machine.loadAverageAtEnd = loadavg().map((x) => round(x, 2));
  } finally {
    await stopReplicas(fleet);
    await stats.close();
    await db.dispose();
    await pg.stop();
    await rm(work, { recursive: true, force: true });
  }
  await mkdir(o.out, { recursive: true });
  const file = path.join(o.out, `fleet-${o.replicas}x${o.projects}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  printTable(result, file);
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** Connections (by application_name) and statements per second over `windowMs`, with nothing changing. */
async function measureIdle(fleet: readonly Replica[], stats: StatsReader, windowMs: number) {
  const byApp = await stats.connections();
  const conns = new Sampler(() => stats.connectionCount(), 'level', 2_000);
  await conns.start();
  const s0 = await stats.statements();
  const q0 = await Promise.all(fleet.map(poolQueries));
  const t0 = performance.now();
  await sleep(windowMs);
  const q1 = await Promise.all(fleet.map(poolQueries));
  const s1 = await stats.statements();
  const seconds = (performance.now() - t0) / 1000;
  const c = conns.stop();
  const byStatement = [...s1]
    .map(([query, calls]) => ({ query: query.slice(0, 120), perSecond: round((calls - (s0.get(query) ?? 0)) / seconds, 3) }))
    .filter((x) => x.perSecond > 0)
    .sort((a, b) => b.perSecond - a.perSecond);
  const qps = byStatement.reduce((a, b) => a + b.perSecond, 0);
  // /metrics reads are not database queries: the pool's counters only move with the replicas' own work.
  const poolQps = q1.reduce((a, b, i) => a + b - q0[i]!, 0) / seconds;
  const out = {
    windowSeconds: round(seconds, 0),
    connectionsByApplication: byApp,
    connections: { peak: c.peak, mean: round(c.mean) },
    connectionsPerReplica: round(c.mean / fleet.length, 2),
    queriesPerSecond: round(qps, 2),
    queriesPerSecondPerReplica: round(qps / fleet.length, 3),
    poolQueriesPerSecond: round(poolQps, 2),
    byStatement: byStatement.slice(0, 10),
  };
  log(
    `idle: ${out.connections.mean} connections (${JSON.stringify(byApp)}), ${out.queriesPerSecond} queries/s fleet-wide (${out.queriesPerSecondPerReplica} per replica) over ${out.windowSeconds} s`,
  );
  return out;
}

/** `updates` changes, one at a time, each timed from its commit to its file on every replica. */
async function changeToFile(fleet: readonly Replica[], db: ReturnType<typeof connect>, updates: number) {
  const probe = (await apiRoutes(db)).slice(0, 50);
  const all: number[] = [];
  const slowest: number[] = [];
  for (let i = 0; i < updates; i++) {
    const r = probe[i % probe.length]!;
    const needle = `:${20000 + i}\n`;
    let c0 = process.hrtime.bigint();
    const seen = fleet.map((rep) =>
      appearance(path.join(rep.root, `dynamic/${r.project}/services/api.yml`), needle, 100).then(() => ms(c0)),
    );
    await db.query(sql`UPDATE route_configs SET target_port = ${20000 + i} WHERE id = ${r.routeId}`);
    c0 = process.hrtime.bigint();
    const exited = () => fleet.find((x) => x.exited)?.exited ?? null;
    const latencies = await within(Promise.all(seen), 120_000, `update ${i + 1} of ${updates} (${r.project})`, exited);
    all.push(...latencies);
    slowest.push(Math.max(...latencies));
    if ((i + 1) % 20 === 0) log(`change→file: ${i + 1} of ${updates} updates on ${fleet.length} replicas`);
  }
  const out = {
    updates,
    samples: all.length,
    p50: round(pct(all, 50)),
    p99: round(pct(all, 99)),
    max: round(Math.max(...all)),
    lastReplicaP50: round(pct(slowest, 50)),
    lastReplicaP99: round(pct(slowest, 99)),
  };
  log(`change→file across all replicas: p50 ${out.p50} ms, p99 ${out.p99} ms (last replica p50 ${out.lastReplicaP50} ms)`);
  return out;
}

function printTable(r: Record<string, any>, file: string): void {
  const rows: Array<[string, string, string]> = [
    [
      'connections held (idle)',
      `${r.idle.connections.mean} (${r.idle.connectionsPerReplica} per replica)`,
      Object.entries(r.idle.connectionsByApplication as Record<string, number>)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ],
    [
      'queries/s (idle)',
      `${r.idle.queriesPerSecond} (${r.idle.queriesPerSecondPerReplica} per replica)`,
      `pg_stat_statements calls over ${r.idle.windowSeconds} s; of them through the pool ${r.idle.poolQueriesPerSecond}/s (replicas' metrics)`,
    ],
    [
      'change→file, every replica',
      `p50 ${r.changeToFile.p50} / p99 ${r.changeToFile.p99} ms`,
      `${r.changeToFile.samples} samples; last replica p50 ${r.changeToFile.lastReplicaP50} / p99 ${r.changeToFile.lastReplicaP99} ms`,
    ],
    [
      'first start, all at once',
      `ready ${r.coldStart.allReadyMs} ms, synced ${r.coldStart.allSyncedMs} ms`,
      `server CPU peak ${r.coldStart.serverCpuPeakCores} cores (mean ${r.coldStart.serverCpuMeanCores}); ${r.coldStart.connectionsPeak} connections at most`,
    ],
    [
      'fleet-wide restart',
      `ready ${r.restart.allReadyMs} ms, synced ${r.restart.allSyncedMs} ms`,
      `stop ${r.restart.stopMs} ms; server CPU peak ${r.restart.serverCpuPeakCores} cores (mean ${r.restart.serverCpuMeanCores}); ${r.restart.connectionsPeak} connections at most`,
    ],
    ['replica memory', `${r.idle.replicaRssMb.mean} MB RSS (max ${r.idle.replicaRssMb.max})`, ''],
  ];
  process.stdout.write(
    `\ntraefik-sync fleet benchmark: ${r.replicas} replicas × ${r.projects} projects, SYNC_INTERVAL ${r.interval}, ${r.machine.cpus} cores (${r.machine.cpuModel}), load average ${r.machine.loadAverageAtStart[0]} at start\n\n`,
  );
  process.stdout.write('| scenario | result | notes |\n|---|---|---|\n');
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
  process.stdout.write(`\nJSON: ${file}\n`);
}
