/**
 * Named middlewares shared by a project's routes (docs/spec-format.md "Shared middlewares"):
 * defined once per project, rendered once into its middleware.yml as `<project>_shared-<name>`,
 * and used by routes with `{use: name}`. Besides the inline types of middleware.ts they may be
 * `errors` (a status range → an error page served by a service of the same project, on a port)
 * and `chain` (other named middlewares of the project, in order, without cycles). Pure: problems
 * are messages (`middleware "sso": forwardAuth.address: …`), never thrown.
 */
import { quote } from '../errors.js';
import { DNS_LABEL, type ProjectState, type SharedMiddleware } from '../model.js';
import { parseChain } from './middleware.js';

/** At most this many names in a shared chain, and status ranges in an errors middleware. */
const MAX_LIST = 16;
/** An errors page query: a path with Traefik's `{status}` / `{url}` placeholders, safe characters only. */
const ERRORS_QUERY = /^\/(?:[!#-&(-[\]-_a-z|~]|\{status\}|\{url\})*$/;
const STATUS_RANGE = /^([1-5]\d\d)(?:-([1-5]\d\d))?$/;

/** The Traefik name of a project's shared middleware (and of an errors middleware's page service). */
export function sharedMiddlewareName(project: string, name: string): string {
  return `${project}_shared-${name}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What the project's shared middlewares render to. */
export interface RenderedShared {
  readonly middlewares: Record<string, Record<string, unknown>>;
  /** Error-page services of `errors` middlewares. */
  readonly services: Record<string, Record<string, unknown>>;
  readonly problems: string[];
}

function errorsProblems(o: Record<string, unknown>, state: ProjectState): string[] {
  const out: string[] = [];
  for (const k of Object.keys(o))
    if (!['status', 'service', 'port', 'query'].includes(k))
      out.push(`errors.${k}: unknown field (errors has status, service, port, query)`);
  const status = o.status;
  if (!Array.isArray(status) || status.length === 0 || status.length > MAX_LIST) {
    out.push(`errors.status: expected 1–${MAX_LIST} status codes or ranges ("404", "500-599"), got ${quote(status)}`);
  } else {
    status.forEach((s, i) => {
      const m = typeof s === 'string' ? STATUS_RANGE.exec(s) : null;
      if (!m || (m[2] !== undefined && Number(m[2]) < Number(m[1])))
        out.push(`errors.status[${i}]: expected a status code 100–599 or a range "500-599" (low first), got ${quote(s)}`);
    });
  }
  if (typeof o.service !== 'string' || !state.services.some((s) => s.name === o.service)) {
    out.push(
      `errors.service: expected the name of a service of this project (have: ${state.services.map((s) => s.name).join(', ') || 'none'}), got ${quote(o.service)}`,
    );
  }
  if (typeof o.port !== 'number' || !Number.isInteger(o.port) || o.port < 1 || o.port > 65535)
    out.push(`errors.port: expected the error page service's port 1–65535, got ${quote(o.port)}`);
  if (o.query !== undefined && (typeof o.query !== 'string' || o.query.length > 1024 || !ERRORS_QUERY.test(o.query)))
    out.push(`errors.query: expected a path like "/{status}.html" (safe characters, {status} and {url} only), got ${quote(o.query)}`);
  return out;
}

function chainProblems(o: Record<string, unknown>, self: string, names: ReadonlySet<string>): string[] {
  const list = o.middlewares;
  const out: string[] = Object.keys(o)
    .filter((k) => k !== 'middlewares')
    .map((k) => `chain.${k}: unknown field (chain has middlewares)`);
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_LIST)
    return [...out, `chain.middlewares: expected 1–${MAX_LIST} names of this project's middlewares, got ${quote(list)}`];
  list.forEach((n, i) => {
    if (typeof n !== 'string' || !names.has(n) || n === self)
      out.push(
        `chain.middlewares[${i}]: ${n === self ? 'a chain cannot contain itself' : `no middleware named ${quote(n)} in this project (have: ${[...names].join(', ') || 'none'})`}`,
      );
  });
  return out;
}

/** Names of chains that reach themselves through other chains. */
function cycles(list: readonly SharedMiddleware[]): Set<string> {
  const next = new Map<string, string[]>();
  for (const m of list) {
    const c = m.middleware.chain;
    if (isObject(c) && Array.isArray(c.middlewares))
      next.set(
        m.name,
        c.middlewares.filter((x): x is string => typeof x === 'string'),
      );
  }
  const inCycle = new Set<string>();
  for (const start of next.keys()) {
    const seen = new Set<string>();
    const walk = (n: string): boolean => {
      if (n === start && seen.size) return true;
      if (seen.has(n)) return false;
      seen.add(n);
      return (next.get(n) ?? []).some(walk);
    };
    if (walk(start)) inCycle.add(start);
  }
  return inCycle;
}

/** Render (and check) a project's shared middlewares. */
export function renderShared(state: ProjectState): RenderedShared {
  const out: RenderedShared = { middlewares: {}, services: {}, problems: [] };
  const list = state.middlewares ?? [];
  const names = new Set(list.map((m) => m.name));
  const looping = cycles(list);
  const seen = new Set<string>();
  for (const m of list) {
    const at = `middleware ${quote(m.name)}`;
    const problems: string[] = [];
    if (!DNS_LABEL.test(m.name)) problems.push(`${at}: name: expected a lower-case DNS label, got ${quote(m.name)}`);
    if (seen.has(m.name)) problems.push(`${at}: name: listed twice`);
    seen.add(m.name);
    const keys = isObject(m.middleware) ? Object.keys(m.middleware) : [];
    const type = keys[0];
    const options = type === undefined ? undefined : m.middleware[type];
    if (keys.length !== 1 || !isObject(options)) {
      problems.push(`${at}: expected exactly one middleware type with its options, like {forwardAuth: {...}}, got ${quote(m.middleware)}`);
    } else if (type === 'errors') {
      problems.push(...errorsProblems(options, state).map((p) => `${at}: ${p}`));
    } else if (type === 'chain') {
      problems.push(...chainProblems(options, m.name, names).map((p) => `${at}: ${p}`));
      if (looping.has(m.name)) problems.push(`${at}: chain.middlewares: the chain reaches itself through other chains (a cycle)`);
    } else {
      const parsed = parseChain([m.middleware], '');
      if (parsed.elements[0]?.kind === 'use' || parsed.elements[0]?.kind === 'ref')
        problems.push(`${at}: expected a middleware type with its options, got ${quote(type)}`);
      problems.push(...parsed.problems.map((p) => `${at}: ${p.replace(/^\[0\](?:: |\.)/, '')}`));
    }
    if (problems.length) {
      out.problems.push(...problems);
      continue;
    }
    const name = sharedMiddlewareName(state.name, m.name);
    const opts = options as Record<string, unknown>;
    if (type === 'errors') {
      const service = state.services.find((s) => s.name === opts.service)!;
      out.services[name] = {
        loadBalancer: { servers: [{ url: `http://${service.host ?? service.name}:${String(opts.port)}` }], passHostHeader: true },
      };
      out.middlewares[name] = {
        errors: { status: opts.status, service: name, ...(opts.query !== undefined ? { query: opts.query } : {}) },
      };
    } else if (type === 'chain') {
      out.middlewares[name] = {
        chain: { middlewares: (opts.middlewares as string[]).map((n) => sharedMiddlewareName(state.name, n)) },
      };
    } else {
      out.middlewares[name] = { [type!]: options };
    }
  }
  return out;
}

/** The problem with a route's `{use: name}` when the project has no such middleware, or null. */
export function useProblem(state: ProjectState, name: string, at: string): string | null {
  const names = (state.middlewares ?? []).map((m) => m.name);
  return names.includes(name)
    ? null
    : `${at}.use: no middleware named ${quote(name)} in this project's middlewares (have: ${names.join(', ') || 'none'})`;
}
