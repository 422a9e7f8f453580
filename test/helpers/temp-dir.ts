/**
 * Temporary directories that do not outlive their test file.
 *
 * `tempDir('tsync-x-')` makes a fresh directory in the OS temp dir and remembers it. Importing this
 * module registers one file-level `afterAll` that removes every remembered directory. Because the
 * import runs before the test file's own hooks are registered, and vitest runs `afterAll` hooks in
 * reverse order of registration (`sequence.hooks: 'stack'`, the default), that removal comes after
 * the file's own `afterAll` hooks: sidecars, servers and child processes stopped there are gone
 * before their directories are. A test that starts a child process in a temp dir must still stop
 * and await it itself (in `finally`, `afterEach` or `afterAll`).
 */
import { afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const made = new Set<string>();

/** A new directory `<tmpdir>/<prefix>XXXXXX`, removed after the test file. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}

/** Remove every directory made by `tempDir` so far. */
export async function removeTempDirs(): Promise<void> {
  const dirs = [...made];
  made.clear();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 3 })));
}

afterAll(removeTempDirs);
