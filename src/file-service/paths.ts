/**
 * Path safety for the read-only file API: {@link resolveSafePath} is the one place where a
 * requested path becomes a file on disk. Everything it lets through is inside the config root
 * after every symbolic link is resolved, and is not key material.
 */
import { lstat, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { FileServiceError, badPath, forbiddenPath, notFound, quoteInput } from './errors.js';

/** Longest path accepted (characters). */
export const MAX_PATH_LENGTH = 1024;

/** A requested path that passed every check. */
export interface SafePath {
  /** The path as requested ('' = the root); posix separators, no `.`/`..`/empty segments. */
  readonly rel: string;
  /** The real path on disk (all symbolic links resolved), inside the real root. */
  readonly real: string;
  /** `real` relative to the real root, posix ('' = the root). */
  readonly realRel: string;
  /** The real path of the config root. */
  readonly realRoot: string;
}

/**
 * True for paths whose content is key material and is never served (403): anything under
 * `ssl/keys/` and any `*.key` file, compared case-insensitively (so `SSL/KEYS/x` is refused too,
 * on case-insensitive file systems as well).
 */
export function isRestrictedPath(rel: string): boolean {
  const p = rel.toLowerCase();
  return p === 'ssl/keys' || p.startsWith('ssl/keys/') || p.endsWith('.key');
}

/** Characters that look like `.`, `/` or `\` (NFKC folds some of them; others only look alike). */
const LOOKALIKES = /[\u00b7\u2024\u2025\u2026\u2027\u2044\u2215\u2216\u29f5\u29f8\u29f9\u3002\ufe52\ufe68\uff0e\uff0f\uff3c\uff61]/u;
/** Invisible and bidirectional control characters: they make a path read differently than it is. */
const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]/u;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
const ENCODED_TRAVERSAL = /%(2e|2f|5c|00)/i;
/** A `%` that starts no percent-encoded byte. */
export const LONE_PERCENT = /%(?![0-9a-f]{2})/i;
const LONE_PERCENTS = new RegExp(LONE_PERCENT.source, 'gi');

/**
 * The lexical checks, on the query parameter as decoded once (as URLSearchParams does):
 * what remains must be a plain relative path whose every segment is a real name.
 */
function lexical(raw: string): string {
  if (raw.length > MAX_PATH_LENGTH) throw badPath(raw, `longer than ${MAX_PATH_LENGTH} characters`);
  if (raw.includes('\0')) throw badPath(raw, 'NUL bytes are not allowed');
  if (raw.includes('\\')) throw badPath(raw, 'backslashes are not allowed');
  if (CONTROL.test(raw)) throw badPath(raw, 'control characters are not allowed');
  if (INVISIBLE.test(raw)) throw badPath(raw, 'invisible or bidirectional control characters are not allowed');
  if (raw.includes('\ufffd')) throw badPath(raw, 'invalid UTF-8 in the percent-encoding');
  // Decoded once already; a remaining (or doubly encoded) %2e/%2f/%5c/%00 is an attack. A "%"
  // not followed by two hex digits encodes nothing: it is part of a name (dynamic/100%.yml).
  // Only the checks look at further decodings; the path used is `raw`, decoded once.
  let layer = raw;
  for (let i = 0; i < 4 && layer.includes('%'); i++) {
    if (ENCODED_TRAVERSAL.test(layer)) throw badPath(raw, 'percent-encoded ".", "/", "\\" or NUL (the path is decoded exactly once)');
    let next: string;
    try {
      next = decodeURIComponent(layer.replace(LONE_PERCENTS, '%25'));
    } catch {
      throw badPath(raw, 'percent-encoded invalid UTF-8 after decoding (the path is decoded exactly once)');
    }
    if (next === layer) break;
    if (LOOKALIKES.test(next) || INVISIBLE.test(next) || CONTROL.test(next))
      throw badPath(raw, 'percent-encoded look-alike or control characters');
    layer = next;
  }
  for (const ch of raw) {
    if (ch.charCodeAt(0) < 0x80) continue;
    if (LOOKALIKES.test(ch) || /[./\\]/.test(ch.normalize('NFKC')))
      throw badPath(raw, `character U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} looks like ".", "/" or "\\"`);
  }
  if (raw.startsWith('/')) throw badPath(raw, 'absolute paths are not allowed; give a path relative to the config root');
  if (raw === '') return '';
  for (const segment of raw.split('/')) {
    if (segment === '') throw badPath(raw, 'empty path segments (leading, trailing or doubled "/") are not allowed');
    if (segment === '..') throw badPath(raw, '".." segments are not allowed');
    if (segment === '.') throw badPath(raw, '"." segments are not allowed');
  }
  return raw;
}

function inside(realRoot: string, real: string): string | null {
  if (real === realRoot) return '';
  if (!real.startsWith(realRoot + path.sep)) return null;
  return real
    .slice(realRoot.length + 1)
    .split(path.sep)
    .join('/');
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/**
 * The path does not resolve: if one of its components is a dangling symbolic link pointing
 * outside the root (or at key material), say so (400/403) rather than 404.
 */
async function checkDanglingLinks(raw: string, realRoot: string, rel: string): Promise<void> {
  let cur = realRoot;
  for (const segment of rel.split('/')) {
    const next = path.join(cur, segment);
    const st = await lstat(next).catch(() => null);
    if (!st) return;
    if (!st.isSymbolicLink()) {
      cur = next;
      continue;
    }
    const target = path.resolve(cur, await readlink(next));
    const targetRel = inside(realRoot, target);
    if (targetRel === null) throw badPath(raw, 'a symbolic link on the path points outside the config root');
    if (isRestrictedPath(targetRel)) throw forbiddenPath(raw);
    const resolved = await realpath(target).catch(() => null);
    if (!resolved) return;
    cur = resolved;
  }
}

/**
 * Resolve a requested path (the `path` query parameter, decoded once) under `root`.
 *
 * Refuses with {@link FileServiceError}: 400 for `..`/`.`/empty segments, absolute paths,
 * backslashes, NUL and control characters, percent-encoded or doubly encoded `.`/`/`/`\`/NUL,
 * look-alike characters, paths longer than {@link MAX_PATH_LENGTH}, and anything whose real path
 * (symbolic links resolved) leaves the root; 403 for key material ({@link isRestrictedPath}) by
 * the requested path or by the real path; 404 when nothing is there. Nothing is opened.
 */
export async function resolveSafePath(root: string, raw: string | null | undefined): Promise<SafePath> {
  const requested = raw ?? '';
  const rel = lexical(requested);
  if (isRestrictedPath(rel)) throw forbiddenPath(requested);
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch (err) {
    if (errno(err) === 'ENOENT') throw new FileServiceError(404, 'the config root does not exist yet (no sync has written it)');
    throw err;
  }
  const abs = rel === '' ? realRoot : path.join(realRoot, ...rel.split('/'));
  let real: string;
  try {
    real = await realpath(abs);
  } catch (err) {
    const code = errno(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      await checkDanglingLinks(requested, realRoot, rel);
      throw notFound(requested);
    }
    if (code === 'ELOOP') throw badPath(requested, 'too many levels of symbolic links');
    if (code === 'ENAMETOOLONG') throw badPath(requested, 'a name on the path is too long');
    if (code === 'EACCES') throw new FileServiceError(403, `path ${quoteInput(requested)} refused: permission denied`);
    throw err;
  }
  const realRel = inside(realRoot, real);
  if (realRel === null) throw badPath(requested, 'it resolves outside the config root (symbolic link)');
  if (isRestrictedPath(realRel)) throw forbiddenPath(requested);
  return { rel, real, realRel, realRoot };
}
