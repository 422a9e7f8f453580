/**
 * Reading Traefik's view of projects and comparing it with what was written (views.ts), and
 * reading the objects it reports in error. Ways to read, by how many projects are asked:
 *
 * - a few (at most {@link FEW}) just written: each object written, by name (a map lookup in
 *   Traefik; its lists filter all objects, 70,000 routers at 10,000 projects, for every request).
 *   Traefik applies the whole directory at once, so seeing the new objects means it dropped the
 *   old ones too — except when a write only removed objects: then, as for projects whose
 *   written objects were not kept, per kind `search=<project>_` (the answer holds that project's
 *   objects, plus any other whose name or rule contains the text, dropped here);
 * - more: each kind's whole list in one streamed request (3 requests however many projects;
 *   at 10,000 projects about 60 MB read one object at a time, see README "Traefik in the loop").
 */
import { mapLimit } from '../util.js';
import { KINDS, type ApiObject, type Kind, type TraefikApi, type Overview } from './client.js';
import { projectOfName, type LiveState, type ObjectError, type ProjectLive } from './state.js';
import { configOf, Digest, uncovered, viewOf } from './views.js';

/** Projects compared by per-project searches; more are compared from the whole lists. */
export const FEW = 8;

/** Traefik's objects of one project: digests per kind, and the objects when the leaf-by-leaf check needs them. */
interface Theirs {
  readonly digests: Record<Kind, Digest>;
  readonly objects: Record<Kind, Map<string, ApiObject>> | null;
}

const short = (fullName: string) => fullName.slice(0, -'@file'.length);

function theirsFor(p: ProjectLive): Theirs {
  return {
    digests: { routers: new Digest(), services: new Digest(), middlewares: new Digest() },
    objects: p.full === null ? null : { routers: new Map(), services: new Map(), middlewares: new Map() },
  };
}

function take(t: Theirs, kind: Kind, o: ApiObject): void {
  t.digests[kind].add(kind, short(o.name), o);
  t.objects?.[kind].set(short(o.name), o);
}

/** Read Traefik's objects of `projects` (the way depends on how many). */
export async function readProjects(api: TraefikApi, state: LiveState, projects: readonly ProjectLive[]): Promise<Map<string, Theirs>> {
  const out = new Map(projects.map((p) => [p.id, theirsFor(p)]));
  if (projects.length <= FEW) {
    for (const p of projects) {
      const t = out.get(p.id)!;
      if (p.full !== null && !p.pending?.shrank) {
        // Each object written, by name: Traefik looks each up (its lists filter every object).
        const objects = JSON.parse(p.full) as Record<Kind, Array<[string, unknown]>>;
        const wanted = KINDS.flatMap((kind) => objects[kind].map(([name]) => [kind, name] as const));
        await mapLimit(wanted, 4, async ([kind, name]) => {
          const o = await api.get(kind, `${name}@file`);
          if (o) take(t, kind, o);
        });
        continue;
      }
      const prefix = `${p.name}_`;
      for (const kind of KINDS) {
        for (const o of await api.list(kind, { search: prefix })) {
          if (o.name.startsWith(prefix) && o.name.endsWith('@file')) take(t, kind, o);
        }
      }
    }
    return out;
  }
  for (const kind of KINDS) {
    await api.stream(kind, (o) => {
      const name = projectOfName(o.name);
      const id = name === null ? undefined : state.idOf(name);
      const t = id === undefined ? undefined : out.get(id);
      if (t) take(t, kind, o);
    });
  }
  return out;
}

const SINGULAR: Readonly<Record<Kind, ObjectError['kind']>> = { routers: 'router', services: 'service', middlewares: 'middleware' };

/** The first difference between what was written for `p` and Traefik's objects, or null when Traefik serves it. */
export function difference(p: ProjectLive, theirs: Theirs): string | null {
  const objects = p.full === null ? null : (JSON.parse(p.full) as Record<Kind, Array<[string, Record<string, unknown>]>>);
  for (const kind of KINDS) {
    const got = theirs.digests[kind];
    if (got.toString() === p.exp.digests[kind]) continue;
    const want = p.exp.counts[kind];
    if (got.count < want) return `Traefik serves ${got.count} of the ${want} ${kind} written`;
    if (got.count > want) return `Traefik serves ${got.count - want} ${kind} more than written (an older version)`;
    if (objects && theirs.objects) {
      for (const [name, ours] of objects[kind]) {
        const t = theirs.objects[kind].get(name);
        if (!t) return `${SINGULAR[kind]} ${name}@file is not served`;
        if (JSON.stringify(viewOf(kind, t)) !== JSON.stringify(viewOf(kind, ours)))
          return `${SINGULAR[kind]} ${name}@file differs from what was written`;
      }
    }
    return `the ${kind} Traefik serves differ from what was written`;
  }
  if (!objects || !theirs.objects) return null;
  // Middleware options and health checks, leaf by leaf (the views do not hold them).
  for (const kind of ['services', 'middlewares'] as const) {
    for (const [name, ours] of objects[kind]) {
      const t = theirs.objects[kind].get(name);
      if (!t) return `${SINGULAR[kind]} ${name}@file is not served`;
      const at = uncovered(ours, configOf(t));
      if (at !== null) return `${SINGULAR[kind]} ${name}@file: Traefik has another ${at}`;
    }
  }
  return null;
}

/**
 * Every object of the file provider that Traefik reports disabled or in warning, with its
 * messages. Asks only for the kinds and statuses the overview counts (none when all is well).
 */
export async function fileErrors(api: TraefikApi, overview: Overview): Promise<ObjectError[]> {
  const out: ObjectError[] = [];
  for (const kind of KINDS) {
    const counts = overview.http[kind];
    for (const [status, n] of [
      ['disabled', counts?.errors ?? 0],
      ['warning', counts?.warnings ?? 0],
    ] as const) {
      if (n === 0) continue;
      for (const o of await api.list(kind, { status, search: '@file' })) {
        if (!o.name.endsWith('@file')) continue;
        out.push({ kind: SINGULAR[kind], name: o.name, status: o.status ?? status, messages: [...(o.error ?? [])] });
      }
    }
  }
  return out;
}
