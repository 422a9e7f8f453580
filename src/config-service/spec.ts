/**
 * The project spec (docs/spec-format.md): its schema, reading it from YAML with line numbers,
 * and resolving it (defaults, certificate files) into a {@link DesiredProject}. Every problem is
 * collected with its path in the file; nothing is thrown until all are known.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { z } from 'zod';
import { healthCheckField, middlewareField, parseInput, toIssues } from './checks.js';
import { crossRowIssues, fullDomainOf, type DesiredCertificate, type DesiredProject } from './desired.js';
import { ValidationError, dedupe, splitPath, type ValidationIssue } from './errors.js';
import {
  LIMITS,
  domainField,
  domainProblem,
  hostnameField,
  tlsSansField,
  nameField,
  portField,
  priorityField,
  providerField,
  shardField,
  subdomainField,
  urlField,
} from './fields.js';
import { checkCertificate } from './pem.js';
import { httpIssues } from './checks-http.js';
import { routingIssues } from './checks-routing.js';
import { refineRoutePath, routePathField, routingOfSpec, routingRouteFields } from './fields-routing.js';
import { desiredL4, entryPointsField, l4SpecIssues, tcpRouteSpec, udpRouteSpec } from './fields-l4.js';
import { redirectField, serversField, sharedMiddlewareSpec, stickyField } from './fields-http.js';
import type { DomainRedirect, MiddlewareSpec, Sticky, UpstreamServer } from '../model.js';
import { resolveTlsOptions, resolveTransport, tlsOptionsSpec, transportSpec } from './tls-spec.js';

/** The `apiVersion` of this format (optional in files; `export` writes it). */
export const API_VERSION = 'traefik-sync/v1';

/** Unknown field → the field that was probably meant. */
const HINTS = {
  port: 'targetPort',
  url: 'targetUrl',
  target_port: 'targetPort',
  target_url: 'targetUrl',
  pathRule: 'path',
  path_rule: 'path',
  sslEnabled: 'ssl',
  ssl_enabled: 'ssl',
  sslProvider: 'provider',
  ssl_provider: 'provider',
  certResolver: 'provider',
  tlsSans: 'sans',
  tls_sans: 'sans',
  tls_options: 'tlsOptions',
  tlsoptions: 'tlsOptions',
  serversTransport: 'transport',
  isActive: 'active',
  is_active: 'active',
  enabled: 'active',
  health_check: 'healthCheck',
  healthcheck: 'healthCheck',
  middlewares: 'middleware',
  project: 'name',
  cert: 'certFile',
  key: 'keyFile',
  certificates: 'certificate',
  route: 'routes',
} as const;

const fileRef = z.string().min(1).max(4096);

const serviceSpec = z.strictObject({ name: nameField, host: hostnameField.nullable().optional() });

const routeSpec = z
  .strictObject({
    path: routePathField.optional(),
    service: nameField,
    targetPort: portField,
    targetUrl: urlField.nullable().optional(),
    priority: priorityField.optional(),
    middleware: middlewareField.nullable().optional(),
    healthCheck: healthCheckField.nullable().optional(),
    active: z.boolean().optional(),
    servers: serversField.nullable().optional(),
    sticky: stickyField.nullable().optional(),
    passHostHeader: z.boolean().optional(),
    entryPoints: entryPointsField.nullable().optional(),
    ...routingRouteFields,
    transport: transportSpec.nullable().optional(),
  })
  .superRefine(refineRoutePath('path', 'match'));

const certificateSpec = z
  .strictObject({
    certFile: fileRef.optional(),
    keyFile: fileRef.optional(),
    fingerprint: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, 'expected "sha256:" and 64 hex digits')
      .optional(),
  })
  .superRefine((c, ctx) => {
    const files = c.certFile !== undefined || c.keyFile !== undefined;
    if (files && c.fingerprint !== undefined)
      ctx.addIssue({ code: 'custom', message: 'give either certFile and keyFile, or fingerprint, not both' });
    else if (files && (c.certFile === undefined || c.keyFile === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [c.certFile === undefined ? 'certFile' : 'keyFile'],
        message: 'is required with ' + (c.certFile === undefined ? 'keyFile' : 'certFile'),
      });
    } else if (!files && c.fingerprint === undefined)
      ctx.addIssue({ code: 'custom', message: 'expected certFile and keyFile (or the fingerprint of the stored certificate)' });
  });

