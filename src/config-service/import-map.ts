/**
 * Traefik routers → project specs, for `import`. A router maps when its rule is
 * ``Host(`h`)`` or ``Host(`h`) && PathPrefix(`/p`)`` (h may be a wildcard host: ``Host(`*.example.com`)``
 * of Traefik 3.7, or the one-label ``HostRegexp`` traefik-sync renders for it, render/hosts.ts), its
 * service is a load balancer with one
 * server URL, and its middlewares are inline types the renderer supports (chains expanded) or
 * references to other providers; a router that only redirects its host to another becomes a domain
 * redirect (import-redirect.ts). Everything else is reported with the reason. Projects: one per
 * source file (name from its path), or all in one with `project`.
 */
import { domainToASCII } from 'node:url';
import type { ImportNote, SourceTree, Sourced } from './import-read.js';
import { resolveMiddlewares, type MappedService } from './import-objects.js';
import { resolveRouteService } from './import-traffic.js';
import { mapL4 } from './import-l4.js';
import { importedRedirect } from './import-redirect.js';
import { importTlsOptions, importTransport } from './import-tls.js';
import { rulePart } from './import-rule.js';
import { API_VERSION } from './spec.js';
import type { PathMatch } from '../model.js';
import { routeIdentity } from './fields-routing.js';

type Obj = Record<string, unknown>;

/** One project to import: its spec (as a spec file would hold it) and where each row came from. */
export interface ImportedProject {
  readonly name: string;
  readonly spec: {
    apiVersion: string;
    name: string;
    services: Obj[];
    middlewares?: Array<Obj & { name: string }>;
    domains: Array<Obj & { routes: Obj[] }>;
    /** TCP and UDP routes (import-l4.ts). */
    tcp?: Obj[];
    udp?: Obj[];
  };
  /** Spec path (`domains[0].routes[1]`, `services[0]`, `domains[0]`) → source (`file: http.routers.x`). */
  readonly sources: Map<string, string[]>;
}

/** Options of {@link mapTree}. */
export interface MapOptions {
  /** Prepended to every project name. */
  readonly prefix?: string;
  /** Put everything in this one project. */
  readonly project?: string;
  /** The imported directory (relative CA and certificate files of transports and TLS options are read from it). */
  readonly dir?: string;
}

/** A project or service name from free text: lower case, `[a-z0-9-]`, at most 63. */
export function sanitizeName(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/\.(ya?ml)$/, '')
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 63)
    .replace(/-$/, '');
  return s || 'imported';
}

const QUOTED = String.raw`(?:\x60([^\x60]*)\x60|"([^"]*)")`;
const HOST = new RegExp(String.raw`^Host\(\s*${QUOTED}\s*\)$`);
/** The one-label wildcard HostRegexp render/hosts.ts writes: ``HostRegexp(`^[a-z0-9-]+\.example\.com$`)``. */
const WILDCARD_REGEXP = new RegExp(String.raw`^HostRegexp\(\s*(?:\x60\^\[a-z0-9-\]\+((?:\\\.[a-z0-9-]+)+)\$\x60)\s*\)$`);

/** The host of a `Host` matcher, or the wildcard host of traefik-sync's one-label `HostRegexp`. */
function hostOf(matcher: string): string | undefined {
  const h = HOST.exec(matcher);
  if (h) return h[1] ?? h[2];
  const w = WILDCARD_REGEXP.exec(matcher);
  return w ? `*${w[1]!.replaceAll('\\.', '.')}` : undefined;
}

/** Split `text` at top-level occurrences of `sep` (outside quotes and parentheses). */
function splitTop(text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      continue;
    }
    if (ch === '`' || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0 && text.startsWith(sep, i)) {
      parts.push(text.slice(from, i));
      from = i + sep.length;
      i += sep.length - 1;
    }
  }
  parts.push(text.slice(from));
  return parts;
}

/** Without parentheses that wrap the whole expression. */
function unwrap(text: string): string {
  let t = text.trim();
  while (t.startsWith('(') && t.endsWith(')') && balanced(t.slice(1, -1))) t = t.slice(1, -1).trim();
  return t;
}

