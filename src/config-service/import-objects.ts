/**
 * Resolving what a Traefik router refers to, for `import`: its service (a load balancer with one
 * server URL) and its middlewares (inline types the renderer supports, `chain` expanded,
 * `ipWhiteList` renamed, other providers kept as references). Failures say why.
 */
import { HEALTH_CHECK_KEYS, MIDDLEWARE_TYPES, REF_PATTERN } from '../render/middleware.js';
import { hostnameProblem } from './fields.js';
import type { SourceTree } from './import-read.js';
import type { Sticky, UpstreamServer } from '../model.js';

type Obj = Record<string, unknown>;

/** A Traefik service as traefik-sync stores it. */
export interface MappedService {
  readonly traefikName: string;
  /** Upstream host for `http://host:port`; null when the URL is kept whole. */
  readonly host: string | null;
  readonly port: number;
  /** The server URL when it is not plain `http://host[:port]`. */
  readonly url: string | null;
  /** Several servers (URLs kept whole, with their weights); null for one server. */
  readonly servers: UpstreamServer[] | null;
  readonly sticky: Sticky | null;
  readonly passHostHeader: boolean;
  readonly healthCheck: Obj | null;
  /** The load balancer's `serversTransport` (a name), mapped by import-tls.ts. */
  readonly transportRef?: string;
  readonly notes: string[];
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function localName(ref: string): string | null {
  if (!ref.includes('@')) return ref;
  return ref.endsWith('@file') ? ref.slice(0, -'@file'.length) : null;
}

/** The service a router names, mapped; or why it cannot be. */
export function resolveService(ref: unknown, tree: SourceTree): { value: MappedService } | { error: string } {
  if (typeof ref !== 'string' || !ref) return { error: 'the router names no service' };
  const name = localName(ref);
  if (name === null)
    return { error: `service ${JSON.stringify(ref)} belongs to another provider; only file-provider services can be imported` };
  const s = tree.services.get(name);
  if (!s) return { error: `service ${JSON.stringify(name)} is not defined in the imported files` };
  const types = Object.keys(s.value);
  if (types.length !== 1 || types[0] !== 'loadBalancer' || !isObj(s.value.loadBalancer)) {
    return {
      error: `service ${JSON.stringify(name)} is a ${types.join('/')} service; only loadBalancer services with one server can be imported`,
    };
  }
  return mapLoadBalancer(name, s.value.loadBalancer);
}

/** One server URL: parsed, with its scheme and port, and whether it is plain `http://host[:port]`. */
function parseServerUrl(name: string, raw: unknown): { raw: string; host: string | null; port: number } | { error: string } {
  if (typeof raw !== 'string') return { error: `service ${JSON.stringify(name)}: a server has no url` };
  let u: URL;
  try {
    u = new URL(raw.replace(/^h2c:/i, 'http:'));
  } catch {
    return { error: `service ${JSON.stringify(name)}: server URL ${JSON.stringify(raw)} does not parse` };
  }
  const scheme = raw.slice(0, raw.indexOf(':')).toLowerCase();
  if (!['http', 'https', 'h2c'].includes(scheme))
    return { error: `service ${JSON.stringify(name)}: server URL scheme ${JSON.stringify(scheme)} is not http, https or h2c` };
  const port = u.port ? Number(u.port) : scheme === 'https' ? 443 : 80;
  const plain =
    scheme === 'http' &&
    (u.pathname === '/' || u.pathname === '') &&
    !u.search &&
    !u.hash &&
    !u.username &&
    hostnameProblem(u.hostname) === null;
  return { raw, host: plain ? u.hostname : null, port };
}

const COOKIE_KEYS = ['name', 'secure', 'httpOnly', 'sameSite', 'maxAge'];

/** A `loadBalancer` service: one server (host and port, or a URL kept whole), or several with weights; sticky, passHostHeader, health check. */
export function mapLoadBalancer(name: string, lb: Obj): { value: MappedService } | { error: string } {
  const servers = Array.isArray(lb.servers) ? lb.servers : [];
  if (servers.length === 0 || !servers.every(isObj)) return { error: `service ${JSON.stringify(name)} has no servers` };
  const parsed: Array<{ raw: string; host: string | null; port: number }> = [];
  for (const s of servers as Obj[]) {
    const p = parseServerUrl(name, s.url);
    if ('error' in p) return p;
    parsed.push(p);
  }
  const notes: string[] = [];
  servers.forEach((s, i) => {
    for (const k of Object.keys(s as Obj))
      if (k !== 'url' && k !== 'weight') notes.push(`service ${name}: servers[${i}].${k} ignored (not supported)`);
  });
  const several = servers.length > 1 || (servers[0] as Obj).weight !== undefined;
  for (const k of Object.keys(lb)) {
    if (['servers', 'healthCheck', 'passHostHeader', 'sticky', 'serversTransport'].includes(k)) continue;
    notes.push(`service ${name}: loadBalancer.${k} ignored (not supported)`);
  }
  let sticky: Sticky | null = null;
  if (isObj(lb.sticky) && isObj(lb.sticky.cookie)) {
    const cookie = lb.sticky.cookie;
    sticky = { cookie: Object.fromEntries(Object.entries(cookie).filter(([k]) => COOKIE_KEYS.includes(k))) };
    for (const k of Object.keys(cookie))
      if (!COOKIE_KEYS.includes(k)) notes.push(`service ${name}: sticky.cookie.${k} ignored (not supported by Traefik 3.0)`);
  } else if (lb.sticky !== undefined) notes.push(`service ${name}: sticky ignored (only sticky.cookie is supported)`);
  let healthCheck: Obj | null = null;
  if (isObj(lb.healthCheck)) {
    healthCheck = {};
    for (const [k, v] of Object.entries(lb.healthCheck)) {
      if (HEALTH_CHECK_KEYS.has(k)) healthCheck[k] = v;
      else notes.push(`service ${name}: healthCheck.${k} ignored (not supported)`);
    }
  }
  const first = parsed[0]!;
  return {
    value: {
      traefikName: name,
      host: several ? null : first.host,
      port: first.port,
      url: several || first.host ? null : first.raw,
      servers: several
        ? (servers as Obj[]).map((s, i) => ({ url: parsed[i]!.raw, ...(typeof s.weight === 'number' ? { weight: s.weight } : {}) }))
        : null,
      sticky,
      passHostHeader: lb.passHostHeader !== false,
      healthCheck,
      ...(typeof lb.serversTransport === 'string' ? { transportRef: lb.serversTransport } : {}),
      notes,
    },
  };
}

/** A router's middlewares as an inline chain; or why they cannot be imported. */
export function resolveMiddlewares(
  list: unknown,
  tree: SourceTree,
): { chain: Obj[]; used: string[]; notes: string[]; pages: ErrorPages[] } | { error: string } {
  const pages: ErrorPages[] = [];
  const chain: Obj[] = [];
  const used: string[] = [];
  const notes: string[] = [];
  if (list === undefined || list === null) return { chain, used, notes, pages };
  if (!Array.isArray(list)) return { error: 'middlewares is not a list' };
  const expand = (refs: unknown[], depth: number, seen: Set<string>): string | null => {
    for (const ref of refs) {
      if (typeof ref !== 'string') return `middleware reference ${JSON.stringify(ref)} is not a name`;
      const name = localName(ref);
      if (name === null) {
        if (!REF_PATTERN.test(ref)) return `middleware reference ${JSON.stringify(ref)} is not name@provider`;
        chain.push({ ref });
        continue;
      }
      const m = tree.middlewares.get(name);
      if (!m) return `middleware ${JSON.stringify(name)} is not defined in the imported files`;
      used.push(name);
      const types = Object.keys(m.value);
      if (types.length !== 1) return `middleware ${JSON.stringify(name)} has ${types.length} types; Traefik allows exactly one`;
      const type = types[0]!;
      const options = m.value[type];
      if (type === 'chain') {
        if (depth > 8 || seen.has(name)) return `middleware chain ${JSON.stringify(name)} is nested too deeply or refers to itself`;
        const inner = isObj(options) && Array.isArray(options.middlewares) ? options.middlewares : null;
        if (!inner) return `middleware chain ${JSON.stringify(name)} has no middlewares list`;
        notes.push(`middleware chain ${name} expanded into the route's own chain`);
        const err = expand(inner, depth + 1, new Set([...seen, name]));
        if (err) return err;
        continue;
      }
      if (type === 'errors') {
        const page = errorPages(name, options, tree);
        if ('error' in page) return page.error;
        pages.push(page);
        chain.push({ use: page.name });
        continue;
      }
      const mapped = type === 'ipWhiteList' ? 'ipAllowList' : type;
      if (type === 'ipWhiteList') notes.push(`middleware ${name}: ipWhiteList (Traefik v2 name) stored as ipAllowList`);
      if (!MIDDLEWARE_TYPES.has(mapped))
        return `middleware ${JSON.stringify(name)} has type ${JSON.stringify(type)}, which traefik-sync does not support inline`;
      if (!isObj(options)) return `middleware ${JSON.stringify(name)}: options of ${type} are not a mapping`;
      chain.push({ [mapped]: options });
    }
    return null;
  };
  const err = expand(list, 0, new Set());
  return err ? { error: err } : { chain, used, notes, pages };
}

/** A Traefik `errors` middleware, as a shared middleware of the project (docs/spec-format.md "Shared middlewares"). */
export interface ErrorPages {
  /** The shared middleware's name (the Traefik name, sanitized). */
  readonly name: string;
  /** Its options, without the service (set once the service has its project name). */
  readonly options: Obj;
  /** The error pages' service: one plain `http://host:port` server. */
  readonly service: MappedService;
}

/** An `errors` middleware whose service is one plain `http://host:port` server; or why not. */
function errorPages(name: string, options: unknown, tree: SourceTree): ErrorPages | { error: string } {
  if (!isObj(options)) return { error: `middleware ${JSON.stringify(name)}: options of errors are not a mapping` };
  const svc = resolveService(options.service, tree);
  if ('error' in svc) return { error: `errors middleware ${JSON.stringify(name)}: ${svc.error}` };
  if (svc.value.host === null || svc.value.servers)
    return { error: `errors middleware ${JSON.stringify(name)}: its service must be one plain http://host:port server` };
  const { service: _service, ...rest } = options;
  const sanitized =
    name
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 63) || 'errors';
  return { name: sanitized, options: rest, service: svc.value };
}
