/**
 * `npm run bench -- --traefik` (src/bench/traefik-live.ts) runs to completion through a real
 * Traefik: at the smallest size (100 projects, 2 quiet and 4 loaded changes) every change goes live
 * through Traefik, the numbers are there and Traefik logged no file-provider error. Correctness
 * only: the speed targets are judged from full-size runs. Skipped without Traefik; fails in CI.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/temp-dir.js';
import { traefikForSuite } from '../helpers/traefik.js';

const MAIN = fileURLToPath(new URL('../../dist/bench/main.js', import.meta.url));
const binary = traefikForSuite();

describe.skipIf(!binary)('npm run bench -- --traefik', () => {
  it('times every change from COMMIT to the first answer of the new backend through Traefik, with its reloads, CPU and RSS', async () => {
    const out = await tempDir('tsync-bench-traefik-test-');
    // Past the timeout the bench gets SIGTERM (it then stops Traefik, the controller and PostgreSQL).
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [MAIN, '--traefik', '--projects', '100', '--updates', '4', '--out', out],
      { env: { PATH: process.env.PATH, TRAEFIK_BIN: binary!.path }, timeout: 550_000, maxBuffer: 10 * 2 ** 20 },
    );
    expect(stdout).toContain('| change→live, 100 commits/s background |');
    const r = JSON.parse(await readFile(path.join(out, 'bench-traefik-100.json'), 'utf8'));
    expect(r.traefik).toBe(binary!.version);
    expect(r.quiet.changes).toBe(2);
    expect(r.loaded.changes).toBe(4);
    expect(r.loaded.backgroundCommits).toBeGreaterThan(0);
    for (const phase of [r.quiet, r.loaded]) {
      expect(phase.changeToLive.n).toBe(phase.changes);
      // Live comes after the file is written, which comes after COMMIT.
      expect(phase.changeToFile.p50).toBeGreaterThanOrEqual(0);
      expect(phase.changeToLive.max).toBeGreaterThanOrEqual(phase.changeToFile.max);
      expect(phase.traefikReloads).toBeGreaterThan(0);
      expect(phase.traefikCpuSeconds).toBeGreaterThan(0);
    }
    expect(r.traefikPeakRssMb).toBeGreaterThan(0);
    expect(r.traefikFirstLoadMs).toBeGreaterThan(0);
    expect(r.traefikProviderErrors).toBe(0);
  }, 600_000);
});