function balanced(text: string): boolean {
  let depth = 0;
  let quote: string | null = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
      continue;
    }
    if (ch === '`' || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return false;
  }
  return depth === 0 && quote === null;
}

/**
 * `Host`, or `Host && PathPrefix` (either order, optional parentheses; a wildcard host as in the
 * module comment); null for any other rule.
 */
export function parseRule(rule: string): ParsedRule | null {
  const top = unwrap(rule);
  if (splitTop(top, '||').length > 1) return null;
  const parts = splitTop(top, '&&').map(unwrap);
  let host: string | undefined;
  let path: string | undefined;
  let match: PathMatch = 'prefix';
  const headers: Record<string, string> = {};
  let methods: string[] | undefined;
  for (const p of parts) {
    const h = hostOf(p);
    if (h !== undefined && host === undefined) {
      host = h;
      continue;
    }
    // Path, PathRegexp, Header and Method too (import-rule.ts), each at most once (headers: once per name).
    const x = rulePart(p, splitTop(p, '||').map(unwrap));
    if (x?.kind === 'path' && path === undefined) [path, match] = [x.path, x.match];
    else if (x?.kind === 'header' && headers[x.name] === undefined) headers[x.name] = x.value;
    else if (x?.kind === 'methods' && methods === undefined) methods = x.methods;
    else return null;
  }
  if (host === undefined) return null;
  return {
    host,
    path: path ?? '/',
    ...(match !== 'prefix' ? { match } : {}),
    ...(Object.keys(headers).length ? { headers } : {}),
    ...(methods ? { methods } : {}),
  };
}

/** A router's rule as a route: host, path and what else it matches (absent: a plain prefix). */
export interface ParsedRule {
  readonly host: string;
  readonly path: string;
  readonly match?: PathMatch;
  readonly headers?: Record<string, string>;
  readonly methods?: string[];
}

function splitDomain(host: string): { domain: string; subdomain?: string } {
  // A wildcard stays whole: `*.example.com` is the domain (docs/spec-format.md).
  if (host.startsWith('*.')) return { domain: host };
  const labels = host.split('.');
  return labels.length <= 2 ? { domain: host } : { domain: labels.slice(-2).join('.'), subdomain: labels.slice(0, -2).join('.') };
}

interface Builder {
  project: ImportedProject;
  domains: Map<string, Obj & { routes: Obj[] }>;
  services: Map<string, Obj>;
}

