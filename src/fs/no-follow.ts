/**
 * Directories inside the config root opened without following symbolic links. The root itself
 * may be a link (where the volume is mounted is the operator's choice); below it, a link at any
 * level — `ssl/keys` swapped for a link to a folder elsewhere, `dynamic/<project>`, `services/` —
 * is refused with a {@link SymlinkError} naming it, so no write, rename or removal lands outside.
 *
 * On Linux the directory is opened (O_DIRECTORY | O_NOFOLLOW) and the kernel's own path of the
 * descriptor (/proc/self/fd) must be the expected one; every operation then goes through
 * `/proc/self/fd/<n>/<name>`, so a link swapped in after the check is not followed either. Where
 * /proc is missing, each component is checked with lstat (a race remains there).
 */
import { closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readlinkSync } from 'node:fs';
import { mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';

const PROC_FD = existsSync('/proc/self/fd');

/** A symbolic link found inside the config root where a directory or file of ours belongs. */
export class SymlinkError extends Error {
  override readonly name = 'SymlinkError';
  readonly code = 'ESYMLINK';
  constructor(
    /** The link, relative to the root. */
    readonly rel: string,
  ) {
    super(
      `${rel} is a symbolic link: traefik-sync never writes, renames or removes through one below the folder it writes (the config root, or export's --cert-dir); remove it (and write again)`,
    );
  }
}

/** An open directory: `at(name)` is a path to `name` inside it that follows no link on the way. */
export interface OpenDir {
  at(name: string): string;
  close(): void;
}

/** The first component of `rel` (a directory path below `realRoot`) that is a symbolic link; null if none is. */
function firstLink(realRoot: string, rel: string): string | null {
  let cur = '';
  for (const seg of rel.split('/').filter(Boolean)) {
    cur = cur ? `${cur}/${seg}` : seg;
    const st = lstatOrNull(path.join(realRoot, cur));
    if (!st) return null;
    if (st.isSymbolicLink()) return cur;
  }
  return null;
}

/** Create the missing directories of `rel`, one level at a time, refusing a link on the way; returns those created. */
function createDirs(realRoot: string, rel: string): string[] {
  const created: string[] = [];
  let cur = '';
  for (const seg of rel.split('/').filter(Boolean)) {
    cur = cur ? `${cur}/${seg}` : seg;
    const abs = path.join(realRoot, cur);
    const st = lstatOrNull(abs);
    if (st?.isSymbolicLink()) throw new SymlinkError(cur);
    if (st) continue;
    try {
      mkdirSync(abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    created.push(abs);
  }
  return created;
}

/** lstat, null when the path does not exist or cannot be read. */
function lstatOrNull(abs: string) {
  try {
    return lstatSync(abs, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}

/**
 * Open the directory `rel` below `realRoot` (the root's real path) without following a link.
 * `create`: make missing directories (the absolute paths of those made go to `made`). Without
 * it, a missing directory gives null. Throws {@link SymlinkError} for a link on the way.
 *
 * Synchronous on purpose: these are metadata calls the kernel answers from its caches in
 * microseconds, while a round trip through libuv's thread pool costs the event loop tens of
 * microseconds each (a cold sync of 10,000 projects makes hundreds of thousands). The fsyncs,
 * which wait for the disk, stay asynchronous (atomic.ts).
 */
export function openDir(realRoot: string, rel: string, create: boolean, made: string[] = []): OpenDir | null {
  const abs = rel ? path.join(realRoot, rel) : realRoot;
  if (!PROC_FD) {
    const link = firstLink(realRoot, rel);
    if (link) throw new SymlinkError(link);
    if (create) made.push(...createDirs(realRoot, rel));
    else if (!lstatOrNull(abs)) return null;
    return { at: (name) => path.join(abs, name), close: () => {} };
  }
  let fd: number;
  try {
    fd = openSync(abs, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENOENT') {
      const link = firstLink(realRoot, rel);
      if (link) throw new SymlinkError(link);
    }
    if (code !== 'ENOENT') throw err;
    if (!create) return null;
    made.push(...createDirs(realRoot, rel));
    const opened = openDir(realRoot, rel, false, made);
    if (!opened) throw Object.assign(new Error(`${rel} vanished while it was being created`), { code: 'ENOENT' });
    return opened;
  }
  const fdPath = `/proc/self/fd/${fd}`;
  let real: string;
  try {
    real = readlinkSync(fdPath);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  if (real !== abs) {
    closeSync(fd);
    const link = firstLink(realRoot, rel);
    if (link) throw new SymlinkError(link);
    throw Object.assign(new Error(`${rel} was moved or removed while it was being opened`), { code: 'ENOENT' });
  }
  return {
    at: (name) => `${fdPath}/${name}`,
    close: () => closeSync(fd),
  };
}

/** The real path of the config root (resolved once per caller: the root itself may be a link). */
export function realRoot(root: string): Promise<string> {
  return realpath(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    return mkdir(root, { recursive: true }).then(() => realpath(root));
  });
}
