/**
 * A route's backend transport (docs/spec-format.md "Backend transport"): how Traefik connects to
 * an HTTPS upstream — the CA its certificate is checked against, the name checked (serverName),
 * insecureSkipVerify, and a client certificate for mTLS. Rendered as one Traefik serversTransport
 * per route, `<router name>_transport` (prefixed by the project like every object name), with its
 * CA and client certificate in ssl/certs/ (0644) and the client key in ssl/keys/ (0600).
 */
import { posix } from 'node:path';
import { quote } from '../errors.js';
import type { BackendTransport, ProjectState, RenderedFile, Route } from '../model.js';
import { containsPrivateKey } from '../redact.js';
import { isHostName } from './names.js';
import { certificatePemProblem } from './pem-check.js';

const KEYS = ['serverName', 'insecureSkipVerify', 'ca', 'clientCert'];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Problems with a route's `transport` value (`field` names it). The client key is checked with its certificate elsewhere. */
export function transportProblems(v: unknown, field = 'transport'): string[] {
  if (v === null || v === undefined) return [];
  if (!isObject(v)) return [`${field}: expected {serverName, insecureSkipVerify, ca, clientCert}, got ${quote(v)}`];
  const problems: string[] = [];
  for (const k of Object.keys(v)) {
    if (!KEYS.includes(k)) problems.push(`${field}.${k}: unknown field (a transport has serverName, insecureSkipVerify, ca, clientCert)`);
  }
  if (!Object.keys(v).length) problems.push(`${field}: is empty; leave it out for Traefik's default transport`);
  if (v.serverName !== undefined && (typeof v.serverName !== 'string' || !isHostName(v.serverName)))
    problems.push(`${field}.serverName: expected a lower-case host name, got ${quote(v.serverName)}`);
  if (v.insecureSkipVerify !== undefined && typeof v.insecureSkipVerify !== 'boolean')
    problems.push(`${field}.insecureSkipVerify: expected true or false, got ${quote(v.insecureSkipVerify)}`);
  for (const k of ['ca', 'clientCert']) {
    if (v[k] === undefined) continue;
    const p = certificatePemProblem(v[k]);
    if (p) problems.push(`${field}.${k}: ${p}`);
  }
  if (v.ca !== undefined && v.insecureSkipVerify === true)
    problems.push(`${field}.ca: not with insecureSkipVerify: true (the upstream's certificate would not be checked against it)`);
  return problems;
}

/** Problems with a route's transport and client key as stored (rows however written). */
export function routeTransportProblems(route: Route, at: string): string[] {
  const problems = transportProblems(route.transport, `${at}: transport`);
  const key = route.clientKeyPem ?? null;
  const cert = route.transport?.clientCert;
  if (cert !== undefined && key === null) problems.push(`${at}: transport.clientCert has no private key (key_pem)`);
  if (cert === undefined && key !== null) problems.push(`${at}: key_pem is set without transport.clientCert`);
  if (key !== null && !/^\s*-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) problems.push(`${at}: key_pem is not a PEM private key`);
  if (route.transport?.clientCert && containsPrivateKey(route.transport.clientCert))
    problems.push(`${at}: transport.clientCert holds a private key block`);
  if (route.transport && route.split)
    problems.push(`${at}: transport: not with split (each branch is a service of the project on plain HTTP)`);
  else if (route.transport && !upstreamIsHttps(route)) {
    const tlsOnly = ['serverName', 'ca', 'clientCert', 'insecureSkipVerify'].filter((k) => k in route.transport!);
    if (tlsOnly.length)
      problems.push(`${at}: transport.${tlsOnly[0]}: needs an https:// upstream (targetUrl or servers), the route has none`);
  }
  return problems;
}

/** Whether any upstream of the route is reached over HTTPS (a transport's TLS settings apply to those). */
function upstreamIsHttps(route: Route): boolean {
  if (route.servers) return route.servers.some((s) => s.url?.startsWith('https://'));
  return route.targetUrl?.startsWith('https://') ?? false;
}

/** The serversTransport name of a route's router. */
export function transportName(routerName: string): string {
  return `${routerName}_transport`;
}

/** Paths of a transport's files, relative to the config root. */
export function transportFiles(name: string) {
  return { ca: `ssl/certs/${name}-ca.crt`, cert: `ssl/certs/${name}-client.crt`, key: `ssl/keys/${name}-client.key` };
}

/** A file the transport needs, before its header and checksum. */
export interface PemOut {
  readonly path: string;
  readonly pem: string;
  readonly configType: RenderedFile['configType'];
  readonly mode: number;
}

/** The Traefik serversTransport of `transport` (named `name`) and the files it refers to. */
export function serversTransportOf(
  name: string,
  transport: BackendTransport,
  keyPem: string | null,
  configDir: string,
): { transport: Record<string, unknown>; files: PemOut[] } {
  const paths = transportFiles(name);
  const files: PemOut[] = [];
  const out: Record<string, unknown> = {};
  if (transport.serverName !== undefined) out.serverName = transport.serverName;
  if (transport.insecureSkipVerify !== undefined) out.insecureSkipVerify = transport.insecureSkipVerify;
  if (transport.ca !== undefined) {
    files.push({ path: paths.ca, pem: transport.ca, configType: 'certificate', mode: 0o644 });
    out.rootCAs = [posix.join(configDir, paths.ca)];
  }
  if (transport.clientCert !== undefined && keyPem !== null) {
    files.push({ path: paths.cert, pem: transport.clientCert, configType: 'certificate', mode: 0o644 });
    files.push({ path: paths.key, pem: keyPem, configType: 'key', mode: 0o600 });
    out.certificates = [{ certFile: posix.join(configDir, paths.cert), keyFile: posix.join(configDir, paths.key) }];
  }
  return { transport: out, files };
}

/** The active routes of a project whose upstream's certificate is not verified, as status warnings. */
export function insecureRoutes(state: ProjectState): string[] {
  return state.domains
    .filter((d) => d.isActive)
    .flatMap((d) =>
      d.routes
        .filter((r) => r.isActive && r.transport?.insecureSkipVerify === true)
        .map((r) => `route ${quote(d.fullDomain + r.pathRule)}: transport.insecureSkipVerify: the upstream's certificate is not verified`),
    );
}
