/**
 * Routers Traefik serves for our hosts that traefik-sync did not write, and the files under
 * dynamic/ without our header (Traefik loads them too). Kept cheap at any number of projects:
 *
 * - unowned files are few: the passes report them (traefik_sync_unowned_files); each check
 *   `stat`s them, reads the routers they define (cached by size and mtime) and asks Traefik for
 *   each of those by name;
 * - other providers' routers: only when Traefik runs another provider (its overview lists the
 *   providers), from its router list sorted by provider, read from both ends until the file
 *   provider's routers begin (`sortBy=provider`; Traefik has no provider filter);
 * - a router's hosts are matched against the active domains in the database, one query.
 */
import { stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { sql, type Queryable } from '../db/connect.js';
import type { ApiObject, Overview, TraefikApi } from './client.js';
import { projectOfName, type Shadow } from './state.js';

/** Extensions Traefik's file provider loads (case-insensitive). */
const LOADED = /\.(ya?ml|toml)$/i;

/** Whether Traefik loads the file at `rel` (a path relative to the config root). */
export function loadedByTraefik(rel: string): boolean {
  return rel.startsWith('dynamic/') && LOADED.test(rel);
}

/** The files without our header under dynamic/, as the passes report them. */
export class UnownedFiles {
  #root: string[] = [];
  readonly #inProjects = new Map<string, string[]>();
  readonly #routers = new Map<string, { key: string; routers: Map<string, string> }>();

  /** A full pass: the unowned files outside project folders (and in folders of no project). */
  setOutside(paths: readonly string[]): void {
    this.#root = paths.filter(loadedByTraefik);
  }

  /** A pass of a project: the unowned files in its folder. */
  setProject(projectId: string, paths: readonly string[]): void {
    const files = paths.filter(loadedByTraefik);
    if (files.length) this.#inProjects.set(projectId, files);
    else this.#inProjects.delete(projectId);
  }

  /** Every unowned file known, sorted. */
  all(): string[] {
    return [...new Set([...this.#root, ...[...this.#inProjects.values()].flat()])].sort();
  }

  /** Drop the files that are gone (a removal of a file not ours triggers no pass). */
  async refresh(root: string): Promise<void> {
    const gone = new Set<string>();
    for (const rel of this.all()) if (!(await stat(path.join(root, rel)).catch(() => null))?.isFile()) gone.add(rel);
    if (!gone.size) return;
    this.#root = this.#root.filter((f) => !gone.has(f));
    for (const [id, files] of this.#inProjects)
      this.setProject(
        id,
        files.filter((f) => !gone.has(f)),
      );
    for (const f of gone) this.#routers.delete(f);
  }

  /** The routers a file defines (name → rule), read when it changed; empty when it cannot be read as YAML. */
  async routersOf(root: string, rel: string): Promise<Map<string, string>> {
    const abs = path.join(root, rel);
    const st = await stat(abs).catch(() => null);
    if (!st) return new Map();
    const key = `${st.size}:${st.mtimeMs}`;
    const cached = this.#routers.get(rel);
    if (cached?.key === key) return cached.routers;
    const routers = new Map<string, string>();
    if (/\.ya?ml$/i.test(rel) && st.size <= 4 << 20) {
      try {
        const doc = parse(await readFile(abs, 'utf8')) as { http?: { routers?: Record<string, { rule?: unknown }> } } | null;
        for (const [name, r] of Object.entries(doc?.http?.routers ?? {})) routers.set(name, String(r?.rule ?? ''));
      } catch {
        /* not YAML Traefik could read either; Traefik reports it */
      }
    }
    this.#routers.set(rel, { key, routers });
    return routers;
  }
}

/** Host names a rule matches literally: `Host(`a`)`, `Host("a")`, v2's `Host(`a`, `b`)`. */
export function hostsOf(rule: string): string[] {
  const out: string[] = [];
  for (const m of rule.matchAll(/\bHost\(([^)]*)\)/g)) {
    for (const h of m[1]!.matchAll(/[`"]([^`"]+)[`"]/g)) out.push(h[1]!.toLowerCase());
  }
  return out;
}

/** Whether Traefik runs a provider besides its own and the file provider. */
export function othersRun(overview: Overview): boolean {
  return overview.providers.some((p) => p.toLowerCase() !== 'file');
}

/** Routers of unowned files asked for by name in one check, at most. */
const UNOWNED_ROUTERS = 200;

/**
 * The routers of the unowned files that Traefik serves (asked for by name), and those named like
 * a router of one of our projects (`ours(project)`): Traefik keeps only one of two equal names.
 */
export async function unownedRouters(
  api: TraefikApi,
  files: UnownedFiles,
  root: string,
  ours: (project: string) => boolean,
): Promise<{ routers: ForeignRouter[]; collisions: Map<string, Shadow[]> }> {
  const routers: ForeignRouter[] = [];
  const collisions = new Map<string, Shadow[]>();
  let asked = 0;
  for (const rel of files.all()) {
    for (const [name, rule] of await files.routersOf(root, rel)) {
      if (asked++ >= UNOWNED_ROUTERS) break;
      const served = await api.get('routers', `${name}@file`);
      if (!served || served.status === 'disabled') continue;
      const project = projectOfName(`${name}@file`);
      if (project !== null && ours(project)) {
        // Same name as a router of ours: Traefik keeps one of the two.
        collisions.set(project, [...(collisions.get(project) ?? []), { router: `${name}@file`, rule, host: '', source: rel }]);
      } else {
        routers.push({ router: `${name}@file`, rule: String(served.rule ?? rule), source: rel });
      }
    }
  }
  return { routers, collisions };
}

/**
 * Enabled routers of providers other than `file` and `internal`: the router list sorted by
 * provider, read from each end until the file provider's routers begin.
 */
export async function foreignRouters(api: TraefikApi): Promise<ForeignRouter[]> {
  const out: ApiObject[] = [];
  const provider = (o: ApiObject) => o.provider ?? o.name.slice(o.name.lastIndexOf('@') + 1);
  for (const direction of ['asc', 'desc'] as const) {
    const before = (o: ApiObject) => (direction === 'asc' ? provider(o) < 'file' : provider(o) > 'file');
    const page = await api.list('routers', { sortBy: 'provider', direction }, 200, (batch) => !batch.every(before));
    out.push(...page.filter((o) => before(o) && provider(o) !== 'internal'));
  }
  return out
    .filter((o) => o.status !== 'disabled')
    .map((o) => ({ router: o.name, rule: String(o.rule ?? ''), source: `provider ${provider(o)}` }));
}

/** Project names of the active domains among `hosts`. */
export async function ownersOf(db: Queryable, hosts: readonly string[]): Promise<Map<string, string>> {
  if (!hosts.length) return new Map();
  const rows = await db.query(sql`
    SELECT d.full_domain, p.name FROM domain_configs d JOIN projects p ON p.id = d.project_id
     WHERE d.is_active AND d.full_domain = ANY(${[...new Set(hosts)]}::text[])`);
  return new Map(rows.map((r) => [r.full_domain as string, r.name as string]));
}

/** A router of someone else, with where it comes from. */
export interface ForeignRouter {
  readonly router: string;
  readonly rule: string;
  readonly source: string;
}

/** The shadows those routers cast, by project name: each router matching a host of a project's. */
export async function shadowsOf(db: Queryable, routers: readonly ForeignRouter[]): Promise<Map<string, Shadow[]>> {
  const owners = await ownersOf(
    db,
    routers.flatMap((r) => hostsOf(r.rule)),
  );
  const out = new Map<string, Shadow[]>();
  for (const r of routers) {
    for (const host of new Set(hostsOf(r.rule))) {
      const project = owners.get(host);
      if (project) out.set(project, [...(out.get(project) ?? []), { router: r.router, rule: r.rule, host, source: r.source }]);
    }
  }
  return out;
}
