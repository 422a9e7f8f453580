/**
 * Checks the demo makes before it starts PostgreSQL, so that a busy port or a database in use
 * stops it at once with one line naming the cause — not after initdb and migrations.
 */
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { SETTINGS, settingName } from '../config.js';
import { freePort } from './embedded-postgres.js';
import { UserError } from '../errors.js';

/** Try to listen on host:port; the error if that fails, else undefined (the port is released again). */
async function canListen(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  const server = createServer();
  const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    server.once('error', resolve);
    server.listen(port, host, () => resolve(undefined));
  });
  if (!err) await new Promise((resolve) => server.close(resolve));
  return err;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The error to show when the HTTP server cannot listen on host:port: a UserError naming
 * --http-addr (HTTP_ADDR) and the address (with a free port to use instead when it is taken),
 * or `err` itself when it is not about the address.
 */
export async function httpAddrError(err: unknown, host: string, port: number): Promise<unknown> {
  const setting = settingName(SETTINGS.httpAddr);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const addr = hostPort(host, port);
  if (code === 'EADDRINUSE') {
    let other: number | undefined;
    for (let p = port + 1; p <= Math.min(port + 20, 65535) && other === undefined; p++) if (!(await canListen(host, p))) other = p;
    const hint = other === undefined ? 'pick another port' : `pick another port, e.g. --${SETTINGS.httpAddr.flag} ${hostPort(host, other)}`;
    return new UserError(`${setting}: ${addr} is already in use (another demo or server?); ${hint}`);
  }
  if (code === 'EACCES')
    return new UserError(`${setting}: not allowed to listen on ${addr} (ports below 1024 need privileges); pick a port above 1024`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new UserError(`${setting}: cannot listen on ${addr} (${code}: not an address of this machine); use e.g. 127.0.0.1:9090`);
  }
  return err;
}

/** Fail at once, naming --http-addr (HTTP_ADDR), when the HTTP server could not listen on host:port. */
export async function assertHttpAddrFree(host: string, port: number): Promise<void> {
  const err = await canListen(host, port);
  if (err) throw await httpAddrError(err, host, port);
}

/**
 * PostgreSQL's port for this run: `remembered` (the last run's, so an exported DATABASE_URL stays
 * valid) when it is free, else a new one; `movedFrom` is set when the remembered one was taken.
 */
export async function postgresPort(remembered: number | undefined): Promise<{ port: number; movedFrom?: number }> {
  if (remembered !== undefined && !(await canListen('127.0.0.1', remembered))) return { port: remembered };
  const port = await freePort();
  return remembered === undefined ? { port } : { port, movedFrom: remembered };
}

async function proc(pid: number, file: string): Promise<string | undefined> {
  return readFile(`/proc/${pid}/${file}`, 'utf8').catch(() => undefined);
}

/** Whether process `pid` exists (one of another user's counts too). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Stop with one line when the PostgreSQL data directory `pgDir` (shown to the user as `shown`) is in
 * use: its postmaster.pid names a live PostgreSQL — another demo's, or one a crashed demo left
 * running. A pid file naming a dead process is left to PostgreSQL, which replaces it; one naming a
 * live process that is not PostgreSQL (its pid reused, e.g. after a container restart) would make
 * PostgreSQL refuse to start, so it is removed here (Linux, where /proc tells). Returns a note
 * for the user when it removed one.
 */
export async function assertDataDirFree(pgDir: string, shown: string): Promise<string | undefined> {
  const lockFile = path.join(pgDir, 'postmaster.pid');
  const pid = Number((await readFile(lockFile, 'utf8').catch(() => '')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !alive(pid)) return undefined;
  const comm = (await proc(pid, 'comm'))?.trim();
  if (comm !== undefined && comm !== 'postgres') {
    await rm(lockFile, { force: true });
    return `removed a stale ${path.join(shown, 'postmaster.pid')} (process ${pid} is ${JSON.stringify(comm)}, not PostgreSQL)`;
  }
  const stat = await proc(pid, 'stat');
  const ppid = stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : NaN;
  const parent = Number.isInteger(ppid) && ppid > 1 ? (await proc(ppid, 'cmdline'))?.split('\0').join(' ') : undefined;
  const holder = parent?.includes('demo')
    ? `another demo (process ${ppid}); stop that one first (Ctrl-C in its terminal)`
    : `a PostgreSQL (process ${pid}), probably left running by an earlier demo; stop it first: kill ${pid}`;
  throw new UserError(`the demo database in ${shown} is in use by ${holder}`);
}
