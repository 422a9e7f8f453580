/**
 * A real PgBouncer (Debian package `pgbouncer`) for tests: transaction pooling, on a free loopback
 * port, in front of a PostgreSQL server, with few server connections so that a client's
 * consecutive transactions run on different ones. Tests that need it skip with a printed reason
 * when it is not installed, and fail when CI is set.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/demo/embedded-postgres.js';

const CANDIDATES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'];

/** The pgbouncer binary, or null (with why) when it is not installed. */
export function findPgBouncer(): { bin: string | null; reason: string } {
  for (const bin of CANDIDATES) if (existsSync(bin)) return { bin, reason: '' };
  const which = spawnSync('which', ['pgbouncer'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return { bin: which.stdout.trim(), reason: '' };
  return { bin: null, reason: 'pgbouncer is not installed (apt-get install pgbouncer)' };
}

export interface PgBouncer {
  readonly port: number;
  /** `url` (a postgres:// URL to the server) through PgBouncer. */
  via(url: string): string;
  /** PgBouncer's log so far. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Start PgBouncer in transaction mode in front of `server` (loopback), for `user` with `password`
 * (SCRAM to both sides). `poolSize` server connections per database and user.
 */
export async function startPgBouncer(
  bin: string,
  server: { port: number; user: string; password: string },
  poolSize = 3,
): Promise<PgBouncer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tsync-pgbouncer-'));
  await chmod(dir, 0o777); // its log and pid files, written as `postgres` when we are root
  const port = await freePort();
  const ini = path.join(dir, 'pgbouncer.ini');
  const users = path.join(dir, 'userlist.txt');
  await writeFile(users, `"${server.user}" "${server.password}"\n`, { mode: 0o644 });
  await writeFile(
    ini,
    [
      '[databases]',
      `* = host=127.0.0.1 port=${server.port}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = scram-sha-256',
      `auth_file = ${users}`,
      'pool_mode = transaction',
      `default_pool_size = ${poolSize}`,
      'min_pool_size = 0',
      'reserve_pool_size = 0',
      'max_client_conn = 500',
      'server_lifetime = 3600',
      `logfile = ${path.join(dir, 'pgbouncer.log')}`,
      `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  // PgBouncer refuses to run as root: it runs as `postgres` then (the user embedded-postgres uses).
  const args = userInfo().uid === 0 ? ['-u', 'postgres', ini] : [ini];
  let output = '';
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += String(d)));
  child.stderr!.on('data', (d) => (output += String(d)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited at start: ${output}`);
    if (Date.now() > deadline) throw new Error(`pgbouncer did not listen within 10 s: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    via(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    log: () => {
      try {
        return readFileSync(path.join(dir, 'pgbouncer.log'), 'utf8') + output;
      } catch {
        return output;
      }
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
