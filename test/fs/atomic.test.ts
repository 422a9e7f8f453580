/**
 * The writer's contract (src/fs/atomic.ts), observed from outside:
 * - the temp file of a write has a name Traefik's file provider ignores (it loads only .yml, .yaml
 *   and .toml), in the target's directory, and is gone after;
 * - the target is replaced by a rename (a new inode), never rewritten in place: a reader holding
 *   the old file open still reads it whole;
 * - the file is fsynced before the rename, and `flush` fsyncs every directory the pass changed,
 *   including the parents of directories it created (checked through /proc/self/fd);
 * - a removal prunes emptied folders below the top level, and never the top level itself.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs, { readlinkSync, watch, type FSWatcher } from 'node:fs';
import { mkdir, open, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AtomicWriter, removeTempFiles, TEMP_MARK } from '../../src/fs/atomic.js';
import { waitFor } from '../helpers/sidecar.js';
import { tempDir } from '../helpers/temp-dir.js';

let root: string;
beforeEach(async () => {
  root = await tempDir('tsync-atomic-');
});

/** Paths fsynced while `fn` runs (the real fsync still happens). */
async function fsyncedDuring(fn: () => Promise<void>): Promise<string[]> {
  const probe = await open(path.join(root, '.probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  const synced: string[] = [];
  // Files are fsynced by descriptor (fs.fsync), directories through a FileHandle: watch both.
  const realHandle = proto.sync;
  const realFd = fs.fsync;
  proto.sync = function (this: { fd: number }) {
    synced.push(readlinkSync(`/proc/self/fd/${this.fd}`));
    return realHandle.call(this);
  };
  fs.fsync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    synced.push(readlinkSync(`/proc/self/fd/${fd}`));
    return realFd(fd, cb);
  }) as typeof fs.fsync;
  try {
    await fn();
  } finally {
    proto.sync = realHandle;
    fs.fsync = realFd;
  }
  return synced.map((p) => path.relative(root, p) || '.');
}

