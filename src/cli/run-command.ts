/**
 * `traefik-sync run`: the sidecar until SIGTERM/SIGINT, then a bounded stop (exit 0; 1 when the
 * stop took too long; 128+n on a second signal).
 */
import { constants } from 'node:os';
import { createLogger } from '../log.js';
import { tuneHeap } from '../memory.js';
import { startSidecar } from '../sidecar/sidecar.js';
import { settledWithin } from '../util.js';
import type { Command } from './command.js';

/**
 * How long `run` waits, after SIGTERM, for the pass in flight and the rest of the stop; then it exits
 * anyway. Below Kubernetes' default grace period (30 s), so the exit is ours and logged, not a SIGKILL.
 */
export const STOP_DEADLINE_MS = 20_000;

/** Resolve on the first SIGTERM or SIGINT. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(sig);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

/** `run`: the controller (the default command). */
export const runCommand: Command = {
  summary: 'the controller: reconcile on NOTIFY, on a timer and on file events; serve metrics, probes and status',
  usage:
    'traefik-sync run [--database-url URL] [--config-dir DIR] [--interval 30s] [--drift-mode repair|report] [--http-addr 0.0.0.0:9090]',
  options: {},
  async run({ config, env }) {
    tuneHeap(env);
    const log = createLogger(config.logLevel);
    const sidecar = await startSidecar(config, { log });
    const signal = await untilSignal();
    log.info({ signal }, 'stopping: finishing the write in flight');
    const again = untilSignal();
    const stopped = await Promise.race([settledWithin(sidecar.stop(), STOP_DEADLINE_MS), again.then(() => null)]);
    // Whatever is still open (a socket to an unreachable server) must not keep the process alive.
    setTimeout(() => process.exit(), 1000).unref();
    if (stopped === null) {
      const sig = await again;
      log.warn({ signal: sig }, 'second signal: exiting now (files on disk are whole: every write is atomic)');
      return 128 + (constants.signals[sig] ?? 15);
    }
    if (!stopped) {
      log.error(
        `did not stop within ${STOP_DEADLINE_MS / 1000} s (a pass waiting on an unreachable database?); exiting anyway (files on disk are whole: every write is atomic)`,
      );
      return 1;
    }
    return 0;
  },
};
