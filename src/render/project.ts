/**
 * A project's desired state → its files (docs/contract.md §2). Pure: no I/O, clock, env or randomness.
 * Problems (a row that cannot render or validate) are collected, never thrown: a project with
 * problems yields no files, so its last good files stay on disk.
 */
import { posix } from 'node:path';
import type { Domain, ProjectState, RenderedFile, Route, Service } from '../model.js';
import { quote } from '../errors.js';
import { renderL4 } from './l4.js';
import { domainEntryPoints, entryPointsProblems, routeEntryPoints } from './entry-points.js';
import { certificateBaseName, domainTls, hostMatcher, isWildcard, WILDCARD_OFFSET, wildcardProblem } from './hosts.js';
import { containsPrivateKey, redact, redactValues, secretValues } from '../redact.js';
import { checkHealthCheck, controlCharProblems, parseChain } from './middleware.js';
import { domainRedirectName, middlewareName, nameProblems, redirectMiddlewareName, redirectRouterName, routeName } from './names.js';
import { domainRedirectProblems, redirectChainProblems, redirectRegexOf } from './redirect.js';
import { renderShared, sharedMiddlewareName, useProblem } from './shared.js';
import { checksumOf, pemFile, yamlFile } from './serialize.js';
import { DEFAULT_STATIC_FACTS } from './static-facts.js';
import { targetProblems } from './targets.js';
import { matcherProblems, routeRuleOf, specificity } from './matchers.js';
import { routeServicesOf, trafficProblems } from './traffic.js';
import type { Documents, DynamicDocument, RenderedProject, RenderOptions } from './types.js';
import { upstreamProblems } from './upstream.js';
import { validateDynamic } from './validate.js';
import { insecureRoutes, routeTransportProblems, serversTransportOf, transportName, type PemOut } from './transport.js';
import { domainTlsProblems, tlsOptionName, tlsOptionOf } from './tls-options.js';

export type { Documents, DynamicDocument, RenderedProject, RenderOptions } from './types.js';

/** Relative paths of a project's files (docs/contract.md §2). */
export const layout = {
  projectDir: (project: string) => `dynamic/${project}`,
  domains: (project: string) => `dynamic/${project}/domains.yml`,
  middleware: (project: string) => `dynamic/${project}/middleware.yml`,
  /** TCP and UDP routes (render/l4.ts): written only when the project has some. */
  tcp: (project: string) => `dynamic/${project}/tcp.yml`,
  udp: (project: string) => `dynamic/${project}/udp.yml`,
  service: (project: string, service: string) => `dynamic/${project}/services/${service}.yml`,
  cert: (fullDomain: string) => `ssl/certs/${certificateBaseName(fullDomain)}.crt`,
  key: (fullDomain: string) => `ssl/keys/${certificateBaseName(fullDomain)}.key`,
  static: 'static/traefik.yml',
  marker: 'dynamic/.traefik-sync-reload',
} as const;

/** Multiplier that makes `priority` dominate and path length break ties (docs/contract.md §2). */
export const PRIORITY_SCALE = 10_000;

/**
 * Traefik router priority: `priority × 10000 + length(path_rule)`. A higher `priority` wins; at
 * equal priority an exact host beats a wildcard (whose routes sit {@link WILDCARD_OFFSET} lower),
 * and then the longer (more specific) path wins. Never 0 (0 means "length of the rule").
 */
export function routerPriority(
  route: Pick<Route, 'priority' | 'pathRule' | 'pathMatch' | 'headers' | 'methods'>,
  wildcard = false,
): number {
  // specificity: the path's length for a plain prefix; routes with matchers rank above (render/matchers.ts).
  return route.priority * PRIORITY_SCALE + specificity(route) - (wildcard ? WILDCARD_OFFSET : 0);
}

