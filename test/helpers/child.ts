/** Stopping a spawned child process a test left running (e.g. when an assertion failed first). */
import type { ChildProcess } from 'node:child_process';

/**
 * If `child` is still running: send `signal`, wait up to `graceMs` for it to exit, then SIGKILL it
 * and wait for that. Returns at once when it has already exited.
 */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const gone = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (gone) return;
  child.kill('SIGKILL');
  await exited;
}
