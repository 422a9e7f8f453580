/**
 * What a project's routes may point Traefik at. Traefik shares the pod's network and reads the
 * pod's files, so a tenant's row must not make it (1) proxy to the pod itself or the cloud's
 * metadata service — upstreams (`target_url`, `servers`, a service's host), `forwardAuth.address` and
 * `rateLimit.redis.endpoints` and the page service of an `errors` middleware at loopback, link-local or unspecified addresses are refused unless
 * ALLOWED_INTERNAL_TARGETS names them (src/address.ts) — nor (2) read a file it should not serve
 * from: middleware options that name files are refused (`basicAuth.usersFile`,
 * `digestAuth.usersFile`: give `users` inline) or confined to the files the controller writes for
 * the same project (`forwardAuth.tls` and `rateLimit.redis.tls` `ca`/`cert`/`key`: that project's
 * certificates and keys, or inline PEM without a private key). Pure: rows and options in, messages out.
 */
import { posix } from 'node:path';
import { internalTargetProblem, internalUrlProblem, splitHostPort, type InternalTarget } from '../address.js';
import { quote } from '../errors.js';
import type { ProjectState } from '../model.js';
import { containsPrivateKey } from '../redact.js';
import { certificateBaseName } from './hosts.js';

/** Options naming a file Traefik would read, by middleware type: refused outright. */
const USERS_FILES: Readonly<Record<string, string>> = { basicauth: 'usersFile', digestauth: 'usersFile' };
/** TLS options (`ca`, `cert`, `key`) confined to the project's own files, by middleware type and the path to them. */
const TLS_FILES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['forwardauth', ['tls']],
  ['ratelimit', ['redis', 'tls']],
];

/** `obj[key]` with the key matched case-insensitively (Traefik reads option names so). */
function field(obj: unknown, key: string): unknown {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const k = Object.keys(obj).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : (obj as Record<string, unknown>)[k];
}

/** The absolute paths of the certificate and key files the controller writes for this project. */
export function projectFiles(state: ProjectState, configDir: string): Set<string> {
  const files = new Set<string>();
  for (const d of state.domains) {
    if (!d.isActive || !d.sslEnabled || d.sslProvider !== 'custom' || !d.certificate) continue;
    files.add(posix.join(configDir, 'ssl/certs', `${certificateBaseName(d.fullDomain)}.crt`));
    files.add(posix.join(configDir, 'ssl/keys', `${certificateBaseName(d.fullDomain)}.key`));
  }
  return files;
}

/** Problems of one middleware element's options (`at` names it: `middleware[2].forwardAuth`). */
function middlewareProblems(
  type: string,
  options: unknown,
  at: string,
  own: ReadonlySet<string>,
  allowed: readonly InternalTarget[],
): string[] {
  const problems: string[] = [];
  const t = type.toLowerCase();
  const usersFile = USERS_FILES[t];
  if (usersFile && field(options, usersFile) !== undefined) {
    problems.push(
      `${at}.${usersFile}: names a file on Traefik's disk, which could be another project's (or any file Traefik can read); give the entries inline in users (they are masked wherever shown)`,
    );
  }
  if (t === 'forwardauth') {
    const address = field(options, 'address');
    if (typeof address === 'string') {
      const p = internalUrlProblem(`${at}.address`, address, allowed);
      if (p) problems.push(p);
    }
  }
  if (t === 'ratelimit') {
    const endpoints = field(field(options, 'redis'), 'endpoints');
    if (Array.isArray(endpoints)) {
      endpoints.forEach((e, i) => {
        const hp = typeof e === 'string' ? splitHostPort(e) : null;
        const p = hp && internalTargetProblem(`${at}.redis.endpoints[${i}]`, hp.host, hp.port, allowed);
        if (p) problems.push(p);
      });
    }
  }
  for (const [mt, path] of TLS_FILES) {
    if (t !== mt) continue;
    const tls = path.reduce<unknown>((o, k) => field(o, k), options);
    for (const k of ['ca', 'cert', 'key']) {
      const v = field(tls, k);
      if (v === undefined) continue;
      const where = `${at}.${path.join('.')}.${k}`;
      if (typeof v !== 'string') continue; // the schema says what is wrong with it
      if (v.trim().startsWith('-----BEGIN')) {
        if (containsPrivateKey(v)) problems.push(`${where}: holds a private key, which would be written to a world-readable file; refused`);
        continue;
      }
      if (!own.has(v)) {
        problems.push(
          `${where}: names a file, ${quote(v)}, that traefik-sync does not write for this project; only its own certificate and key files ` +
            `(${own.size ? [...own].sort().join(', ') : 'none: the project has no custom certificate'}) or inline PEM are allowed`,
        );
      }
    }
  }
  return problems;
}

/**
 * The problems of a project's active routes under the rules of the module comment, each prefixed
 * like the renderer's (`route "<full_domain><path>": …`, `service "<name>": host …`).
 */
export function targetProblems(state: ProjectState, configDir: string, allowed: readonly InternalTarget[] = []): string[] {
  const problems: string[] = [];
  const own = projectFiles(state, configDir);
  const services = new Map(state.services.map((s) => [s.id, s]));
  const serviceSeen = new Set<string>();
  for (const d of state.domains) {
    if (!d.isActive) continue;
    for (const r of d.routes) {
      if (!r.isActive) continue;
      const at = `route ${quote(d.fullDomain + r.pathRule)}`;
      const service = services.get(r.serviceId);
      if (r.servers) {
        r.servers.forEach((sv, i) => {
          const p =
            sv.url !== undefined
              ? internalUrlProblem(`servers[${i}].url`, sv.url, allowed)
              : internalTargetProblem(`servers[${i}].host`, sv.host ?? '', sv.port ?? r.targetPort, allowed);
          if (p) problems.push(`${at}: ${p}`);
        });
      } else if (r.targetUrl !== null) {
        const p = internalUrlProblem('target_url', r.targetUrl, allowed);
        if (p) problems.push(`${at}: ${p}`);
      } else if (service && !serviceSeen.has(`${service.id}:${r.targetPort}`)) {
        serviceSeen.add(`${service.id}:${r.targetPort}`);
        const what = service.host === null ? `host (not set: the service name ${quote(service.name)} is the upstream host)` : 'host';
        const p = internalTargetProblem(what, service.host ?? service.name, r.targetPort, allowed);
        if (p) problems.push(`service ${quote(service.name)}: ${p}`);
      }
      (r.middleware ?? []).forEach((el, i) => {
        if (!el || typeof el !== 'object' || Array.isArray(el)) return;
        for (const [type, options] of Object.entries(el)) {
          problems.push(...middlewareProblems(type, options, `${at}: middleware[${i}].${type}`, own, allowed));
        }
      });
    }
  }
  for (const m of state.middlewares ?? []) {
    if (!m.middleware || typeof m.middleware !== 'object' || Array.isArray(m.middleware)) continue;
    for (const [type, options] of Object.entries(m.middleware)) {
      problems.push(...middlewareProblems(type, options, `middleware ${quote(m.name)}: ${type}`, own, allowed));
    }
    const errors = m.middleware.errors as { service?: unknown; port?: unknown } | undefined;
    const pages = errors && state.services.find((s) => s.name === errors.service);
    if (pages && typeof errors.port === 'number') {
      const p = internalTargetProblem('errors.service', pages.host ?? pages.name, errors.port, allowed);
      if (p) problems.push(`middleware ${quote(m.name)}: ${p}`);
    }
  }
  return problems;
}
