/**
 * Bounded directory listings: one page of a directory's entries plus nested levels breadth-first,
 * within a depth and a total entry budget. The requested directory resolves like every path of
 * the API (`resolveSafePath`: a link inside the root leads to its real directory); inside
 * the listing, symbolic links are described, never followed, so a listing never leaves the
 * config root. Key material is judged on each entry's real path (so `dynamic/alias/keys` with
 * `alias -> ../ssl` is `ssl/keys`) and listed by name only, as restricted.
 */
import type { Stats } from 'node:fs';
import { lstat, opendir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { TEMP_MARK } from '../fs/atomic.js';
import { HEADER_MARK } from '../render/serialize.js';
import { mapLimit } from '../util.js';
import { badPath } from './errors.js';
import { isRestrictedPath, type SafePath } from './paths.js';
import { readHead } from './read.js';
import type { DirectoryTree, TreeEntry } from './types.js';

/** Entries read from one directory at most; a larger directory is listed in part (truncated). */
export const SCAN_CAP = 20_000;
const RELOAD_MARKER = '.traefik-sync-reload';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Node = Mutable<TreeEntry>;

interface Listed {
  readonly name: string;
  readonly abs: string;
  readonly rel: string;
  /** The entry's path relative to the real root (what the key rules are judged on). */
  readonly realRel: string;
  readonly stat: Stats;
}

/** Bounds of one listing, already validated. */
export interface TreeBounds {
  readonly depth: number;
  readonly offset: number;
  readonly limit: number;
  readonly maxEntries: number;
}

function typeOf(st: Stats): TreeEntry['type'] {
  return st.isDirectory() ? 'directory' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
}

/** A directory's entries (temp files and the reload marker left out), directories first, then by name. */
async function listDir(abs: string, rel: string, realRel: string): Promise<{ entries: Listed[]; capped: boolean }> {
  const names: string[] = [];
  let capped = false;
  for await (const d of await opendir(abs, { bufferSize: 256 })) {
    if (d.name.includes(TEMP_MARK) || d.name === RELOAD_MARKER) continue;
    if (names.length >= SCAN_CAP) {
      capped = true;
      break;
    }
    names.push(d.name);
  }
  const stats = await mapLimit(names, 16, (name) => lstat(path.join(abs, name)).catch(() => null));
  const entries: Listed[] = [];
  names.forEach((name, i) => {
    const st = stats[i];
    if (st)
      entries.push({
        name,
        abs: path.join(abs, name),
        rel: rel ? `${rel}/${name}` : name,
        realRel: realRel ? `${realRel}/${name}` : name,
        stat: st,
      });
  });
  entries.sort((a, b) => Number(b.stat.isDirectory()) - Number(a.stat.isDirectory()) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { entries, capped };
}

/** Where a symbolic link leads, if it stays inside the root and away from key material. */
async function linkTarget(abs: string, realRoot: string): Promise<{ target: string | null; restricted: boolean }> {
  const real = await realpath(abs).catch(() => null);
  if (real === null) return { target: null, restricted: false };
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) return { target: null, restricted: true };
  const rel =
    real === realRoot
      ? ''
      : real
          .slice(realRoot.length + 1)
          .split(path.sep)
          .join('/');
  return isRestrictedPath(rel) ? { target: null, restricted: true } : { target: rel, restricted: false };
}

async function describe(e: Listed, realRoot: string): Promise<Node> {
  const node: Node = { name: e.name, path: e.rel, type: typeOf(e.stat), modifiedAt: e.stat.mtime.toISOString() };
  if (isRestrictedPath(e.rel) || isRestrictedPath(e.realRel)) node.restricted = true;
  if (node.type === 'file') {
    node.size = e.stat.size;
    if (!node.restricted) node.owned = (await readHead(e.abs, HEADER_MARK.length))?.startsWith(HEADER_MARK) ?? false;
  } else if (node.type === 'symlink') {
    const link = await linkTarget(e.abs, realRoot);
    node.target = link.target;
    if (link.restricted) node.restricted = true;
  }
  return node;
}

/**
 * List the directory at `sp`: entries `offset`..`offset + limit` of it, then nested directories
 * breadth-first up to `depth` levels while the `maxEntries` budget lasts. 400 if it is not a directory.
 *
 * `truncated` means "cut short: asking again (the entry's path, the next page) can show more":
 * paging, depth, the entry budget, the scan cap, or a directory that could not be read. The
 * answer's `truncated` is true exactly when it pages or some entry in it is truncated. Restricted
 * directories (key material) are never listed and are not truncated: asking shows nothing more
 * (403); `restricted` says why they have no children.
 */
export async function buildTree(sp: SafePath, bounds: TreeBounds): Promise<DirectoryTree> {
  const st = await stat(sp.real);
  if (!st.isDirectory()) throw badPath(sp.rel, 'not a directory; read it with /api/v1/files/content?path=');
  const top = await listDir(sp.real, sp.rel, sp.realRel);
  const page = top.entries.slice(bounds.offset, bounds.offset + bounds.limit);
  const children = await mapLimit(page, 16, (e) => describe(e, sp.realRoot));
  const nextOffset = bounds.offset + page.length < top.entries.length ? bounds.offset + page.length : null;
  let truncated = top.capped || nextOffset !== null || bounds.offset > 0;
  let budget = bounds.maxEntries - page.length;

  let level: Array<{ node: Node; abs: string; realRel: string }> = [];
  page.forEach((e, i) => {
    if (children[i]!.type === 'directory' && !children[i]!.restricted) level.push({ node: children[i]!, abs: e.abs, realRel: e.realRel });
  });
  for (let d = 1; d <= bounds.depth && level.length > 0; d++) {
    const next: typeof level = [];
    for (const { node, abs, realRel } of level) {
      if (budget <= 0) {
        node.truncated = true;
        truncated = true;
        continue;
      }
      const listing = await listDir(abs, node.path, realRel).catch(() => null);
      if (!listing) {
        node.truncated = true;
        truncated = true;
        continue;
      }
      const take = listing.entries.slice(0, budget);
      budget -= take.length;
      node.children = await mapLimit(take, 16, (e) => describe(e, sp.realRoot));
      node.total = listing.entries.length;
      node.truncated = take.length < listing.entries.length || listing.capped;
      if (node.truncated) truncated = true;
      take.forEach((e, i) => {
        const child = node.children![i]!;
        if (child.type === 'directory' && !child.restricted) next.push({ node: child, abs: e.abs, realRel: e.realRel });
      });
    }
    level = next;
  }
  // Directories below the depth: not listed; the client asks for them by path.
  for (const { node } of level) {
    node.truncated = true;
    truncated = true;
  }
  return {
    name: sp.rel === '' ? '' : path.posix.basename(sp.rel),
    path: sp.rel,
    type: 'directory',
    modifiedAt: st.mtime.toISOString(),
    children,
    total: top.entries.length,
    offset: bounds.offset,
    limit: bounds.limit,
    nextOffset,
    depth: bounds.depth,
    truncated,
  };
}
