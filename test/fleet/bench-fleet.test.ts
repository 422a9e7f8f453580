/**
 * The fleet benchmark (`npm run bench -- --replicas N`) is a deliverable: it must run to completion
 * and report every number. Run here at the smallest size (2 replicas, 100 projects); the sizing
 * numbers come from full-size runs, not from a test.
 */
import { expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/temp-dir.js';

const MAIN = fileURLToPath(new URL('../../dist/bench/main.js', import.meta.url));

it('measures connections, idle queries, change→file on every replica, a first start and a fleet-wide restart', async () => {
  const out = await tempDir('tsync-fleet-bench-');
  const args = ['--replicas', '2', '--projects', '100', '--updates', '3', '--idle-window', '10', '--interval', '5s', '--out', out];
  // Past the timeout the bench gets SIGTERM (it then stops its replicas and PostgreSQL).
  const r = spawnSync(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH }, encoding: 'utf8', timeout: 280_000 });
  expect(r.status, r.stderr.slice(-2000)).toBe(0);
  expect(r.stdout).toContain('| connections held (idle) |');
  const result = JSON.parse(await readFile(path.join(out, 'fleet-2x100.json'), 'utf8'));
  // Each replica holds its session connection (LISTEN and the leader's lock); no leader connection of its own.
  expect(result.idle.connectionsByApplication['traefik-sync-listen']).toBe(2);
  expect(result.idle.connectionsByApplication['traefik-sync-leader']).toBeUndefined();
  expect(result.idle.queriesPerSecond).toBeGreaterThan(0);
  expect(result.idle.queriesPerSecondPerReplica).toBeLessThan(2);
  expect(result.changeToFile).toMatchObject({ updates: 3, samples: 6 });
  expect(result.coldStart.allSyncedMs).toBeGreaterThan(0);
  expect(result.restart.allReadyMs).toBeGreaterThan(0);
  expect(result.restart.serverCpuPeakCores).toBeGreaterThanOrEqual(0);
}, 300_000);
