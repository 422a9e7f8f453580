/**
 * A real Traefik next to the controller, for the demo, the benchmark and the tests. The binary:
 * TRAEFIK_BIN, else `.tools/traefik/<version>/traefik` in the package (scripts/install-test-tools.sh
 * puts it there), else `traefik` on PATH.
 *
 * Traefik always starts with exactly the static/traefik.yml the controller generated (free loopback
 * ports are chosen through the TRAEFIK_* settings, never by editing the file), and is stopped by
 * whoever started it (SIGTERM, then SIGKILL).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { stopChild } from '../util.js';
import { freePort } from './embedded-postgres.js';

/** The Traefik versions tested: the newest, and the oldest 3.x (scripts/install-test-tools.sh pins both). */
export const TRAEFIK_NEWEST = '3.7.15';
export const TRAEFIK_OLDEST = '3.0.4';

const PACKAGE = fileURLToPath(new URL('../../', import.meta.url));

/** A Traefik binary found, with the version it reports. */
export interface TraefikBinary {
  readonly path: string;
  readonly version: string;
}

/** The version `bin` reports, or null when it is not a Traefik that runs. */
export function traefikVersionOf(bin: string): string | null {
  try {
    const out = execFileSync(bin, ['version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return /Version:\s+(\S+)/.exec(out)?.[1] ?? null;
  } catch {
    return null;
  }
}

function onPath(name: string, env: Readonly<Record<string, string | undefined>>): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

/**
 * The Traefik binary to run: `which` = 'newest' (TRAEFIK_BIN, `.tools`, PATH) or 'oldest'
 * (TRAEFIK_OLDEST_BIN, `.tools`). Returns why not when there is none.
 */
export function findTraefik(
  which: 'newest' | 'oldest' = 'newest',
  env: Readonly<Record<string, string | undefined>> = process.env,
): TraefikBinary | { missing: string } {
  const version = which === 'newest' ? TRAEFIK_NEWEST : TRAEFIK_OLDEST;
  const name = which === 'newest' ? 'TRAEFIK_BIN' : 'TRAEFIK_OLDEST_BIN';
  const tools = path.join(PACKAGE, '.tools', 'traefik', version, 'traefik');
  const candidates = [env[name], tools, which === 'newest' ? onPath('traefik', env) : null].filter((c): c is string => !!c);
  for (const bin of candidates) {
    const v = traefikVersionOf(bin);
    if (v) return { path: bin, version: v };
  }
  return {
    missing: `no Traefik ${version} binary (looked at ${name}, ${path.relative(process.cwd(), tools)}${which === 'newest' ? ', traefik on PATH' : ''}); run scripts/install-test-tools.sh traefik`,
  };
}

/** Loopback ports for Traefik's entry points and API. */
export interface TraefikPorts {
  readonly web: number;
  readonly websecure: number;
  readonly metrics: number;
  readonly api: number;
}

/** Fresh loopback ports, and the controller flags (TRAEFIK_ENTRYPOINTS, TRAEFIK_API_ADDR) that put Traefik on them. */
export async function traefikPorts(): Promise<{ ports: TraefikPorts; flags: Record<'traefik-entrypoints' | 'traefik-api-addr', string> }> {
  const ports: TraefikPorts = { web: await freePort(), websecure: await freePort(), metrics: await freePort(), api: await freePort() };
  const flags = {
    'traefik-entrypoints': `web=127.0.0.1:${ports.web},websecure=127.0.0.1:${ports.websecure},metrics=127.0.0.1:${ports.metrics}`,
    'traefik-api-addr': `127.0.0.1:${ports.api}`,
  };
  return { ports, flags };
}

/** Traefik's view of one object in /api/rawdata. */
export interface RawObject {
  readonly status?: string;
  readonly error?: string[];
  readonly err?: string[];
  readonly serverStatus?: Record<string, string>;
  readonly [key: string]: unknown;
}

/** The parts of /api/rawdata read here. */
export interface RawData {
  readonly routers?: Record<string, RawObject>;
  readonly services?: Record<string, RawObject>;
  readonly middlewares?: Record<string, RawObject>;
}

/** A running Traefik. */
export interface RunningTraefik {
  readonly binary: TraefikBinary;
  readonly child: ChildProcess;
  /** Addresses from the static file it was started with, by entry point name (`127.0.0.1:PORT`). */
  readonly entryPoints: Readonly<Record<string, string>>;
  /** `http://127.0.0.1:PORT` of its API. */
  readonly apiUrl: string;
  /** Everything it logged so far (JSON lines, stdout and stderr; the last 20,000). */
  logs(): string[];
  /** GET a path of its API, parsed. */
  api<T = unknown>(p: string): Promise<T>;
  rawdata(): Promise<RawData>;
  stop(): Promise<void>;
}

const running = new Set<RunningTraefik>();

/** Stop every Traefik this process started and has not stopped. */
export async function stopAllTraefik(): Promise<void> {
  await Promise.all([...running].map((t) => t.stop()));
}

/** Where Traefik's log lines go besides memory (`onLine`), e.g. a file. */
export interface StartOptions {
  readonly timeoutMs?: number;
  readonly onLine?: (line: string) => void;
}

/**
 * Start Traefik with `--configFile=<staticFile>`, the controller's generated static config, and
 * wait until /ping answers on the entry point that file puts it on and its API answers.
 */
export async function startTraefik(binary: TraefikBinary, staticFile: string, options: StartOptions = {}): Promise<RunningTraefik> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const doc = parse(readFileSync(staticFile, 'utf8')) as {
    entryPoints: Record<string, { address: string }>;
    ping?: { entryPoint: string };
    api?: unknown;
  };
  const entryPoints = Object.fromEntries(Object.entries(doc.entryPoints).map(([k, v]) => [k, v.address]));
  if (!doc.api || !entryPoints.traefik) throw new Error(`${staticFile} has no API entry point: start the controller with traefik-api-addr`);
  const pingAddress = entryPoints[doc.ping?.entryPoint ?? 'traefik'];
  const apiUrl = `http://${entryPoints.traefik}`;
  const lines: string[] = [];
  const child = spawn(binary.path, [`--configFile=${staticFile}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      lines.push(...parts);
      if (lines.length > 30_000) lines.splice(0, lines.length - 20_000);
      if (options.onLine) for (const l of parts) options.onLine(l);
    });
  }
  const get = async (url: string): Promise<Response> => fetch(url, { signal: AbortSignal.timeout(5000) });
  const traefik: RunningTraefik = {
    binary,
    child,
    entryPoints,
    apiUrl,
    logs: () => [...lines],
    async api<T>(p: string): Promise<T> {
      const res = await get(apiUrl + p);
      if (!res.ok) throw new Error(`Traefik API ${p}: HTTP ${res.status}`);
      return (await res.json()) as T;
    },
    rawdata: () => traefik.api<RawData>('/api/rawdata'),
    async stop() {
      running.delete(traefik);
      await stopChild(child, 'SIGTERM', 5000);
    },
  };
  running.add(traefik);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`Traefik exited (${child.exitCode ?? child.signalCode}) at start:\n${lines.slice(-20).join('\n')}`);
      }
      const ok = await Promise.all([get(`http://${pingAddress}/ping`), get(`${apiUrl}/api/version`)]).then(
        (rs) => rs.every((r) => r.ok),
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`Traefik did not answer /ping within ${timeoutMs} ms:\n${lines.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const bindErrors = lines.filter((l) => /address already in use|bind:/.test(l));
    if (bindErrors.length) throw new Error(`Traefik could not listen: ${bindErrors.join('\n')}`);
  } catch (err) {
    await traefik.stop();
    throw err;
  }
  return traefik;
}
