/**
 * `sync --once` on a terminal shows a progress line (done / total, rate, time left) and clears it;
 * piped (a log, an init container) it writes none. The terminal is a real pseudo-terminal from
 * util-linux `script` (skipped with the reason when absent, failed in CI).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { seedBench } from '../../src/bench/seed.js';
import { progressLine, progressText } from '../../src/cli/progress.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { findExecutable, requirement } from '../helpers/requires.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cli } from '../reliability/support.js';

const BIN = fileURLToPath(new URL('../../bin/traefik-sync.js', import.meta.url));
const script = findExecutable('script');
const pty = requirement('script (util-linux, a pseudo-terminal)', script ? null : 'script is not on PATH');

describe('the progress line', () => {
  it('says done / total, the rate and the time left, at most every 200 ms, and is cleared at the end', () => {
    let now = 0;
    const written: string[] = [];
    const p = progressLine({ isTTY: true, write: (t: string) => written.push(t) }, 'projects', () => now);
    now = 2000;
    p.update(1000, 10_000);
    now = 2100;
    p.update(1100, 10_000); // within 200 ms: not drawn
    now = 4000;
    p.update(2000, 10_000);
    p.end();
    expect(written).toEqual([
      '\r\x1b[K1,000 / 10,000 projects · 500/s · 18 s left',
      '\r\x1b[K2,000 / 10,000 projects · 500/s · 16 s left',
      '\r\x1b[K',
    ]);
    expect(progressText('projects', 100, 50_000, 1000)).toBe('100 / 50,000 projects · 100/s · 8 min 19 s left');
  });

  it('writes nothing where the stream is not a terminal', () => {
    const written: string[] = [];
    const p = progressLine({ isTTY: false, write: (t: string) => written.push(t) }, 'projects');
    p.update(1, 2);
    p.end();
    expect(written).toEqual([]);
  });
});

describe('sync --once', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
    await seedBench(t.db, 300);
  }, 60_000);
  afterAll(async () => {
    await t?.drop();
  });

  pty.it(
    'on a terminal shows the projects done of all of them, then its summary',
    async () => {
      const root = await tempDir('tsync-progress-');
      const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} sync --once --config-dir ${JSON.stringify(root)}`;
      const r = spawnSync(script!, ['-qec', command, '/dev/null'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, DATABASE_URL: t.url, LOG_LEVEL: 'warn', TERM: 'dumb' },
        timeout: 120_000,
      });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/\r\x1b\[K300 \/ 300 projects · [\d,]+\/s/);
      expect(r.stdout).toContain('300 project(s): 1501 file(s) created');
    },
    150_000,
  );

  it('piped, writes no progress line', async () => {
    const root = await tempDir('tsync-progress-');
    const r = cli(['sync', '--once', '--config-dir', root], { DATABASE_URL: t.url });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('/ 300 projects');
    expect(r.stdout).toContain('300 project(s)');
  }, 120_000);
});