const domainSpec = z
  .strictObject({
    domain: domainField,
    subdomain: subdomainField.nullable().optional(),
    ssl: z.boolean().optional(),
    provider: providerField.nullable().optional(),
    sans: tlsSansField.nullable().optional(),
    active: z.boolean().optional(),
    certificate: certificateSpec.nullable().optional(),
    routes: z.array(routeSpec).max(LIMITS.routesPerDomain).optional(),
    redirect: redirectField.nullable().optional(),
    tlsOptions: tlsOptionsSpec.nullable().optional(),
    defaultCertificate: z.boolean().optional(),
    entryPoints: entryPointsField.nullable().optional(),
  })
  .superRefine((d, ctx) => {
    if (d.subdomain) {
      const m = domainProblem(fullDomainOf(d.domain, d.subdomain));
      if (m) ctx.addIssue({ code: 'custom', path: ['subdomain'], message: `full domain ${m}` });
    }
  });

/** Schema of a spec document. */
export const specSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION).optional(),
  name: nameField,
  shard: shardField.optional(),
  services: z.array(serviceSpec).max(LIMITS.services).optional(),
  middlewares: z.array(sharedMiddlewareSpec).max(LIMITS.services).optional(),
  domains: z.array(domainSpec).max(LIMITS.domains).optional(),
  tcp: z.array(tcpRouteSpec).max(LIMITS.services).optional(),
  udp: z.array(udpRouteSpec).max(LIMITS.services).optional(),
});

/** A spec document as written in a file (or passed by a host application). */
export type ProjectSpec = z.input<typeof specSchema>;

/** A spec read from YAML text: the plain value, problems so far, and a path → line lookup. */
export interface SpecText {
  readonly value: unknown;
  readonly issues: ValidationIssue[];
  readonly lineOf: (path: string) => number | undefined;
}

/** Parse YAML text (one document, core schema, unique keys, few aliases) into a plain value. */
export function parseSpecText(text: Buffer | string): SpecText {
  const none: SpecText = { value: undefined, issues: [], lineOf: () => undefined };
  const size = typeof text === 'string' ? Buffer.byteLength(text) : text.length;
  if (size > LIMITS.specBytes)
    return { ...none, issues: [{ path: '', message: `the file is ${size} bytes; at most ${LIMITS.specBytes} allowed` }] };
  let source: string;
  try {
    source = typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true }).decode(text);
  } catch {
    return { ...none, issues: [{ path: '', message: 'the file is not valid UTF-8' }] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, uniqueKeys: true, schema: 'core', merge: false, prettyErrors: true });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length) {
    return {
      ...none,
      issues: problems.map((e) => ({
        path: '',
        ...(e.linePos?.[0] ? { line: e.linePos[0].line } : {}),
        message: `YAML: ${e.message
          .split('\n')[0]!
          .replace(/ at line \d+, column \d+:?$/, '')
          .replace(/^Source contains multiple documents.*/, 'the file holds more than one document; a spec is one YAML document')}`,
      })),
    };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    return { ...none, issues: [{ path: '', message: `YAML: ${(err as Error).message.split('\n')[0]}` }] };
  }
  return { value, issues: [], lineOf: (p) => lineOf(doc, lineCounter, p) };
}

