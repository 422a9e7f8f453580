/**
 * What is on disk under the config root: every file, whether it is ours (header) and which
 * project owns it, with the identity (inode, size, mtime) used for cheap drift checks.
 */
import { closeSync, constants, lstatSync, openSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { bodyMatchesHeader, checksumOf, readHeader, routerCount } from '../render/serialize.js';
import { TEMP_MARK } from './atomic.js';

/** One file on disk. */
export interface DiskFile {
  /** Relative to the config root, posix separators. */
  readonly path: string;
  readonly owned: boolean;
  readonly projectId: string | null;
  readonly checksum: string;
  /** Routers the file defines (for the delete guard); the text itself is not kept. */
  readonly routers: number;
  /** Ours, and its body still matches the checksum in its header (not edited since written). */
  readonly intact: boolean;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  /** Permission bits (`st_mode & 0o7777`): part of the desired state (keys 0600, the rest 0644). */
  readonly mode: number;
  /** Why the file could not be read (EACCES, EPERM): it may not be ours, so it is treated as not ours. */
  readonly unreadable?: string;
}

/** Top-level folders traefik-sync manages. */
export const MANAGED_DIRS = ['static', 'dynamic', 'ssl'] as const;

const MARKER = '.traefik-sync-reload';

function toPosix(rel: string): string {
  return rel.split(path.sep).join('/');
}

/** The permission bits of an `st_mode` (setuid, setgid, sticky and rwx), as compared with a file's desired mode. */
export function permissions(stMode: number): number {
  return stMode & 0o7777;
}

/** Real paths of config roots (a root may itself be a link; nothing below it may be). */
const realRoots = new Map<string, string>();

/**
 * Whether the file open as `fd` is `root`/`rel` without a link on the way: a file reached
 * through a linked directory is not ours (it lives elsewhere), so it reads as absent. Linux only
 * (/proc/self/fd); elsewhere true.
 */
function reachedDirectly(root: string, rel: string, fd: number): boolean {
  let real: string;
  try {
    real = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return true;
  }
  let base = realRoots.get(root);
  if (base === undefined) realRoots.set(root, (base = realpathSync(root)));
  return real === path.join(base, rel);
}

/**
 * Read one file (null when it does not exist, is not a regular file, or is reached through a link).
 * Synchronous inside (see {@link readDiskFileSync}); a promise for the callers that await it.
 */
export async function readDiskFile(root: string, rel: string): Promise<DiskFile | null> {
  return readDiskFileSync(root, rel);
}

/**
 * {@link readDiskFile}, synchronously: the files are small and Traefik keeps them in the page
 * cache (it re-reads the tree on every reload), so the calls take microseconds, while a round trip
 * through libuv's thread pool per call (lstat, open, fstat, read, close) cost the event loop more
 * than the reads themselves: a no-op full pass at 10,000 projects reads 50,000 files.
 */
function readDiskFileSync(root: string, rel: string): DiskFile | null {
  const abs = path.join(root, rel);
  try {
    // lstat first: a symlink (maybe pointing out of the root) or a FIFO (a read would block
    // forever) is not a file of ours, whatever its name.
    const st = lstatSync(abs);
    if (!st.isFile()) return null;
    let buf: Buffer | string | null;
    try {
      buf = readOwn(root, rel);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM') throw err;
      buf = code;
    }
    if (buf === null) return null;
    if (typeof buf === 'string') {
      // Someone else's file (e.g. root's, mode 0600): never touched, and in the way if at a path we want.
      return {
        path: toPosix(rel),
        owned: false,
        projectId: null,
        checksum: '',
        routers: 0,
        intact: false,
        ino: st.ino,
        size: st.size,
        mtimeMs: st.mtimeMs,
        mode: permissions(st.mode),
        unreadable: buf,
      };
    }
    const content = buf.toString('utf8');
    const h = readHeader(content);
    return {
      path: toPosix(rel),
      owned: h.owned,
      projectId: h.projectId,
      checksum: checksumOf(content),
      routers: h.owned ? routerCount(content) : 0,
      intact: h.owned && bodyMatchesHeader(content),
      ino: st.ino,
      size: st.size,
      mtimeMs: st.mtimeMs,
      mode: permissions(st.mode),
    };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR' || code === 'ELOOP') return null;
    throw err;
  }
}

/** The bytes of `root`/`rel`, or null when it is reached through a linked directory. */
function readOwn(root: string, rel: string): Buffer | null {
  // O_NONBLOCK: a FIFO swapped in after the lstat does not block the read.
  const fd = openSync(path.join(root, rel), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    return reachedDirectly(root, rel, fd) ? readFileSync(fd) : null;
  } finally {
    closeSync(fd);
  }
}

/** Relative paths of every regular file below `rel` (recursive), skipping temp files and the marker. */
export async function listFiles(root: string, rel: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dirRel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(path.join(root, dirRel), { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A folder we may not list holds nothing we can know about (writing into it fails per project).
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM') return;
      throw err;
    }
    for (const e of entries) {
      const childRel = dirRel ? `${dirRel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(childRel);
      else if (e.isFile() && !e.name.includes(TEMP_MARK) && e.name !== MARKER) out.push(childRel);
    }
  };
  await walk(rel);
  return out.sort();
}

/** Files read between two yields to the event loop by {@link readDiskFiles}. */
const READ_CHUNK = 64;

/** Read many files (sorted by path), yielding to the event loop between chunks. */
export async function readDiskFiles(root: string, rels: readonly string[]): Promise<DiskFile[]> {
  const out: DiskFile[] = [];
  for (const [i, rel] of rels.entries()) {
    if (i > 0 && i % READ_CHUNK === 0) await new Promise((resolve) => setImmediate(resolve));
    const f = readDiskFileSync(root, rel);
    if (f) out.push(f);
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Every file under the managed folders. */
export async function scanRoot(root: string): Promise<DiskFile[]> {
  const rels = (await Promise.all(MANAGED_DIRS.map((d) => listFiles(root, d)))).flat();
  return readDiskFiles(root, rels);
}

/**
 * True when the volume holds the config of a pass that finished, as a previous run (or the init
 * container's `sync --once`) leaves it: our static config, intact, and the reload marker, which a
 * pass writes last.
 */
export async function previousConfigOnVolume(root: string): Promise<boolean> {
  const [file, marker] = await Promise.all([
    readDiskFile(root, 'static/traefik.yml').catch(() => null),
    lstat(path.join(root, 'dynamic', MARKER)).catch(() => null),
  ]);
  return file !== null && file.owned && file.intact && marker !== null && marker.isFile();
}