/** Map the routers of `tree` to projects; notes for everything that did not map as it was. */
export function mapTree(tree: SourceTree, options: MapOptions = {}): { projects: ImportedProject[]; notes: ImportNote[] } {
  const notes: ImportNote[] = [];
  const note = (file: string, item: string, status: ImportNote['status'], reason: string) => notes.push({ file, item, status, reason });
  const builders = new Map<string, Builder>();
  const usedServices = new Set<string>();
  const usedMiddlewares = new Set<string>();
  const usedTls = new Set<string>();
  const tlsHosts = new Set<string>();
  for (const r of tree.routers.values()) {
    const parsed = typeof r.value.rule === 'string' ? parseRule(r.value.rule) : null;
    if (parsed && r.value.tls !== undefined && r.value.tls !== null) tlsHosts.add(parsed.host.toLowerCase());
  }

  const builderFor = (file: string): Builder => {
    const name = options.project ?? sanitizeName(`${options.prefix ?? ''}${file.replace(/\//g, '-')}`);
    const b: Builder = builders.get(name) ?? {
      project: { name, spec: { apiVersion: API_VERSION, name, services: [], domains: [] }, sources: new Map() },
      domains: new Map(),
      services: new Map(),
    };
    builders.set(name, b);
    return b;
  };

  for (const r of tree.routers.values()) {
    const item = `http.routers.${r.name}`;
    const skip = (reason: string) => note(r.file, item, 'skipped', reason);
    const adjust = (reason: string) => note(r.file, item, 'adjusted', reason);
    const rule = r.value.rule;
    const parsed = typeof rule === 'string' ? parseRule(rule) : null;
    if (!parsed) {
      skip(
        `rule ${JSON.stringify(rule)} is not Host(\`…\`) with at most one PathPrefix, Path or PathRegexp, Header and Method matchers (HostRegexp, Query, ||, ! … cannot be mapped)`,
      );
      continue;
    }
    let host = parsed.host;
    if (/[^\x20-\x7e]/.test(host)) {
      const ascii = domainToASCII(host.toLowerCase());
      if (!ascii) {
        skip(`host ${JSON.stringify(host)} is not a valid domain`);
        continue;
      }
      adjust(`host ${JSON.stringify(host)} stored in punycode as ${JSON.stringify(ascii)}`);
      host = ascii;
    } else if (host !== host.toLowerCase()) {
      adjust(`host ${JSON.stringify(host)} stored in lower case`);
      host = host.toLowerCase();
    }
    const mws = resolveMiddlewares(r.value.middlewares, tree);
    if ('error' in mws) {
      skip(mws.error);
      continue;
    }
    const tls = r.value.tls;
    const ssl = tls !== undefined && tls !== null;
    if (!ssl && tlsHosts.has(host) && mws.chain.length > 0 && mws.chain.every((m) => isHttpsRedirect(m))) {
      skip('http→https redirect router: traefik-sync generates this redirect for every ssl domain');
      mws.used.forEach((m) => usedMiddlewares.add(m));
      continue;
    }
    const resolver =
      ssl && typeof tls === 'object' && typeof (tls as Obj).certResolver === 'string' ? String((tls as Obj).certResolver) : null;
    const redirect =
      parsed.path === '/' && mws.chain.length === 1 && 'redirectRegex' in mws.chain[0]!
        ? importedRedirect(host, mws.chain[0]!.redirectRegex)
        : null;
    if (redirect) {
      const b = builderFor(r.file);
      const domain = b.domains.get(host);
      if (domain && (domain.routes.length || JSON.stringify(domain.redirect) !== JSON.stringify(redirect))) {
        skip(`host ${host} is already imported with routes or another redirect; a domain either redirects or has routes`);
        continue;
      }
      if (!domain) {
        const fresh = { ...splitDomain(host), ssl, ...(resolver ? { provider: resolver } : {}), redirect, routes: [] };
        b.domains.set(host, fresh);
        b.project.spec.domains.push(fresh);
      } else if (ssl && !domain.ssl) Object.assign(domain, { ssl, ...(resolver ? { provider: resolver } : {}) });
      const di = b.project.spec.domains.indexOf(b.domains.get(host)!);
      b.project.sources.set(`domains[${di}]`, [...(b.project.sources.get(`domains[${di}]`) ?? []), `${r.file}: ${item}`]);
      mws.used.forEach((m) => usedMiddlewares.add(m));
      adjust(`redirect of ${host} to ${redirect.to} imported as the domain's redirect (no service needed)`);
      continue;
    }
    const svc = resolveRouteService(r.value.service, tree);
    if ('error' in svc) {
      skip(svc.error);
      continue;
    }
    const tlsRef = ssl && typeof tls === 'object' ? (tls as Obj).options : undefined;
    const tlsOpts = tlsRef !== undefined ? importTlsOptions(tlsRef, tree, options.dir ?? '.') : null;
    if (tlsOpts && 'error' in tlsOpts) {
      skip(tlsOpts.error);
      continue;
    }
    const transport = svc.value.transportRef !== undefined ? importTransport(svc.value.transportRef, tree, options.dir ?? '.') : null;
    if (transport && 'error' in transport) {
      skip(transport.error);
      continue;
    }
    const b = builderFor(r.file);
    const sans = ssl ? certificateSans(tls, host) : null;
    let domain = b.domains.get(host);
    if (domain?.redirect) {
      skip(
        `host ${host} is already imported as a redirect to ${String((domain.redirect as Obj).to)}; a domain either redirects or has routes`,
      );
      continue;
    }
    if (domain) {
      if (JSON.stringify(domain.tlsOptions ?? null) !== JSON.stringify(tlsOpts?.value ?? null)) {
        skip(
          `host ${host} is already imported with other TLS options; traefik-sync has one TLS option per domain (Traefik would use its default options for the host)`,
        );
        continue;
      }
      if (domain.ssl !== ssl || (domain.provider ?? null) !== resolver || JSON.stringify(domain.sans ?? null) !== JSON.stringify(sans)) {
        skip(
          `host ${host} is already imported with ${domain.ssl ? `TLS${domain.provider ? ` (resolver ${String(domain.provider)})` : ''}` : 'plain HTTP'}; traefik-sync has one TLS setting per domain`,
        );
        continue;
      }
    } else {
      const fresh: Obj & { routes: Obj[] } = {
        ...splitDomain(host),
        ssl,
        ...(resolver ? { provider: resolver } : {}),
        ...(sans ? { sans } : {}),
        ...(tlsOpts ? { tlsOptions: tlsOpts.value } : {}),
        routes: [],
      };
      domain = fresh;
      b.domains.set(host, domain);
      b.project.spec.domains.push(domain);
    }
    const identity = (x: { path?: unknown; match?: unknown; headers?: unknown; methods?: unknown }) =>
      routeIdentity(String(x.path), {
        pathMatch: (x.match ?? 'prefix') as PathMatch,
        headers: (x.headers ?? null) as Record<string, string> | null,
        methods: (x.methods ?? null) as string[] | null,
      });
    if (domain.routes.some((x) => identity(x) === identity(parsed))) {
      skip(`another router already maps ${host}${parsed.path} with the same matchers`);
      continue;
    }
    const serviceName = addService(b, svc.value);
    for (const page of mws.pages) {
      const pagesService = addService(b, page.service);
      usedServices.add(page.service.traefikName);
      const list = (b.project.spec.middlewares ??= []);
      if (!list.some((m) => m.name === page.name))
        list.push({ name: page.name, errors: { ...page.options, service: pagesService, port: page.service.port } });
    }
    const route: Obj = {
      path: parsed.path,
      ...(parsed.match ? { match: parsed.match } : {}),
      ...(parsed.headers ? { headers: parsed.headers } : {}),
      ...(parsed.methods ? { methods: parsed.methods } : {}),
      service: serviceName,
      targetPort: svc.value.port,
      ...(svc.value.url ? { targetUrl: svc.value.url } : {}),
      ...(mws.chain.length ? { middleware: mws.chain } : {}),
      ...(svc.value.healthCheck ? { healthCheck: svc.value.healthCheck } : {}),
      ...(svc.value.servers ? { servers: svc.value.servers } : {}),
      ...(svc.value.sticky ? { sticky: svc.value.sticky } : {}),
      ...(svc.value.passHostHeader ? {} : { passHostHeader: false }),
      ...(transport ? { transport: transport.value } : {}),
      ...(svc.value.split
        ? {
            split: svc.value.split.map((x) => ({
              service: addService(b, x.service),
              port: x.service.port,
              ...(x.weight !== undefined ? { weight: x.weight } : {}),
            })),
          }
        : {}),
      ...(svc.value.fallback ? { failover: { service: addService(b, svc.value.fallback), port: svc.value.fallback.port } } : {}),
    };
    domain.routes.push(route);
    if (svc.value.transportRef) usedTls.add(`http.serversTransports.${svc.value.transportRef.replace(/@file$/, '')}`);
    if (typeof tlsRef === 'string') usedTls.add(`tls.options.${tlsRef.replace(/@file$/, '')}`);
    const di = b.project.spec.domains.indexOf(domain);
    const source = `${r.file}: ${item}`;
    b.project.sources.set(`domains[${di}].routes[${domain.routes.length - 1}]`, [source]);
    b.project.sources.set(`domains[${di}]`, [...(b.project.sources.get(`domains[${di}]`) ?? []), source]);
    usedServices.add(svc.value.traefikName);
    if (svc.value.split || svc.value.fallback) usedServices.add(String(r.value.service).replace(/@file$/, ''));
    for (const x of [...(svc.value.split ?? []).map((y) => y.service), ...(svc.value.fallback ? [svc.value.fallback] : [])])
      usedServices.add(x.traefikName);
    mws.used.forEach((m) => usedMiddlewares.add(m));
    if (transport?.value.insecureSkipVerify === true)
      adjust(`serversTransport: insecureSkipVerify kept: the upstream's certificate is not verified`);
    for (const reason of [
      ...svc.value.notes,
      ...mws.notes,
      ...(transport?.notes ?? []),
      ...(tlsOpts?.notes ?? []),
      ...routerNotes(r, ssl, host),
    ])
      adjust(reason);
  }
  mapL4(tree, (file) => builderFor(file).project, note, sanitizeName);
  for (const s of tree.services.values())
    if (!usedServices.has(s.name)) note(s.file, `http.services.${s.name}`, 'skipped', 'not used by any imported router');
  for (const m of tree.middlewares.values())
    if (!usedMiddlewares.has(m.name)) note(m.file, `http.middlewares.${m.name}`, 'skipped', 'not used by any imported router');
  for (const [kind, map] of [
    ['http.serversTransports', tree.transports],
    ['tls.options', tree.tlsOptions],
  ] as const)
    for (const o of map?.values() ?? [])
      if (!usedTls.has(`${kind}.${o.name}`)) note(o.file, `${kind}.${o.name}`, 'skipped', 'not used by any imported router');
  return { projects: [...builders.values()].map((b) => b.project), notes };
}