describe('AtomicWriter', () => {
  let watcher: FSWatcher | undefined;
  afterEach(() => watcher?.close());

  it('writes through a temp file Traefik ignores, in the same folder, gone after', async () => {
    const w = new AtomicWriter(root);
    await w.write('dynamic/p/services/app.yml', 'a: 1\n');
    const seen = new Set<string>();
    watcher = watch(path.join(root, 'dynamic/p/services'), (_e, name) => name && seen.add(name.toString()));
    for (let i = 0; i < 20; i++) await w.write('dynamic/p/services/app.yml', `a: ${i}\n`.repeat(100 * i + 1));
    await w.write('dynamic/p/services/app.yaml', 'b: 1\n');
    await w.write('dynamic/p/services/app.toml', 'c = 1\n');
    // The events of the last writes come a moment later: wait for the last target's rename.
    await waitFor(() => seen.has('app.toml'));
    const temps = [...seen].filter((n) => !['app.yml', 'app.yaml', 'app.toml'].includes(n));
    expect(temps.length).toBeGreaterThan(0);
    expect(temps.filter((n) => /\.(ya?ml|toml)$/.test(n))).toEqual([]);
    expect((await readdir(path.join(root, 'dynamic/p/services'))).sort()).toEqual(['app.toml', 'app.yaml', 'app.yml']);
  });

  it('replaces the file by a rename: a new inode, and a reader of the old file still reads all of it', async () => {
    const w = new AtomicWriter(root);
    const old = 'old: text\n'.repeat(1000);
    await w.write('dynamic/p/domains.yml', old);
    const abs = path.join(root, 'dynamic/p/domains.yml');
    const before = await stat(abs);
    const reader = await open(abs, 'r');
    try {
      const id = await w.write('dynamic/p/domains.yml', 'new: text\n');
      expect(id.ino).not.toBe(before.ino);
      expect((await stat(abs)).ino).toBe(id.ino);
      expect(await reader.readFile('utf8')).toBe(old);
    } finally {
      await reader.close();
    }
    expect(await readFile(abs, 'utf8')).toBe('new: text\n');
  });

  it('fsyncs the file before the rename, and at flush every changed folder and the parents of new ones', async () => {
    await mkdir(path.join(root, 'dynamic'), { recursive: true });
    await mkdir(path.join(root, 'ssl/keys'), { recursive: true });
    const w = new AtomicWriter(root);
    const synced = await fsyncedDuring(async () => {
      await w.write('dynamic/p/services/app.yml', 'a: 1\n');
      await w.write('ssl/keys/x.key', 'k\n', 0o600);
    });
    // The files themselves, by their temp names (the rename comes after the fsync).
    expect(synced.filter((p) => p.startsWith('dynamic/p/services/.app.yml'))).toHaveLength(1);
    expect(synced.filter((p) => p.startsWith('ssl/keys/.x.key'))).toHaveLength(1);
    const flushed = await fsyncedDuring(() => w.flush());
    expect(flushed.sort()).toEqual(['dynamic', 'dynamic/p', 'dynamic/p/services', 'ssl/keys']);
  });

  it('`durable: false` skips the fsyncs (the reload marker) but still renames', async () => {
    const w = new AtomicWriter(root);
    await mkdir(path.join(root, 'dynamic'));
    const synced = await fsyncedDuring(async () => {
      await w.write('dynamic/.traefik-sync-reload', 'now\n', 0o644, { durable: false });
      await w.flush();
    });
    expect(synced).toEqual([]);
    expect(await readFile(path.join(root, 'dynamic/.traefik-sync-reload'), 'utf8')).toBe('now\n');
  });

  it('a removal prunes the folders it empties below the top level, fsyncs what is left', async () => {
    const w = new AtomicWriter(root);
    await w.write('dynamic/p/services/app.yml', 'a: 1\n');
    await w.write('dynamic/q/domains.yml', 'b: 1\n');
    await w.flush();
    await w.remove('dynamic/p/services/app.yml');
    await w.remove('dynamic/q/domains.yml');
    await w.remove('dynamic/q/gone.yml'); // already gone: no error
    expect(await readdir(path.join(root, 'dynamic'))).toEqual([]);
    expect(await fsyncedDuring(() => w.flush())).toEqual(['dynamic']);
    // A folder with something else in it stays.
    await w.write('dynamic/r/services/app.yml', 'c: 1\n');
    await writeFile(path.join(root, 'dynamic/r/notes.txt'), 'hand-made');
    await w.remove('dynamic/r/services/app.yml');
    expect(await readdir(path.join(root, 'dynamic/r'))).toEqual(['notes.txt']);
  });

  it('refuses a path outside the root', async () => {
    const w = new AtomicWriter(root);
    for (const bad of ['../x.yml', '/etc/x.yml', 'dynamic/../../x.yml', 'a\0b'])
      await expect(w.write(bad, 'x'), bad).rejects.toThrow(/outside the config root/);
  });
});

describe('crash leftovers', () => {
  it("removes other processes' temp files and its own pid's older ones, never a write of its own in flight", async () => {
    const dir = path.join(root, 'dynamic', 'p');
    await mkdir(dir, { recursive: true });
    const own = path.join(dir, `.a.yml${TEMP_MARK}${process.pid}-1`); // this process writing now
    const other = path.join(dir, `.b.yml${TEMP_MARK}${process.pid + 1}-1`); // another process, started after this one
    const previous = path.join(dir, `.c.yml${TEMP_MARK}${process.pid}-2`); // the same pid in an earlier container
    for (const f of [own, other, previous]) await writeFile(f, 'x');
    const past = new Date(performance.timeOrigin - 60_000);
    await utimes(previous, past, past);
    const removed = await removeTempFiles(root);
    expect(removed.sort()).toEqual([path.relative(root, other), path.relative(root, previous)].sort());
    expect(await readdir(dir)).toEqual([path.basename(own)]);
  });
});
