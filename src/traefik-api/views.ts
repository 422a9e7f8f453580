/**
 * How what a pass wrote is compared with what Traefik's API reports, on the fields Traefik is
 * known to report faithfully (test/traefik/live-fidelity.test.ts proves it, for every kind of
 * middleware and health check the validator accepts, against Traefik 3.0 and 3.7):
 *
 * - A **view** of each object, the same function on both sides: a router's rule, service,
 *   middlewares (qualified: Traefik adds `@file`), entry points, priority and TLS resolver; a
 *   service's server URLs, whether it passes the Host header and its health check path; a
 *   middleware's type. Per project and kind, the views of its objects are hashed into a digest.
 * - **Covers**: what we wrote is contained in Traefik's object, leaf by leaf. Traefik adds
 *   defaults (circuitBreaker.checkPeriod, healthCheck.mode, …), omits zero values (false, 0, "",
 *   empty lists) and writes durations its own way ("1m" → "1m0s", 100 → "1m40s"): a zero value of
 *   ours may be absent, and durations compare in nanoseconds. Used for middleware options and
 *   health checks of the projects a pass changed.
 */
import { createHash } from 'node:crypto';
import { goDurationNs } from '../render/go-syntax.js';
import type { Kind } from './client.js';

type Obj = Readonly<Record<string, unknown>>;

/** Keys of an API object that are Traefik's bookkeeping, not configuration. */
const BOOKKEEPING = new Set(['name', 'provider', 'status', 'error', 'err', 'usedBy', 'using', 'type', 'serverStatus', 'priorityStr']);

/** The configuration part of an API object (a middleware's `{type: options}`, a service's `{loadBalancer}`). */
export function configOf(o: Obj): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!BOOKKEEPING.has(k)) out[k] = v;
  return out;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `m` qualified as Traefik reports a router's middlewares: `@file` unless it names a provider. */
function qualified(m: unknown): string {
  const s = String(m);
  return s.includes('@') ? s : `${s}@file`;
}

/** The view of one object (see the module comment); `o` is a document's object or an API object. */
export function viewOf(kind: Kind, o: Obj): unknown {
  if (kind === 'routers') {
    const tls = isObj(o.tls) ? { certResolver: (o.tls.certResolver as string | undefined) ?? null } : null;
    return {
      entryPoints: o.entryPoints ?? [],
      middlewares: Array.isArray(o.middlewares) ? o.middlewares.map(qualified) : [],
      priority: o.priority ?? 0,
      rule: o.rule ?? '',
      service: o.service ?? '',
      tls,
    };
  }
  if (kind === 'services') {
    const lb = isObj(o.loadBalancer) ? o.loadBalancer : null;
    if (!lb) return { other: Object.keys(configOf(o)).sort() };
    const servers = Array.isArray(lb.servers) ? lb.servers.map((s) => (isObj(s) ? (s.url ?? null) : null)) : [];
    const hc = isObj(lb.healthCheck) ? (lb.healthCheck.path ?? '') : null;
    return { servers, passHostHeader: lb.passHostHeader !== false, healthCheck: hc };
  }
  return { type: Object.keys(configOf(o)).sort() };
}

/**
 * Digest of a set of objects of one kind, built one object at a time in any order (a streamed
 * list need not group a project's objects): a count and two sums of each object's hash. Equal on
 * both sides when the names and views match.
 */
export class Digest {
  #count = 0;
  #a = 0;
  #b = 0;

  /** Add one object (`name` without `@file`). */
  add(kind: Kind, name: string, o: Obj): void {
    const h = createHash('sha1')
      .update(`${name}\t${JSON.stringify(viewOf(kind, o))}`)
      .digest();
    this.#count++;
    this.#a = (this.#a + h.readUInt32LE(0)) >>> 0;
    this.#b = (this.#b + h.readUInt32LE(4)) >>> 0;
  }

  get count(): number {
    return this.#count;
  }

  /** The digest as text. */
  toString(): string {
    return `${this.#count}:${this.#a.toString(36)}:${this.#b.toString(36)}`;
  }
}

/** Digest of a whole set (see {@link Digest}). */
export function digestOf(kind: Kind, objects: Iterable<readonly [string, Obj]>): string {
  const d = new Digest();
  for (const [name, o] of objects) d.add(kind, name, o);
  return d.toString();
}

/** Traefik omits these from its JSON (`omitempty`): a zero value of ours may be absent there. */
function isZero(v: unknown): boolean {
  if (v === false || v === 0 || v === '' || v === null || v === undefined) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isObj(v)) return Object.values(v).every(isZero);
  return false;
}

/**
 * Whether Traefik's value `theirs` covers ours: every leaf we wrote is there with the same value
 * (durations in nanoseconds), zero values may be missing, and Traefik may add keys. Returns the
 * path of the first leaf that differs, or null when covered.
 */
export function uncovered(ours: unknown, theirs: unknown, path = ''): string | null {
  if (ours === theirs) return null;
  if (isZero(ours) && (theirs === undefined || isZero(theirs))) return null;
  if (Array.isArray(ours)) {
    if (!Array.isArray(theirs) || theirs.length !== ours.length) return path || '.';
    for (let i = 0; i < ours.length; i++) {
      const at = uncovered(ours[i], theirs[i], `${path}[${i}]`);
      if (at !== null) return at;
    }
    return null;
  }
  if (isObj(ours)) {
    if (!isObj(theirs)) return path || '.';
    for (const [k, v] of Object.entries(ours)) {
      const at = uncovered(v, theirs[k], path ? `${path}.${k}` : k);
      if (at !== null) return at;
    }
    return null;
  }
  // Durations: ours as written ("1m", 90, "1m30s"), Traefik's as Go prints them ("1m0s", "1m30s").
  if ((typeof ours === 'string' || typeof ours === 'number') && typeof theirs === 'string') {
    const a = goDurationNs(ours);
    if (a !== null && a === goDurationNs(theirs)) return null;
  }
  return path || '.';
}
