/**
 * The probe behind "retry as soon as the volume takes writes": true when a 64 KiB temp file can
 * be written and synced, false when it cannot, and it never leaves the probe behind (a leftover
 * would be an unexpected file in a watched folder). ENOSPC and EROFS are covered end to end in
 * test/reliability/disk-faults.test.ts (it mounts a tmpfs).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { takesWrites } from '../../src/fs/atomic.js';

let dir = '';

afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('takesWrites', () => {
  it('a writable folder takes the probe and is left as it was', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tsync-probe-'));
    expect(await takesWrites(dir)).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a folder that is missing does not', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tsync-probe-'));
    expect(await takesWrites(path.join(dir, 'dynamic'))).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });
});
