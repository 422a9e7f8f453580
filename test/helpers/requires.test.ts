/**
 * The skip policy (docs/testing.md): a test that needs a missing tool is skipped with the reason
 * printed, and FAILS with that reason when CI is set. Checked by running a file whose tool never
 * exists (test/fixtures/requires/needs-a-tool.check.ts) in a child vitest, with and without CI.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inCI, requirement } from './requires.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

function runFixture(ci: string | undefined): { status: number | null; out: string } {
  const env = { ...process.env };
  delete env.CI;
  delete env.FORCE_COLOR;
  env.NO_COLOR = '1';
  if (ci !== undefined) env.CI = ci;
  const r = spawnSync(process.execPath, [vitest, 'run', '--config', 'test/fixtures/requires/vitest.config.ts'], {
    cwd: repo,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe('requirement', () => {
  it('outside CI: the tests are skipped and the reason is printed; the run passes', () => {
    const r = runFixture(undefined);
    expect(r.out).toContain('frobnicator: tests skipped: frobnicator is not on PATH');
    expect(r.out).toMatch(/Tests\s+2 skipped/);
    expect(r.status, r.out).toBe(0);
  }, 60_000);

  it('with CI set: the tests fail, naming what is missing and why; the run fails', () => {
    const r = runFixture('true');
    expect(r.out).toContain('frobnicator is required in CI (CI is set): frobnicator is not on PATH');
    expect(r.out).toMatch(/FAIL .*uses the tool/);
    expect(r.out).toMatch(/FAIL .*a group that uses the tool/);
    expect(r.status).toBe(1);
  }, 60_000);

  it('CI counts as set unless empty or "false"; a requirement that is met never skips nor throws', () => {
    expect([inCI({ CI: 'true' }), inCI({ CI: '1' }), inCI({ CI: '' }), inCI({ CI: 'false' }), inCI({})]).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
    const met = requirement('a tool', null, {});
    expect(met.skip).toBe(false);
    expect(() => met.assert()).not.toThrow();
    expect(requirement('a tool', 'gone', { CI: '1' }).skip).toBe(false);
    expect(requirement('a tool', 'gone', {}).skip).toBe(true);
  });
});
