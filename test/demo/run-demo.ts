/** Running `traefik-sync demo` as a child process in a test (demo.test.ts, demo-traefik.test.ts). */
import { onTestFinished } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive } from '../../src/demo/preflight.js';
import { stopChild } from '../helpers/child.js';

/** The CLI the demo runs from. */
export const BIN = fileURLToPath(new URL('../../bin/traefik-sync.js', import.meta.url));
/** The banner's first line. */
export const BANNER = 'traefik-sync demo is running';

/** A demo running as a child process. */
export interface Demo {
  readonly child: ChildProcess;
  readonly out: () => string;
  readonly err: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once stdout+stderr match `re`; rejects when the demo exits first or after 60 s. */
  until(re: RegExp): Promise<void>;
}

/**
 * Start a demo in `cwd` (in its own process group, so that a test can press "Ctrl-C"). Stopped after
 * the test if still running, unless `outlivesTest` (then the caller stops it). Without Traefik
 * (`--traefik off`) unless `args` choose one (demo-traefik.test.ts).
 */
export function startDemo(cwd: string, args: string[] = [], env: Record<string, string> = {}, outlivesTest = false): Demo {
  const traefik = args.includes('--traefik') ? [] : ['--traefik', 'off'];
  const child = spawn(process.execPath, [BIN, 'demo', ...traefik, ...args], {
    cwd,
    env: { PATH: process.env.PATH!, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  // Only if a failure left it running: a signal stops its PostgreSQL too, before the folder goes.
  if (!outlivesTest) onTestFinished(() => stopChild(child, 'SIGINT', 30_000));
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    exited,
    out: () => out,
    err: () => err,
    async until(re) {
      const deadline = Date.now() + 60_000;
      while (!re.test(out + err)) {
        if (Date.now() > deadline || child.exitCode !== null || child.signalCode !== null)
          throw new Error(`no ${re} from the demo:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** The pid in the demo's postmaster.pid, if the file is there. */
export async function postmasterPid(cwd: string): Promise<number | undefined> {
  const text = await readFile(path.join(cwd, '.traefik-sync-demo/pg/postmaster.pid'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : Number(text.split('\n')[0]);
}

/** Stop a PostgreSQL a demo left running in `cwd` (fast shutdown), and wait until it is gone. */
export async function stopLeftoverPostgres(cwd: string): Promise<void> {
  const pid = await postmasterPid(cwd);
  if (pid === undefined || !alive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 300 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}
