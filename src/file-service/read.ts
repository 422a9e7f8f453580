/**
 * Reading one file that {@link resolveSafePath} let through: opened read-only without following
 * a final symbolic link, checked again after opening (the descriptor's real path must be the one
 * that was checked, so a link swapped in between is caught), regular files only, size-bounded.
 */
import { constants, type Stats } from 'node:fs';
import { open, readlink } from 'node:fs/promises';
import { FileServiceError, badPath, quoteInput } from './errors.js';
import type { SafePath } from './paths.js';
import { containsPrivateKey } from '../redact.js';

/** Default largest file served: 5 MiB. */
export const DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024;

/** A file's bytes and its stat. */
export interface ReadResult {
  readonly data: Buffer;
  readonly stat: Stats;
}

/** True when the bytes hold PEM private key material: such a file is never served, wherever it is. */
export const holdsPrivateKey = (data: Buffer): boolean => containsPrivateKey(data);

/**
 * Read the file at `sp`: 400 if it is a directory or not a regular file (FIFOs, devices are never
 * opened for reading in blocking mode), 413 above `maxBytes`, 403 if it has more than one hard
 * link or holds a private key.
 */
export async function readSafeFile(sp: SafePath, maxBytes = DEFAULT_MAX_FILE_BYTES): Promise<ReadResult> {
  let fh;
  try {
    fh = await open(sp.real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw badPath(sp.rel, 'the path changed into a symbolic link while it was being opened');
    if (code === 'ENOENT') throw new FileServiceError(404, `no such file or directory: ${quoteInput(sp.rel)}`);
    if (code === 'EACCES') throw new FileServiceError(403, `path ${quoteInput(sp.rel)} refused: permission denied`);
    throw err;
  }
  try {
    // Linux: the descriptor's own path. It must still be the path that was checked.
    // (A file replaced by an atomic rename after the open reads as "<path> (deleted)": still ours.)
    const opened = (await readlink(`/proc/self/fd/${fh.fd}`).catch(() => sp.real)).replace(/ \(deleted\)$/, '');
    if (opened !== sp.real) throw badPath(sp.rel, 'the path changed while it was being opened');
    const stat = await fh.stat();
    if (stat.isDirectory()) throw badPath(sp.rel, 'it is a directory; list it with /api/v1/files?path=');
    if (!stat.isFile()) throw badPath(sp.rel, 'not a regular file');
    // traefik-sync writes by rename, so its files have one link. A second hard link could be a
    // copy of a file outside the root (or of a key) that no path check can see.
    if (stat.nlink > 1)
      throw new FileServiceError(
        403,
        `path ${quoteInput(sp.rel)} refused: the file has ${stat.nlink} hard links and may be shared with a file outside the config root`,
      );
    if (stat.size > maxBytes)
      throw new FileServiceError(413, `file ${quoteInput(sp.rel)} is ${stat.size} bytes; files above ${maxBytes} bytes are not served`);
    // Read at most maxBytes + 1: a file that grew after the stat is refused, not cut.
    const buf = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, filled, buf.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled === buf.length) break;
    }
    if (filled > maxBytes) throw new FileServiceError(413, `file ${quoteInput(sp.rel)} is larger than ${maxBytes} bytes; not served`);
    const data = buf.subarray(0, filled);
    if (holdsPrivateKey(data)) throw new FileServiceError(403, `path ${quoteInput(sp.rel)} refused: the file holds private key material`);
    return { data, stat };
  } finally {
    await fh.close();
  }
}

/** The first `bytes` bytes of a regular file (for the ownership header), or null when unreadable. */
export async function readHead(real: string, bytes = 64): Promise<string | null> {
  try {
    const fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const buf = Buffer.alloc(bytes);
      const { bytesRead } = await fh.read(buf, 0, bytes, 0);
      return buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return null;
  }
}
