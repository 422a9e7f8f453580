/**
 * `npm run bench:traefik-reload -- [--projects 1000] [--reloads 5] [--variants as-generated,...]`:
 * what one reload of the file provider costs a real Traefik, in CPU seconds (utime + stime from
 * /proc/<pid>/stat, minus its rate at rest), which a busy machine barely changes. The benchmark
 * projects (seed.ts) are generated once by `traefik-sync sync --once`; each variant is a copy of
 * that tree with its static config or dynamic files changed, served by a fresh Traefik. A reload
 * is what the controller does: one project's service file replaced (a port moves), then the
 * marker renamed; in the one-file-per-project layout the replaced top-level file is the event.
 * `--window S` (default 20): the CPU of S seconds starting with a reload, minus that of the S-second
 * windows at rest before and after it; S must exceed what a reload takes on this machine.
 */
import { execFileSync } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { connect } from '../db/connect.js';
import { migrate } from '../db/migrate.js';
import { startEmbeddedPostgres } from '../demo/embedded-postgres.js';
import { findTraefik, startTraefik, traefikPorts, type TraefikBinary } from '../demo/traefik.js';
import { layout } from '../render/project.js';
import { rssOf } from './phases.js';
import { seedBench } from './seed.js';
import { log, sleep } from './support.js';
import { cpuSeconds, issuedCertificates, reloads, until } from './traefik-live.js';

type Doc = Record<string, any>;

/** A variant: how its static config and dynamic tree differ from what the controller generated. */
interface Variant {
  readonly static?: (doc: Doc) => void;
  /** Rewrites the dynamic folder in place; returns the file a reload replaces, relative to it. */
  readonly dynamic?: (dir: string, project: string, work: string) => Promise<string>;
  /** Whether the reload renames the marker (false: the replaced top-level file is the event). */
  readonly marker?: boolean;
  /**
   * Whether replaced top-level files get their temp file outside the watched folder. In it (as
   * src/fs/atomic.ts does), every step is an event Traefik answers with a full re-read: create,
   * write, rename away, rename in.
   */
  readonly tempOutside?: boolean;
}

const serviceFile = (project: string) => path.relative('dynamic', layout.service(project, 'worker'));

/** Every .yml below `dir`, depth first in Traefik's order. */
async function ymlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await ymlFiles(p)));
    else if (e.name.endsWith('.yml')) out.push(p);
  }
  return out;
}

/** Deep-merge the sections (http.routers, …) of `from` into `into`: names never collide across a project's files. */
function mergeInto(into: Doc, from: Doc): void {
  for (const [k, v] of Object.entries(from)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && into[k] && typeof into[k] === 'object') mergeInto(into[k], v);
    else into[k] = v;
  }
}

/** Merge each project folder into `dynamic/<project>.yml` (`groups` = 0), or all projects into `groups` files. */
const merged =
  (groups: number) =>
  async (dir: string, project: string): Promise<string> => {
    const projects = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    projects.sort();
    const docs = new Map<string, Doc>();
    for (const [i, p] of projects.entries()) {
      const name = groups === 0 ? p : `group-${String(Math.floor((i * groups) / projects.length)).padStart(3, '0')}`;
      const doc = docs.get(name) ?? {};
      for (const f of await ymlFiles(path.join(dir, p))) mergeInto(doc, parse(await readFile(f, 'utf8')) ?? {});
      docs.set(name, doc);
      await rm(path.join(dir, p), { recursive: true });
    }
    for (const [name, doc] of docs) await writeFile(path.join(dir, `${name}.yml`), stringify(doc));
    const mine =
      groups === 0 ? project : `group-${String(Math.floor((projects.indexOf(project) * groups) / projects.length)).padStart(3, '0')}`;
    return `${mine}.yml`;
  };

/** Drop every healthCheck from the dynamic files. */
async function withoutHealthChecks(dir: string, project: string): Promise<string> {
  for (const f of await ymlFiles(dir)) {
    const text = await readFile(f, 'utf8');
    if (!text.includes('healthCheck')) continue;
    const doc = parse(text) as Doc;
    for (const s of Object.values<Doc>(doc.http?.services ?? {})) delete s.loadBalancer?.healthCheck;
    await writeFile(f, stringify(doc));
  }
  return serviceFile(project);
}

/**
 * A default certificate for Traefik's default TLS store (the benchmark's `*.example`): without
 * one, Traefik generates a self-signed RSA-2048 certificate on every reload (pkg/tls/tlsmanager.go
 * getDefaultCertificate → generate.DefaultCertificate).
 */
const defaultCertificate =
  (then?: Variant['dynamic']) =>
  async (dir: string, project: string, work: string): Promise<string> => {
    const changed = then ? await then(dir, project, work) : serviceFile(project);
    const defaultCertificate = { certFile: path.join(work, 'wild.crt'), keyFile: path.join(work, 'wild.key') };
    await writeFile(path.join(dir, 'default-certificate.yml'), stringify({ tls: { stores: { default: { defaultCertificate } } } }));
    return changed;
  };