function isHttpsRedirect(m: Obj): boolean {
  const rs = m.redirectScheme as Obj | undefined;
  return !!rs && rs.scheme === 'https';
}

function addService(b: Builder, s: MappedService): string {
  let name = sanitizeName(s.traefikName);
  for (let n = 2; b.services.has(name) && b.services.get(name)!.traefik !== s.traefikName; n++)
    name = `${sanitizeName(s.traefikName).slice(0, 59)}-${n}`;
  if (!b.services.has(name)) {
    const row = { name, ...(s.host && s.host !== name ? { host: s.host } : {}) };
    b.services.set(name, { ...row, traefik: s.traefikName });
    b.project.spec.services.push(row);
    b.project.sources.set(`services[${b.project.spec.services.length - 1}]`, [`http.services.${s.traefikName}`]);
  }
  return name;
}

/**
 * The SANs of `tls.domains` when it is what traefik-sync renders for a domain: one entry whose
 * `main` is the router's host; null when there are none (or the entry is something else).
 */
function certificateSans(tls: unknown, host: string): string[] | null {
  const domains = tls && typeof tls === 'object' ? (tls as Obj).domains : undefined;
  if (!Array.isArray(domains) || domains.length !== 1) return null;
  const d = domains[0] as Obj | null;
  if (!d || typeof d !== 'object' || String(d.main).toLowerCase() !== host || !Array.isArray(d.sans) || d.sans.length === 0) return null;
  return d.sans.map((x) => String(x).toLowerCase());
}

