/**
 * A write staged outside the target's folder (src/fs/atomic.ts `stageIn`), as the reload marker
 * is: Traefik re-reads its whole tree on every event in dynamic/ (docs/traefik-reload.md), so the
 * marker must arrive there as one rename, with no event for its temp file. Events are read up to
 * a later sentinel file: inotify delivers a folder's events in order, so nothing is still on its way.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AtomicWriter } from '../../src/fs/atomic.js';
import { waitFor } from '../helpers/sidecar.js';
import { tempDir } from '../helpers/temp-dir.js';

let root: string;
let watcher: FSWatcher | undefined;
beforeEach(async () => {
  root = await tempDir('tsync-atomic-stage-');
  await mkdir(path.join(root, 'dynamic/p'), { recursive: true });
});
afterEach(() => watcher?.close());

/** Names of the events in dynamic/ while `fn` runs, up to a sentinel written after it. */
async function eventsIn(fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  watcher = watch(path.join(root, 'dynamic'), (_e, name) => name && seen.push(name.toString()));
  await fn();
  await writeFile(path.join(root, 'dynamic/sentinel'), '');
  await waitFor(() => seen.includes('sentinel'));
  watcher.close();
  return seen.slice(0, seen.indexOf('sentinel'));
}

describe('AtomicWriter.write with stageIn', () => {
  it('brings the file into the watched folder by one rename, its temp file written in the root', async () => {
    const w = new AtomicWriter(root);
    await w.write('dynamic/.traefik-sync-reload', 'first\n', 0o644, { durable: false, stageIn: '' });
    const events = await eventsIn(() => w.write('dynamic/.traefik-sync-reload', 'second\n', 0o644, { durable: false, stageIn: '' }));
    expect(events).toEqual(['.traefik-sync-reload']);
    expect(await readFile(path.join(root, 'dynamic/.traefik-sync-reload'), 'utf8')).toBe('second\n');
    expect((await readdir(root)).sort()).toEqual(['dynamic']); // no temp file left in the root
  });

  it('without it, the temp file beside the target is seen in the folder too (each event a re-read for Traefik)', async () => {
    const w = new AtomicWriter(root);
    const events = await eventsIn(() => w.write('dynamic/.traefik-sync-reload', 'x\n', 0o644, { durable: false }));
    expect(events.filter((n) => n !== '.traefik-sync-reload').length).toBeGreaterThanOrEqual(2);
  });

  it('a file already in the staging folder is written beside itself as before', async () => {
    const w = new AtomicWriter(root);
    await w.write('static/traefik.yml', 'a: 1\n', 0o644, { stageIn: 'static' });
    expect(await readFile(path.join(root, 'static/traefik.yml'), 'utf8')).toBe('a: 1\n');
    expect(await readdir(path.join(root, 'static'))).toEqual(['traefik.yml']);
  });
});