/** The variants by name, in the order they run. */
const VARIANTS: Record<string, Variant> = {
  'as-generated': {},
  'no-router-service-labels': {
    static: (d) => Object.assign(d.metrics.prometheus, { addRoutersLabels: false, addServicesLabels: false }),
  },
  'no-metrics': { static: (d) => delete d.metrics },
  'no-access-log': { static: (d) => delete d.accessLog },
  'log-error': { static: (d) => (d.log.level = 'ERROR') },
  'no-acme': { static: (d) => delete d.certificatesResolvers },
  'no-health-checks': { dynamic: withoutHealthChecks },
  'file-per-project': { dynamic: merged(0), marker: false },
  'file-per-project+marker': { dynamic: merged(0) },
  'marker-temp-outside': { tempOutside: true },
  'file-per-project+temp-outside': { dynamic: merged(0), marker: false, tempOutside: true },
  'default-cert': { dynamic: defaultCertificate() },
  'file-per-project+default-cert': { dynamic: defaultCertificate(merged(0)), marker: false },
  'ten-files': { dynamic: merged(10), marker: false },
};

/** Replace `file` atomically with `text`: a temp file beside it (as src/fs/atomic.ts does) or in `tempDir`. */
async function replace(file: string, text: string, tempDir = path.dirname(file)): Promise<void> {
  const tmp = path.join(tempDir, `.${path.basename(file)}.tmp-bench`);
  await writeFile(tmp, text);
  await rename(tmp, file);
}

/** Measure one variant on a copy of `base`; its numbers. */
async function measure(
  o: { binary: TraefikBinary; base: string; work: string; reloads: number; windowS: number; metricsAt: string },
  name: string,
  v: Variant,
) {
  const { binary, base, work, metricsAt } = o;
  const root = path.join(work, name);
  await cp(base, root, { recursive: true });
  const dynamic = path.join(root, 'dynamic');
  const project = 'bench-00001';
  const changed = path.join(dynamic, v.dynamic ? await v.dynamic(dynamic, project, work) : serviceFile(project));
  const staticFile = path.join(root, layout.static);
  const doc = parse(await readFile(staticFile, 'utf8')) as Doc;
  doc.providers.file.directory = dynamic;
  v.static?.(doc);
  await writeFile(staticFile, stringify(doc));
  const t0 = Date.now();
  const traefik = await startTraefik(binary, staticFile, { timeoutMs: 120_000 });
  try {
    const pid = traefik.child.pid!;
    const routers = async () => (await traefik.api<Doc>('/api/overview')).http.routers.total as number;
    await until(`${name}: Traefik loads the tree`, async () => (await routers().catch(() => 0)) > 0, 900_000, 200);
    const firstLoadS = (Date.now() - t0) / 1000;
    // Windows of equal length, alternating: at rest, then starting with a reload. A reload's cost
    // is its window's CPU minus the mean of the rest windows beside it, so what Traefik does
    // anyway (health checks, GC, the first load settling) cancels out.
    const windowMs = o.windowS * 1000;
    const cpuOver = async (ms: number, start?: () => Promise<void>) => {
      const c = await cpuSeconds(pid);
      await start?.();
      await sleep(ms);
      return (await cpuSeconds(pid)) - c;
    };
    await sleep(windowMs);
    const reloads0 = await reloads(metricsAt);
    const rest = [await cpuOver(windowMs)];
    const perReloadS: number[] = [];
    let port = 9000;
    for (let i = 0; i < o.reloads; i++) {
      const reload = async () => {
        const text = await readFile(changed, 'utf8');
        const next = port === 9000 ? 9001 : 9000;
        if (!text.includes(`:${port}`)) throw new Error(`${name}: ${changed} has no :${port}`);
        const tempDir = v.tempOutside ? root : undefined;
        await replace(changed, text.replace(`:${port}`, `:${next}`), tempDir);
        port = next;
        if (v.marker !== false) await replace(path.join(root, layout.marker), `${new Date().toISOString()}\n`, tempDir);
      };
      const withReload = await cpuOver(windowMs, reload);
      rest.push(await cpuOver(windowMs));
      perReloadS.push(withReload - (rest.at(-2)! + rest.at(-1)!) / 2);
    }
    const count = (await reloads(metricsAt)) - reloads0;
    const mean = perReloadS.reduce((a, b) => a + b, 0) / perReloadS.length;
    const rss = await rssOf(pid);
    const r = {
      variant: name,
      firstLoadS,
      restCores: rest.reduce((a, b) => a + b, 0) / rest.length / o.windowS,
      reloads: count,
      cpuSecondsPerReload: mean,
      cpuSecondsEach: perReloadS.map((x) => Number(x.toFixed(2))),
      rssMb: rss.now,
      peakRssMb: rss.peak,
      files: (await ymlFiles(dynamic)).length,
      loadAverage: loadavg()[0],
      errors: traefik.logs().filter((l) => /"level":"error"/.test(l)).length,
    };
    log(`${name}: ${r.cpuSecondsPerReload.toFixed(2)} CPU-s per reload (${r.cpuSecondsEach.join(', ')}), RSS ${r.rssMb.toFixed(0)} MB`);
    return r;
  } finally {
    await traefik.stop();
    await rm(root, { recursive: true, force: true });
  }
}