function lineOf(doc: Document, lc: LineCounter, p: string): number | undefined {
  const segs = splitPath(p);
  for (let n = segs.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(segs.slice(0, n), true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

/** Options of {@link resolveSpec}. */
export interface ResolveOptions {
  /** Directory that `certFile`/`keyFile` are relative to. */
  readonly baseDir: string;
  readonly lineOf?: (path: string) => number | undefined;
}

/**
 * Validate a spec value and turn it into a {@link DesiredProject}: shapes, cross-row rules,
 * certificate files read and checked. Throws one {@link ValidationError} with every problem.
 */
export async function resolveSpec(input: unknown, options: ResolveOptions): Promise<DesiredProject> {
  const where = (issues: ValidationIssue[]) =>
    dedupe(issues).map((i) => {
      const line = i.line ?? options.lineOf?.(i.path);
      return line === undefined ? i : { ...i, line };
    });
  const parsed = parseInput(specSchema, input, HINTS);
  if (!parsed.value) throw new ValidationError(where(toIssues(parsed.issues)));
  const s = parsed.value;
  const issues: ValidationIssue[] = [];
  const domains = await Promise.all(
    (s.domains ?? []).map(async (d, i) => {
      const fullDomain = fullDomainOf(d.domain, d.subdomain ?? null);
      let certificate: DesiredCertificate | null = null;
      if (d.certificate?.fingerprint) certificate = { kind: 'keep', fingerprint: d.certificate.fingerprint };
      else if (d.certificate?.certFile && d.certificate.keyFile) {
        const at = `domains[${i}].certificate`;
        const [certPem, keyPem] = await Promise.all([
          readRef(options.baseDir, d.certificate.certFile, `${at}.certFile`, issues),
          readRef(options.baseDir, d.certificate.keyFile, `${at}.keyFile`, issues),
        ]);
        if (certPem !== null && keyPem !== null) {
          for (const p of checkCertificate(certPem, keyPem, fullDomain).problems) {
            issues.push({ path: `${at}.${p.field === 'certPem' ? 'certFile' : 'keyFile'}`, message: p.message });
          }
          certificate = { kind: 'pem', certPem, keyPem };
        }
      }
      const read = (ref: string, at: string) => readRef(options.baseDir, ref, at, issues);
      const tlsOptions = await resolveTlsOptions(d.tlsOptions, `domains[${i}].tlsOptions`, read, issues);
      const transports = await Promise.all(
        (d.routes ?? []).map((r, j) => resolveTransport(r.transport, `domains[${i}].routes[${j}].transport`, read, issues)),
      );
      return {
        domain: d.domain,
        subdomain: d.subdomain ?? null,
        fullDomain,
        ssl: d.ssl ?? true,
        provider: d.provider ?? null,
        sans: d.sans ?? null,
        active: d.active ?? true,
        certificate,
        redirect: (d.redirect ?? null) as DomainRedirect | null,
        tlsOptions,
        defaultCertificate: d.defaultCertificate ?? false,
        entryPoints: d.entryPoints ?? null,
        routes: (d.routes ?? []).map((r, j) => ({
          path: r.path ?? '/',
          service: r.service,
          targetPort: r.targetPort,
          targetUrl: r.targetUrl ?? null,
          priority: r.priority ?? 1,
          middleware: (r.middleware ?? null) as MiddlewareSpec[] | null,
          healthCheck: r.healthCheck ?? null,
          active: r.active ?? true,
          servers: (r.servers ?? null) as UpstreamServer[] | null,
          sticky: (r.sticky ?? null) as Sticky | null,
          passHostHeader: r.passHostHeader ?? true,
          ...routingOfSpec(r),
          transport: transports[j] ?? null,
          entryPoints: r.entryPoints ?? null,
        })),
      };
    }),
  );
  const desired: DesiredProject = {
    name: s.name,
    ...(s.shard !== undefined ? { shard: s.shard } : {}),
    services: (s.services ?? []).map((x) => ({ name: x.name, host: x.host ?? null })),
    middlewares: (s.middlewares ?? []).map(({ name, ...middleware }) => ({ name, middleware: middleware as MiddlewareSpec })),
    domains,
    l4Routes: desiredL4(s.tcp ?? [], s.udp ?? []),
  };
  issues.push(...crossRowIssues(desired), ...httpIssues(desired), ...routingIssues(desired), ...l4SpecIssues(desired.l4Routes ?? []));
  if (issues.length) throw new ValidationError(where(issues));
  return desired;
}

async function readRef(baseDir: string, ref: string, at: string, issues: ValidationIssue[]): Promise<string | null> {
  const file = path.resolve(baseDir, ref);
  try {
    const buf = await readFile(file);
    if (buf.length > LIMITS.pemBytes) {
      issues.push({ path: at, message: `${JSON.stringify(ref)} is ${buf.length} bytes; at most ${LIMITS.pemBytes} allowed` });
      return null;
    }
    const text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
    if (text.includes('\u0000') || text.includes('{{') || text.includes('}}')) {
      issues.push({ path: at, message: `${JSON.stringify(ref)} contains a NUL byte or "{{"/"}}"` });
      return null;
    }
    return text;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? 'not valid UTF-8');
    issues.push({ path: at, message: `cannot read ${JSON.stringify(ref)} (resolved to ${JSON.stringify(file)}): ${why}` });
    return null;
  }
}

/** Read a spec file and resolve it (certificate paths relative to the file). */
export async function loadSpecFile(file: string): Promise<DesiredProject> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ValidationError([
      { path: '', message: `cannot read spec file ${JSON.stringify(file)}: ${code === 'ENOENT' ? 'no such file' : (code ?? 'error')}` },
    ]);
  }
  const text = parseSpecText(buf);
  if (text.issues.length) throw new ValidationError(text.issues);
  return resolveSpec(text.value, { baseDir: path.dirname(path.resolve(file)), lineOf: text.lineOf });
}
