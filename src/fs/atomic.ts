/**
 * The only module that writes to the shared volume. Every write is atomic: a temp file in the
 * same directory whose name Traefik ignores (it does not end in .yml/.yaml/.toml), fsync,
 * rename over the target. Directories touched are fsynced once per pass (`flush`), before the
 * top-level marker is renamed, so a crash leaves either the old or the new file — never a torn one.
 */
import fs, {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  openSync,
  renameSync,
  rmdirSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { lstat, open, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { mapLimit } from '../util.js';
import { SymlinkError, openDir, realRoot, type OpenDir } from './no-follow.js';

/** fsync a raw descriptor in the thread pool (it waits for the disk). Looked up at each call: tests observe it. */
function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
}

/** write(2) until all of `buf` is written (a short write is how a nearly full disk may answer). */
function writeAll(fd: number, buf: Buffer): void {
  for (let off = 0; off < buf.length;) {
    const n = writeSync(fd, buf, off, buf.length - off);
    if (n === 0) throw Object.assign(new Error('write(2) wrote nothing (disk full?)'), { code: 'ENOSPC' });
    off += n;
  }
}

/** Remove a temp file left by a failed write; nothing to do if it is gone. */
function unlinkQuietly(p: string): void {
  try {
    unlinkSync(p);
  } catch {
    /* gone already, or not ours to report */
  }
}

/** Marker in temp file names; crash leftovers are recognised (and removed) by it. */
export const TEMP_MARK = '.tsync-tmp-';

let counter = 0;

/** The process umask, read once (process.umask() without an argument is deprecated). */
const UMASK = (() => {
  const old = process.umask(0o022);
  process.umask(old);
  return old;
})();

/** Resolve a relative path under root; throws if it would leave the root. */
export function inside(root: string, rel: string): string {
  const abs = path.resolve(root, rel);
  if (path.isAbsolute(rel) || rel.includes('\0') || (abs !== root && !abs.startsWith(root + path.sep))) {
    throw new Error(`refusing path outside the config root: ${JSON.stringify(rel)}`);
  }
  return abs;
}

/** fsync a directory (makes renames and unlinks in it durable). */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes and removals for one pass. Call {@link AtomicWriter.flush} at the end of the pass to
 * fsync every directory that changed. Nothing is written, renamed or removed through a symbolic
 * link below the root (no-follow.ts): such a link fails the operation with a SymlinkError naming it.
 */
export class AtomicWriter {
  readonly #root: string;
  readonly #dirty = new Set<string>();
  #real: Promise<string> | undefined;

  constructor(root: string) {
    this.#root = path.resolve(root);
  }

  get root(): string {
    return this.#root;
  }

  /**
   * Write `content` to `rel` atomically with `mode`; returns the new file's identity (inode,
   * size, mtime), as a later stat would see it. `durable: false` skips the fsyncs (for a file
   * whose only job is the rename event, like the reload marker): still never torn, maybe lost
   * in a crash. A symbolic link at `rel` itself is refused too (it is not ours to replace).
   * `stageIn`: the folder (relative to the root, '' = the root) the temp file is written in, when
   * not beside `rel`: Traefik re-reads its whole tree on every event in the folder it watches
   * (create, write, rename away, rename in), so a file written there should arrive by one rename
   * (docs/traefik-reload.md). Falls back to beside `rel` when the rename crosses filesystems.
   */
  async write(
    rel: string,
    content: string | Buffer,
    mode = 0o644,
    { durable = true, stageIn }: { durable?: boolean; stageIn?: string } = {},
  ): Promise<{ ino: number; size: number; mtimeMs: number }> {
    inside(this.#root, rel);
    const { dirRel, name } = split(rel);
    const real = await this.#realRoot();
    const made: string[] = [];
    const dir = openDir(real, dirRel, true, made)!;
    // New directories must be durable too: fsync each new one's parent at flush.
    for (const d of made) this.#dirty.add(path.dirname(d));
    let st: Stats;
    let stage: OpenDir | null = null;
    try {
      stage = stageIn !== undefined && stageIn !== dirRel ? openDir(real, stageIn, false) : null;
      const tmp = (stage ?? dir).at(`.${name}${TEMP_MARK}${process.pid}-${++counter}`);
      // Metadata calls and the write into the page cache are synchronous (microseconds each; a
      // thread-pool round trip costs the event loop more than the call); only the fsync, which
      // waits for the disk, goes to the thread pool (no-follow.ts openDir).
      const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
      try {
        writeAll(fd, typeof content === 'string' ? Buffer.from(content) : content);
        if ((mode & ~UMASK) !== mode) fchmodSync(fd, mode); // the umask narrowed the mode given to open()
        if (durable) await fsyncFd(fd);
        st = fstatSync(fd);
      } catch (err) {
        closeSync(fd);
        unlinkQuietly(tmp);
        throw err;
      }
      closeSync(fd);
      try {
        if (lstatSync(dir.at(name), { throwIfNoEntry: false })?.isSymbolicLink()) throw new SymlinkError(rel);
        renameSync(tmp, dir.at(name));
      } catch (err) {
        unlinkQuietly(tmp);
        if (stage && (err as NodeJS.ErrnoException).code === 'EXDEV') return await this.write(rel, content, mode, { durable });
        throw err;
      }
    } finally {
      stage?.close();
      dir.close();
    }
    if (durable) this.#dirty.add(path.join(real, dirRel));
    return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
  }

  /** Remove `rel` (no error if already gone); empty parent directories up to the top level go too. */
  async remove(rel: string): Promise<void> {
    inside(this.#root, rel);
    const { dirRel, name } = split(rel);
    const real = await this.#realRoot();
    const dir = openDir(real, dirRel, false);
    if (!dir) return; // its directory is gone, so is the file
    try {
      unlinkSync(dir.at(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    } finally {
      dir.close();
    }
    this.#dirty.add(path.join(real, dirRel));
    // Prune empty directories below the second level (dynamic/<project>/services → dynamic/<project>).
    for (let cur = dirRel; cur.split('/').length >= 2; cur = path.posix.dirname(cur)) {
      const parent = openDir(real, path.posix.dirname(cur), false);
      if (!parent) break;
      let removed = true;
      try {
        rmdirSync(parent.at(path.posix.basename(cur)));
      } catch {
        removed = false; // not empty (or gone): stop here
      } finally {
        parent.close();
      }
      if (!removed) break;
      this.#dirty.delete(path.join(real, cur));
      this.#dirty.add(path.join(real, path.posix.dirname(cur)));
    }
  }

  /** fsync every directory changed since the last flush. */
  async flush(): Promise<void> {
    const dirs = [...this.#dirty];
    this.#dirty.clear();
    // Bounded: a cold sync touches tens of thousands of directories (open file limits).
    await mapLimit(dirs, 64, (d) =>
      fsyncDir(d).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      }),
    );
  }

  #realRoot(): Promise<string> {
    this.#real ??= realRoot(this.#root);
    return this.#real;
  }
}

/** `dynamic/p/x.yml` → its directory (`dynamic/p`, '' for the root) and name. */
function split(rel: string): { dirRel: string; name: string } {
  const dirRel = path.posix.dirname(rel);
  return { dirRel: dirRel === '.' ? '' : dirRel, name: path.posix.basename(rel) };
}

const PROBE_BYTES = 64 * 1024;

/**
 * Whether `dir` takes a write again (after ENOSPC, EROFS, EDQUOT…): a 64 KiB temp file (more
 * than most projects' files together) is written, fsynced and removed. A crash in between leaves
 * a temp file that start-up removes, like any other.
 */
export async function takesWrites(dir: string): Promise<boolean> {
  const probe = path.join(dir, `.probe${TEMP_MARK}${process.pid}-${++counter}`);
  let written = false;
  try {
    const fh = await open(probe, 'wx', 0o600);
    try {
      await fh.writeFile(Buffer.alloc(PROBE_BYTES)); // all of it: a short write(2) is how a nearly full disk answers
      await fh.sync();
      written = true;
    } finally {
      await fh.close().catch(() => {});
    }
  } catch {
    // refused (the error is the pass's to report): not yet
  }
  await unlink(probe).catch(() => {});
  return written;
}

/**
 * Remove temp files left by a crash anywhere under root; returns their relative paths. A temp file
 * named with this process's pid and changed since it started is a write of its own in flight
 * (passes run while this walks), left alone. Any other is a leftover: of another process (which
 * may have started later, e.g. a crashed `sync --once` seen by a library caller), or of an earlier
 * process with the same pid (PID 1 of the previous container), which is older than this one.
 */
export async function removeTempFiles(root: string, startedAtMs = performance.timeOrigin): Promise<string[]> {
  const removed: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) await walk(abs);
      else if (e.name.includes(TEMP_MARK)) {
        const st = await lstat(abs).catch(() => null);
        if (!st || (e.name.includes(`${TEMP_MARK}${process.pid}-`) && st.mtimeMs >= startedAtMs)) continue;
        await unlink(abs).catch(() => {});
        removed.push(path.relative(root, abs));
      }
    }
  };
  await walk(path.resolve(root));
  return removed;
}