/** Generate the tree for `projects` with `traefik-sync sync --once`; its folder and Traefik's metrics address. */
async function generate(work: string, projects: number, bin: string): Promise<{ base: string; metricsAt: string }> {
  const pg = await startEmbeddedPostgres({ dataDir: path.join(work, 'pg'), postgresFlags: ['-c', 'fsync=off'] });
  const db = connect(pg.url, { poolSize: 2 });
  try {
    await migrate(db);
    await db.tx((tx) => seedBench(tx, projects));
    const { ports, flags } = await traefikPorts();
    const overlay = path.join(work, 'static-overlay.yml');
    await writeFile(path.join(work, 'acme.json'), await issuedCertificates(work, 'letsencrypt'), { mode: 0o600 });
    const acme = { storage: path.join(work, 'acme.json'), caServer: 'https://127.0.0.1:9/directory', httpChallenge: { entryPoint: 'web' } };
    await writeFile(overlay, stringify({ certificatesResolvers: { letsencrypt: { acme } } }));
    const base = path.join(work, 'base');
    execFileSync(process.execPath, [bin, 'sync', '--once'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: pg.url,
        TRAEFIK_CONFIG_DIR: base,
        LOG_LEVEL: 'warn',
        TRAEFIK_ENTRYPOINTS: flags['traefik-entrypoints'],
        TRAEFIK_API_ADDR: flags['traefik-api-addr'],
        TRAEFIK_STATIC_FILE: overlay,
        ALLOWED_INTERNAL_TARGETS: '127.0.0.1',
      },
    });
    return { base, metricsAt: `127.0.0.1:${ports.metrics}` };
  } finally {
    await db.dispose();
    await pg.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      projects: { type: 'string', default: '1000' },
      reloads: { type: 'string', default: '3' },
      window: { type: 'string', default: '20' },
      variants: { type: 'string', default: Object.keys(VARIANTS).join(',') },
      traefik: { type: 'string', default: 'newest' },
      out: { type: 'string', default: 'bench-results' },
    },
  });
  const [projects, k] = [Number(values.projects), Number(values.reloads)];
  if (!Number.isInteger(projects) || projects < 2) throw new Error(`--projects: expected an integer ≥ 2, got ${values.projects}`);
  if (!Number.isInteger(k) || k < 1) throw new Error(`--reloads: expected an integer ≥ 1, got ${values.reloads}`);
  const windowS = Number(values.window);
  if (!(windowS >= 1)) throw new Error(`--window: expected seconds ≥ 1 (longer than one reload takes), got ${values.window}`);
  const names = values.variants.split(',');
  for (const n of names) if (!VARIANTS[n]) throw new Error(`--variants: no variant "${n}" (known: ${Object.keys(VARIANTS).join(', ')})`);
  if (values.traefik !== 'oldest' && values.traefik !== 'newest') throw new Error(`--traefik: newest or oldest, got ${values.traefik}`);
  const binary = findTraefik(values.traefik);
  if ('missing' in binary) throw new Error(binary.missing);
  const work = await mkdtemp(path.join(tmpdir(), 'tsync-bench-reload-'));
  await chmod(work, 0o755); // PostgreSQL's initdb runs as `postgres` when this runs as root
  const bin = fileURLToPath(new URL('../../bin/traefik-sync.js', import.meta.url));
  const results = [];
  try {
    log(`${projects} projects, Traefik ${binary.version}, load average ${loadavg()[0]}; generating`);
    const { base, metricsAt } = await generate(work, projects, bin);
    for (const n of names) results.push(await measure({ binary, base, work, reloads: k, windowS, metricsAt }, n, VARIANTS[n]!));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  await mkdir(values.out, { recursive: true });
  const out = path.join(values.out, `bench-traefik-reload-${projects}.json`);
  await writeFile(out, `${JSON.stringify({ projects, traefik: binary.version, results }, null, 2)}\n`);
  process.stdout.write(
    `\nTraefik ${binary.version}, ${projects} projects, ${k} reloads each\n\n| variant | CPU-s per reload | RSS MB | files |\n|---|---|---|---|\n`,
  );
  for (const r of results)
    process.stdout.write(`| ${r.variant} | ${r.cpuSecondsPerReload.toFixed(2)} | ${r.rssMb.toFixed(0)} | ${r.files} |\n`);
  process.stdout.write(`\nJSON: ${out}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench:traefik-reload: ${(err as Error).message}\n`);
  process.exit(1);
});
