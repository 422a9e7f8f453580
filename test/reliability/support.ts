/**
 * Shared tools of the reliability suite: tree snapshots and validity checks (as Traefik would read
 * a file), reader threads, the built CLI as a child process, PostgreSQL servers of a test's own.
 *
 * The suite runs fast in CI; `SOAK=1` turns the iteration counts up.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { parse } from 'yaml';
import type { Queryable } from '../../src/db/connect.js';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/demo/embedded-postgres.js';
import { TEMP_MARK } from '../../src/fs/atomic.js';
import { createLogger, silentLogger, type Logger, type LogLevel } from '../../src/log.js';
import { TraefikSyncService } from '../../src/reconcile/sync-service.js';
import { checksumOf, HEADER_MARK, unescapeGoTemplate } from '../../src/render/serialize.js';
import { waitFor } from '../helpers/sidecar.js';

/** Longer variants: more iterations, more data. */
export const SOAK = process.env.SOAK === '1';

export const BIN = fileURLToPath(new URL('../../bin/traefik-sync.js', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** The built CLI must exist (`npm test` and `npm run build` make it). */
export function requireBuiltCli(): void {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` before the reliability suite`);
}

/** One summary line per test, easy to grep in CI output. */
export function report(line: string): void {
  console.log(`[reliability] ${line}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Uniform integer in [lo, hi]. */
export function randInt(lo: number, hi: number): number {
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}

/** Every entry under `root` that is not a directory (relative, posix), sorted; temp files and links included. */
export async function listTree(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(path.join(root, rel), { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listTree(root, r)));
    else out.push(r);
  }
  return out.sort();
}

/** The top-level marker renamed after every pass that wrote something (not configuration). */
export const MARKER = 'dynamic/.traefik-sync-reload';

/**
 * Path → exact bytes (as latin1 text, so any byte compares) of every file under the managed
 * folders (a symbolic link as `symlink -> target`); temp files of writes in flight are left out,
 * and so is the reload marker unless `withMarker`.
 */
export async function snapshotTree(root: string, options: { withMarker?: boolean } = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const d of ['dynamic', 'static', 'ssl']) {
    for (const rel of await listTree(root, d)) {
      if (rel === MARKER && !options.withMarker) continue;
      if (path.basename(rel).includes(TEMP_MARK)) continue; // a write in flight, not content (see tempFiles)
      const abs = path.join(root, rel);
      try {
        // Links are recorded by target, never followed (a test may plant links out of the root).
        out[rel] = (await lstat(abs)).isSymbolicLink() ? `symlink -> ${await readlink(abs)}` : (await readFile(abs)).toString('latin1');
      } catch (err) {
        // Gone between the listing and the read (a temp file renamed, a file removed by a pass).
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
  return out;
}

/** Paths whose presence or bytes differ between two snapshots. */
export function changedPaths(a: Record<string, string>, b: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => a[k] !== b[k]).sort();
}

/** Temp files (crash leftovers or writes in flight) anywhere under `root`. */
export async function tempFiles(root: string): Promise<string[]> {
  return (await listTree(root)).filter((f) => path.basename(f).includes(TEMP_MARK));
}

/**
 * Temp files left behind under a running writer: those present in two listings `gapMs` apart.
 * Every write's temp name is unique (pid and counter), so a write in flight that one listing
 * happens to catch is gone by the second; a leaked one is still there.
 */
export async function leftTempFiles(root: string, gapMs = 1000): Promise<string[]> {
  const first = await tempFiles(root);
  if (first.length === 0) return [];
  await sleep(gapMs);
  const second = new Set(await tempFiles(root));
  return first.filter((f) => second.has(f));
}

/**
 * Why `text` (the bytes of `rel`) is not a complete, valid generated file, or null when it is.
 * As Traefik reads it: Go-template pass (our escapes undone), YAML with unique keys. And ours:
 * the header names the checksum of the body below it, so a torn file cannot pass.
 */
export function fileProblem(rel: string, text: string): string | null {
  if (text.length === 0) return 'empty file';
  if (!text.startsWith(HEADER_MARK)) return `no generated-by header (${text.length} bytes)`;
  const lines = text.split('\n', 3);
  const m = /^# checksum: (sha256:[0-9a-f]{64})$/.exec(lines[2] ?? '');
  if (!m) return `no checksum line (${text.length} bytes)`;
  const body = text.slice(lines[0]!.length + lines[1]!.length + lines[2]!.length + 3);
  if (checksumOf(body) !== m[1]) return `checksum mismatch: torn or edited (${text.length} bytes)`;
  if (!rel.endsWith('.yml')) return null;
  try {
    const doc = parse(unescapeGoTemplate(body), { uniqueKeys: true }) as unknown;
    if (!doc || typeof doc !== 'object') return 'YAML is not a mapping';
  } catch (err) {
    return `YAML: ${(err as Error).message.split('\n')[0]}`;
  }
  return null;
}

/** Problems of every generated file under root's managed folders (the marker and temp files skipped). */
export async function treeProblems(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const [rel, bytes] of Object.entries(await snapshotTree(root))) {
    const name = path.basename(rel);
    if (name.includes(TEMP_MARK) || name === '.traefik-sync-reload' || bytes.startsWith('symlink -> ')) continue;
    const p = fileProblem(rel, Buffer.from(bytes, 'latin1').toString('utf8'));
    if (p) out.push(`${rel}: ${p}`);
  }
  return out;
}

/** What a full pass would still change on `root` (0 changes and 0 failures = converged). */
export async function pendingChanges(db: Queryable, root: string): Promise<{ changes: string[]; failed: string[] }> {
  const svc = new TraefikSyncService({ db, root, driftMode: 'repair', maxDeleteFraction: 0.5, log: silentLogger });
  const p = await svc.preview();
  return {
    changes: p.changes.map((c) => `${c.op} ${c.path}`),
    failed: p.failed.map((f) => `${f.projectName ?? '(global)'}: ${f.problems.join('; ')}`),
  };
}

/** Result of a reader thread (see tree-reader.worker.mjs). */
export interface ReaderResult {
  readonly reads: number;
  readonly parsed: number;
  readonly failures: number;
  readonly vanished: number;
  readonly sweeps: number;
  readonly versions: number;
  readonly examples: string[];
}

/**
 * Start `count` reader threads sweeping every file below `root` in a loop and checking it with the
 * same rules as {@link fileProblem} (the worker is handed this module's `unescapeGoTemplate`
 * source, so it runs exactly the function of src/render/serialize.ts), resting `pauseMs` between
 * sweeps. `stop()` ends them and sums up.
 */
export async function startReaders(root: string, count = 2, pauseMs = 1): Promise<{ stop: () => Promise<ReaderResult> }> {
  const require = createRequire(import.meta.url);
  const stop = new SharedArrayBuffer(4);
  const workerUrl = new URL('./tree-reader.worker.mjs', import.meta.url);
  const results: Promise<ReaderResult>[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const worker = new Worker(workerUrl, {
      workerData: {
        root,
        stop,
        pauseMs,
        tempMark: TEMP_MARK,
        headerMark: HEADER_MARK,
        unescapeSource: unescapeGoTemplate.toString(),
        yamlUrl: pathToFileURL(require.resolve('yaml')).href,
      },
    });
    let onReady!: () => void;
    ready.push(
      new Promise<void>((r) => {
        onReady = r;
      }),
    );
    results.push(
      new Promise<ReaderResult>((resolve, reject) => {
        worker.on('message', (m: { ready?: boolean } & ReaderResult) => (m.ready ? onReady() : resolve(m)));
        worker.on('error', reject);
        worker.on('exit', (code) => reject(new Error(`reader thread exited with ${code} before reporting`)));
      }),
    );
  }
  await Promise.all(ready);
  return {
    async stop() {
      Atomics.store(new Int32Array(stop), 0, 1);
      const all = await Promise.all(results);
      return {
        reads: all.reduce((n, r) => n + r.reads, 0),
        parsed: all.reduce((n, r) => n + r.parsed, 0),
        failures: all.reduce((n, r) => n + r.failures, 0),
        vanished: all.reduce((n, r) => n + r.vanished, 0),
        sweeps: all.reduce((n, r) => n + r.sweeps, 0),
        versions: Math.max(...all.map((r) => r.versions)),
        examples: all.flatMap((r) => r.examples).slice(0, 20),
      };
    },
  };
}

/**
 * The environment of a CLI the tests start (before their own): the sample data refers to
 * admin-auth@kubernetescrd, so Traefik is said to run that provider, as in test/helpers/sidecar.ts.
 */
const CLI_ENV = { PATH: process.env.PATH, LOG_LEVEL: 'warn', TRAEFIK_EXTRA_PROVIDERS: 'kubernetescrd' };

/** Run the built CLI to completion. */
export function cli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...CLI_ENV, ...env },
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export { inProcess } from '../helpers/in-process.js';

/** A running CLI child with its output collected. */
export interface Child {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly output: () => { stdout: string; stderr: string };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start the built CLI as a child process; `onLine` sees every output line as it arrives. */
export function spawnCli(args: string[], env: Record<string, string>, onLine?: (line: string) => void): Child {
  const proc = spawn(process.execPath, [BIN, ...args], { env: { ...CLI_ENV, ...env }, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  const lines = (chunk: string, carry: { rest: string }) => {
    if (!onLine) return;
    const parts = (carry.rest + chunk).split('\n');
    carry.rest = parts.pop()!;
    for (const l of parts) onLine(l);
  };
  const outCarry = { rest: '' };
  const errCarry = { rest: '' };
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    lines(d, outCarry);
  });
  proc.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    lines(d, errCarry);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return { proc, output: () => ({ stdout, stderr }), exited };
}

/** A logger writing JSON lines into memory (every level from `level` up), with the text so far. */
export function captureLog(level: LogLevel = 'debug'): CapturedLog {
  const stream = new PassThrough();
  let text = '';
  stream.setEncoding('utf8').on('data', (d: string) => {
    text += d;
  });
  return { log: createLogger(level, stream), text: () => text };
}

/** What {@link captureLog} returns. */
export interface CapturedLog {
  readonly log: Logger;
  text(): string;
}

/** Logged by each periodic check that finds the database down: the ticks go on, events to wait on. */
export const TICK_WHILE_DOWN = 'database unreachable at the periodic check';

/** Wait until `logs` holds `n` more lines containing `message` than it does now (instead of sleeping through them). */
export async function moreLogLines(logs: CapturedLog, message: string, n: number, timeoutMs = 30_000): Promise<void> {
  const count = () =>
    logs
      .text()
      .split('\n')
      .filter((l) => l.includes(message)).length;
  const now = count();
  await waitFor(() => count() >= now + n, timeoutMs, 50);
}

/** A PostgreSQL server of the test's own (it can be stopped, restarted and reconfigured). */
export interface OwnPostgres {
  server: EmbeddedServer;
  readonly dir: string;
  readonly password: string;
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

/** Start a throwaway PostgreSQL (fsync off) with `password` for the `postgres` user. */
export async function startOwnPostgres(password = 'reliability-pw'): Promise<OwnPostgres> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tsync-rel-pg-'));
  await chmod(dir, 0o755); // the server runs as `postgres` when we are root
  const flags = ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'];
  const start = (port?: number) =>
    startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), password, postgresFlags: flags, ...(port ? { port } : {}) });
  const own: OwnPostgres = {
    server: await start(),
    dir,
    password,
    async restart() {
      own.server = await start(own.server.port);
    },
    async destroy() {
      await own.server.stop().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
  return own;
}