function routerNotes(r: Sourced<Obj>, ssl: boolean, host: string): string[] {
  const out: string[] = [];
  const v = r.value;
  const eps = Array.isArray(v.entryPoints) ? v.entryPoints.map(String) : [];
  const want = ssl ? 'websecure' : 'web';
  if (eps.length && !(eps.length === 1 && eps[0] === want))
    out.push(
      `entryPoints ${JSON.stringify(eps)} become ${JSON.stringify([want])}${ssl ? ' (plus the generated http→https redirect on web)' : ''}`,
    );
  if (v.priority !== undefined)
    out.push(`priority ${JSON.stringify(v.priority)} not kept: traefik-sync orders routes by priority 1 and path length`);
  const tls = v.tls as Obj | null | undefined;
  if (tls && typeof tls === 'object')
    for (const k of Object.keys(tls)) {
      if (k === 'certResolver' || k === 'options') continue;
      const kept =
        k === 'domains' &&
        Array.isArray(tls.domains) &&
        tls.domains.length === 1 &&
        String((tls.domains[0] as Obj | null)?.main).toLowerCase() === host;
      if (!kept)
        out.push(
          `tls.${k} ignored (${k === 'domains' ? "only one entry whose main is the router's host is kept, as sans" : 'not supported'})`,
        );
    }
  for (const k of Object.keys(v))
    if (!['rule', 'service', 'middlewares', 'entryPoints', 'tls', 'priority'].includes(k)) out.push(`${k} ignored (not supported)`);
  return out;
}