const SAFE_RULE_VALUE = /^[!#-&(-[\]-_a-z|~]+$/;

/**
 * The problem with a path rule that requests cannot reach as written, or null. Traefik ≥ 3.5
 * routes on the path as the client encoded it, decoding only unreserved characters; when the
 * path holds a character Go must re-encode (`<`, `>`, `^`, `|`), the reserved ones (`!`, `(`,
 * `*`, …) end up encoded and no longer match. A request path never holds a raw `?` or `#`, and
 * `%` is read differently by Traefik 3.0 and 3.5+. Traefik 3.7 also cleans the request path
 * (`//`, `/./`, `/../`), so a rule holding them never matches.
 */
export function pathRuleProblem(pathRule: string): string | null {
  const bad = /[?#%<>^|]/.exec(pathRule);
  if (bad) return `may not contain "${bad[0]}": requests cannot reach such a path in every Traefik version, got ${quote(pathRule)}`;
  if (/\/\/|\/\.\.?(\/|$)/.test(pathRule)) {
    return `may not contain "//", "/./" or "/../": Traefik cleans request paths, so no request matches it, got ${quote(pathRule)}`;
  }
  return null;
}

/**
 * The rule of a route: its host, plus its path prefix unless the path is `/`. The values must already
 * have passed {@link SAFE_RULE_VALUE} (renderProject checks them), so they cannot break out of their
 * backtick quoting.
 */
export function ruleOf(fullDomain: string, pathRule: string): string {
  const host = hostMatcher(fullDomain);
  return pathRule === '/' ? host : `${host} && PathPrefix(\`${pathRule}\`)`;
}

/** Render one project. */
export function renderProject(state: ProjectState, options: RenderOptions): RenderedProject {
  const p = state.name;
  const refused = [...nameProblems(state), ...targetProblems(state, options.configDir, options.allowedInternalTargets)];
  if (refused.length)
    return { projectId: state.id, projectName: p, version: state.version, files: [], documents: new Map(), problems: refused };
  const facts = options.static ?? DEFAULT_STATIC_FACTS;
  const owner = { id: state.id, name: state.name };
  const problems: string[] = [];
  const servicesById = new Map(state.services.map((s) => [s.id, s]));
  const servicesByName = new Map(state.services.map((s) => [s.name, s]));
  const perService = new Map<string, DynamicDocument>();
  const middlewares: Record<string, Record<string, unknown>> = {};
  const domainRouters: Record<string, Record<string, unknown>> = {};
  const certificates: Array<Record<string, unknown>> = [];
  const pem: RenderedFile[] = [];
  const pemOut = (f: PemOut) => pem.push(file(f.path, pemFile(owner, f.pem), f.configType, f.mode, state.id));
  const tlsOptions: Record<string, Record<string, unknown>> = {};
  let defaultCertificate: Record<string, unknown> | null = null;
  const activeDomains = state.domains.filter((d) => d.isActive);
  let needsRedirect = false;
  problems.push(...redirectChainProblems(activeDomains, new Map(activeDomains.map((d) => [d.fullDomain, d.redirect ?? null]))));

  for (const d of activeDomains) {
    const at = `domain ${quote(d.fullDomain)}`;
    const tls = domainTls(d, facts);
    if (d.sslEnabled && tls.problems.length) {
      problems.push(...tls.problems.map((m) => `${at}: ${m}`));
      continue;
    }
    const eps = domainEntryPoints(d);
    const epProblems = [
      ...entryPointsProblems(d.entryPoints, d.sslEnabled, facts).map((m) => `${at}: ${m}`),
      ...d.routes.flatMap((r) =>
        r.isActive
          ? entryPointsProblems(r.entryPoints, d.sslEnabled, facts).map((m) => `route ${quote(d.fullDomain + r.pathRule)}: ${m}`)
          : [],
      ),
    ];
    if (epProblems.length) {
      problems.push(...epProblems);
      continue;
    }
    const tlsRefused = domainTlsProblems(d, at);
    if (tlsRefused.length) {
      problems.push(...tlsRefused);
      continue;
    }
    if (d.tlsOptions) {
      // Every TLS router of the host names the same option (render/tls-options.ts).
      const name = tlsOptionName(p, d);
      const option = tlsOptionOf(d, d.tlsOptions, options.configDir);
      tlsOptions[name] = option.option;
      option.files.forEach(pemOut);
      tls.tls = { ...tls.tls, options: name };
    }
    if (d.redirect) {
      const refusedRedirect = isWildcard(d.fullDomain)
        ? [`${at}: redirect: a wildcard domain cannot redirect (give the names that redirect as domains of their own)`]
        : domainRedirectProblems(d, at);
      if (refusedRedirect.length) {
        problems.push(...refusedRedirect);
        continue;
      }
      // Every entry point of the domain redirects at once (no http→https hop first).
      const mw = domainRedirectName(p, d);
      middlewares[mw] = { redirectRegex: redirectRegexOf(d.fullDomain, d.redirect) };
      const router = { rule: ruleOf(d.fullDomain, '/'), priority: 1, middlewares: [mw], service: 'noop@internal' };
      const plain = d.sslEnabled ? eps.redirectFrom : eps.routers;
      if (plain.length) domainRouters[mw] = { entryPoints: [...plain], ...router };
      if (d.sslEnabled) domainRouters[`${mw}-tls`] = { entryPoints: [...eps.routers], ...router, tls: tls.tls };
    }
    if (d.sslEnabled && !d.redirect && eps.redirectFrom.length) {
      needsRedirect = true;
      domainRouters[redirectRouterName(p, d)] = {
        entryPoints: [...eps.redirectFrom],
        rule: ruleOf(d.fullDomain, '/'),
        priority: 1,
        middlewares: [redirectMiddlewareName(p)],
        service: 'noop@internal',
      };
    }
    if (d.sslEnabled) {
      if (d.sslProvider === 'custom') {
        if (certificateBaseName(d.fullDomain).length + '.crt'.length > 255) {
          problems.push(
            `${at}: full_domain is too long for a certificate file name (at most 251 characters with provider "custom"), got ${d.fullDomain.length}`,
          );
        } else if (!d.certificate) {
          problems.push(`${at}: ssl_provider is "custom" but the domain has no certificate`);
        } else if (containsPrivateKey(d.certificate.certPem)) {
          problems.push(`${at}: cert_pem holds a private key block (it would be written to a world-readable .crt file)`);
        } else {
          const certPath = layout.cert(d.fullDomain);
          const keyPath = layout.key(d.fullDomain);
          pem.push(file(certPath, pemFile(owner, d.certificate.certPem), 'certificate', 0o644, state.id));
          pem.push(file(keyPath, pemFile(owner, d.certificate.keyPem), 'key', 0o600, state.id));
          const pair = { certFile: posix.join(options.configDir, certPath), keyFile: posix.join(options.configDir, keyPath) };
          certificates.push(pair);
          if (d.defaultCertificate) defaultCertificate = { ...pair };
        }
      }
    }
    for (const r of d.routes) {
      if (!r.isActive) continue;
      renderRoute(d, r, tls.tls);
    }
  }

  function renderRoute(d: Domain, r: Route, tls: Record<string, unknown>): void {
    const service = servicesById.get(r.serviceId);
    const at = `route ${quote(d.fullDomain + r.pathRule)}`;
    if (!service) {
      problems.push(`${at}: service_id ${r.serviceId} is not a service of project ${quote(p)}`);
      return;
    }
    const regex = r.pathMatch === 'regex'; // a Go regular expression, checked by matcherProblems
    if (!regex && (!r.pathRule.startsWith('/') || !SAFE_RULE_VALUE.test(r.pathRule))) {
      problems.push(`${at}: path_rule must start with "/" and contain no quotes, backticks, braces or spaces, got ${quote(r.pathRule)}`);
      return;
    }
    const unreachable = regex ? null : pathRuleProblem(r.pathRule);
    if (unreachable) {
      problems.push(`${at}: path_rule ${unreachable}`);
      return;
    }
    if (isWildcard(d.fullDomain) && r.priority < 1) {
      problems.push(
        `${at}: priority must be at least 1 on a wildcard domain (at 0 its routes could not rank below exact hosts), got ${r.priority}`,
      );
      return;
    }
    if (!Number.isInteger(r.targetPort) || r.targetPort < 1 || r.targetPort > 65535) {
      problems.push(`${at}: target_port must be 1–65535, got ${quote(r.targetPort)}`);
      return;
    }
    if (r.targetUrl !== null && !/^(https?|h2c):\/\/[!#-&(-[\]-_a-z|~]+$/.test(r.targetUrl)) {
      problems.push(`${at}: target_url must be an http(s) URL without quotes, braces or spaces, got ${quote(r.targetUrl)}`);
      return;
    }
    const chain = parseChain(r.middleware, `${at}: middleware`, options.providers);
    const hc = [
      ...checkHealthCheck(r.healthCheck, `${at}: health_check`),
      ...controlCharProblems(r.middleware, `${at}: middleware`),
      ...controlCharProblems(r.healthCheck, `${at}: health_check`),
      ...upstreamProblems(r, at),
      ...routeTransportProblems(r, at),
      ...trafficProblems(r, at, new Set(servicesByName.keys())),
      ...matcherProblems(r, at),
    ];
    if (chain.problems.length || hc.length) {
      // Messages quote values: never a header token or a password hash (src/redact.ts).
      const secrets = secretValues([r.middleware, r.healthCheck]);
      problems.push(...[...chain.problems, ...hc].map((m) => redactValues(m, secrets)));
      return;
    }
    const doc = perService.get(service.name) ?? { http: { routers: {}, services: {} } };
    // Two routes whose ids share 12 hex digits: the second takes its full id.
    const name = doc.http!.routers![routeName(p, service, r)] ? routeName(p, service, r, true) : routeName(p, service, r);
    const unknown = chain.elements.flatMap((el, i) => (el.kind === 'use' ? [useProblem(state, el.name, `${at}: middleware[${i}]`)] : []));
    if (unknown.some(Boolean)) {
      problems.push(...unknown.filter((x): x is string => x !== null));
      return;
    }
    const chainNames = chain.elements.map((el, i) => {
      if (el.kind === 'ref') return el.ref;
      if (el.kind === 'use') return sharedMiddlewareName(p, el.name);
      const mw = middlewareName(name, i, el.type);
      middlewares[mw] = { [el.type]: el.options };
      return mw;
    });
    const router: Record<string, unknown> = {
      entryPoints: [...routeEntryPoints(d, r)],
      rule: routeRuleOf(d.fullDomain, r),
      priority: routerPriority(r, isWildcard(d.fullDomain)),
      service: name,
    };
    if (chainNames.length) router.middlewares = chainNames;
    if (d.sslEnabled) router.tls = tls;
    doc.http!.routers![name] = router;
    const routeServices = routeServicesOf(service, r, name, servicesByName);
    if (r.transport) {
      // The route's own load balancer (the primary one of a failover) reaches its upstream through the transport.
      const tname = transportName(name);
      const t = serversTransportOf(tname, r.transport, r.clientKeyPem ?? null, options.configDir);
      doc.http!.serversTransports = { ...doc.http!.serversTransports, [tname]: t.transport };
      t.files.forEach(pemOut);
      for (const key of [name, `${name}_primary`]) {
        const lb = routeServices[key]?.loadBalancer as Record<string, unknown> | undefined;
        if (lb) lb.serversTransport = tname;
      }
    }
    Object.assign(doc.http!.services!, routeServices);
    perService.set(service.name, doc);
  }

  if (needsRedirect) {
    middlewares[redirectMiddlewareName(p)] = { redirectScheme: { scheme: 'https', permanent: true } };
  }
  const shared = renderShared(state);
  problems.push(...shared.problems);
  Object.assign(middlewares, shared.middlewares);
  const middlewareDoc: DynamicDocument = Object.keys(middlewares).length ? { http: { middlewares } } : {};
  if (Object.keys(shared.services).length) middlewareDoc.http = { ...middlewareDoc.http, services: shared.services };

  const documents: Documents = new Map();
  // Traefik refuses an empty `routers:` or `middlewares:` map ("cannot be a standalone element"),
  // and with it every route of the file provider: a file with nothing to define is written as `{}`.
  const domainsDoc: DynamicDocument = Object.keys(domainRouters).length ? { http: { routers: domainRouters } } : {};
  if (certificates.length) domainsDoc.tls = { certificates };
  if (Object.keys(tlsOptions).length) domainsDoc.tls = { ...domainsDoc.tls, options: tlsOptions };
  if (defaultCertificate) domainsDoc.tls = { ...domainsDoc.tls, stores: { default: { defaultCertificate } } };
  documents.set(layout.domains(p), domainsDoc);
  documents.set(layout.middleware(p), middlewareDoc);
  for (const [svc, doc] of [...perService].sort(([a], [b]) => (a < b ? -1 : 1))) {
    documents.set(layout.service(p, svc), doc);
  }
  const l4 = renderL4(state, facts, options.allowedInternalTargets);
  problems.push(...l4.problems);
  if (l4.tcp) documents.set(layout.tcp(p), l4.tcp);
  if (l4.udp) documents.set(layout.udp(p), l4.udp);

  problems.push(...validateDynamic(documents));
  if (problems.length) {
    return { projectId: state.id, projectName: p, version: state.version, files: [], documents, problems: problems.map(redact) };
  }
  const files: RenderedFile[] = [...pem];
  const warnings = insecureRoutes(state);
  for (const [path, doc] of documents) {
    files.push(file(path, yamlFile(owner, doc), path.includes('/services/') ? 'service' : 'dynamic', 0o644, state.id));
  }
  return {
    projectId: state.id,
    projectName: p,
    version: state.version,
    files,
    documents,
    problems,
    ...(warnings.length ? { warnings } : {}),
  };
}

function file(path: string, content: string, configType: RenderedFile['configType'], mode: number, projectId: string | null): RenderedFile {
  return { path, content, checksum: checksumOf(content), configType, mode, projectId };
}

export { file as renderedFile };
