/**
 * The benchmark (`npm run bench`) is a deliverable: it must run to completion and its own checks
 * must hold. Run here at the smallest size (100 projects, 20 latency updates, a burst of 1,000;
 * about 10 s on a quiet machine, minutes beside the rest of the suite on 2 cores) — correctness
 * only: the speed targets are judged from full-size runs, not from a test.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/temp-dir.js';

const MAIN = fileURLToPath(new URL('../../dist/bench/main.js', import.meta.url));

function run(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Past the timeout the bench gets SIGTERM (it then stops its PostgreSQL): never left running.
    const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH }, stdio: 'pipe', timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench', () => {
  it('runs every scenario to completion: files all written, idle pass writes nothing with one query, changes timed in each phase, burst ends exact', async () => {
    const out = await tempDir('tsync-bench-test-');
    const r = await run(['--projects', '100', '--updates', '20', '--burst-per', '10', '--out', out], 280_000);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toContain('| cold full sync |');
    const result = JSON.parse(await readFile(path.join(out, 'bench-100.json'), 'utf8'));
    expect(result.seed).toMatchObject({ services: 300, routes: 600, domains: 200 });
    expect(result.coldSync.files).toBe(501); // 5 per project + the static config
    expect(result.coldSync.ratio).toBeGreaterThan(0);
    expect(result.idleResync).toMatchObject({ queries: 1, filesWritten: 0, fullNoopPassFilesWritten: 0 });
    // Changes timed in three phases: during the start-up full pass (maybe none at this size: it is
    // short), idle, and during the full pass of a bulk transaction.
    expect(result.changeToFile.idle.changes).toBe(20);
    expect(Number.isFinite(result.changeToFile.idle.p99)).toBe(true);
    expect(result.changeToFile.duringStartupFullPass.changes).toBeGreaterThanOrEqual(0);
    expect(result.changeToFile.duringBulkFullPass.changes).toBeGreaterThanOrEqual(0);
    expect(result.changeToFile.bulk.projects).toBe(5);
    expect(result.syncOnce.peakRssMb).toBeGreaterThan(0);
    // `run` on the volume `sync --once` filled: ready from it before its own first full pass.
    expect(result.controller.startToReadyMs).toBeLessThanOrEqual(result.controller.startToFirstFullPassMs);
    expect(result.controller.firstFullPassLog['full pass finished']).toBe(1);
    expect(result.burst).toMatchObject({ updates: 1_000, projects: 100, finalStateExact: true, remainingDifferences: 0 });
    expect(result.burst.reconciles).toBeGreaterThan(0);
    expect(result.burst.reconciles).toBeLessThan(1_000);
    expect(result.controllerPeakRssMb).toBeGreaterThan(0);
  }, 300_000);

  it.each([
    [['--projects', '12x'], '--projects: expected an integer ≥ 100, got "12x"'],
    [['--updates', '0'], '--updates: expected an integer ≥ 1, got "0"'],
    [['--burst-per', 'x'], '--burst-per: expected an integer ≥ 1, got "x"'],
    [['--bogus'], "Unknown option '--bogus'"],
  ])('refuses %j with one line naming the flag, exit 2', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(message);
  });
});
