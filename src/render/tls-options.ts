/**
 * TLS options of a domain (docs/spec-format.md "TLS options"): minimum and maximum version,
 * cipher suites, sniStrict, client certificate authentication. Rendered as one Traefik TLS option
 * per domain, `<project>_tls_<domain id>`, used by every TLS router of that host (its routes and
 * its redirect): Traefik picks options per host, and a host whose routers name different options
 * gets the default ones, so one option per domain makes that impossible. Only values Traefik
 * knows are accepted: it ignores an unknown version without a word (pkg/tls/tlsmanager.go).
 */
import { posix } from 'node:path';
import { quote } from '../errors.js';
import type { Domain, TlsOptions } from '../model.js';
import { certificateBaseName, isWildcard } from './hosts.js';
import { shortId } from './names.js';
import { certificatePemProblem } from './pem-check.js';
import type { PemOut } from './transport.js';

/** TLS versions as Traefik names them (pkg/tls MinVersion/MaxVersion). */
export const TLS_VERSIONS = ['VersionTLS10', 'VersionTLS11', 'VersionTLS12', 'VersionTLS13'] as const;

/** Cipher suite names Traefik knows (pkg/tls/cipher.go CipherSuites, the same in 3.0.4 and 3.7). */
export const CIPHER_SUITES: ReadonlySet<string> = new Set([
  'TLS_RSA_WITH_RC4_128_SHA',
  'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
  'TLS_RSA_WITH_AES_128_CBC_SHA',
  'TLS_RSA_WITH_AES_256_CBC_SHA',
  'TLS_RSA_WITH_AES_128_CBC_SHA256',
  'TLS_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA',
  'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA',
  'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA',
  'TLS_ECDHE_RSA_WITH_RC4_128_SHA',
  'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA',
  'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
  'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_FALLBACK_SCSV',
]);

/** Client authentication modes (Go's tls.ClientAuthType names, as Traefik reads them). */
export const CLIENT_AUTH_MODES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
const NEEDS_CA = ['VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'];

const KEYS = ['minVersion', 'maxVersion', 'cipherSuites', 'sniStrict', 'clientAuth'];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function versionProblem(v: unknown): string | null {
  if ((TLS_VERSIONS as readonly unknown[]).includes(v)) return null;
  const hint = typeof v === 'string' && /^(tls)?1\.[0-3]$/i.test(v) ? `; use "VersionTLS1${v.slice(-1)}"` : '';
  return `expected one of ${TLS_VERSIONS.join(', ')}, got ${quote(v)}${hint}`;
}

/** Problems with a domain's `tlsOptions` value (`field` names it). */
export function tlsOptionsProblems(v: unknown, field = 'tlsOptions'): string[] {
  if (v === null || v === undefined) return [];
  if (!isObject(v)) return [`${field}: expected {minVersion, maxVersion, cipherSuites, sniStrict, clientAuth}, got ${quote(v)}`];
  const problems: string[] = [];
  for (const k of Object.keys(v)) {
    if (!KEYS.includes(k)) problems.push(`${field}.${k}: unknown field (TLS options have ${KEYS.join(', ')})`);
  }
  if (!Object.keys(v).length) problems.push(`${field}: is empty; leave it out for Traefik's default TLS options`);
  for (const k of ['minVersion', 'maxVersion']) {
    const p = v[k] === undefined ? null : versionProblem(v[k]);
    if (p) problems.push(`${field}.${k}: ${p}`);
  }
  if (!problems.length && typeof v.minVersion === 'string' && typeof v.maxVersion === 'string' && v.minVersion > v.maxVersion)
    problems.push(`${field}.maxVersion: is below minVersion (${v.minVersion}), so no client could connect`);
  if (v.sniStrict !== undefined && typeof v.sniStrict !== 'boolean')
    problems.push(`${field}.sniStrict: expected true or false, got ${quote(v.sniStrict)}`);
  if (v.cipherSuites !== undefined) {
    const cs = v.cipherSuites;
    if (!Array.isArray(cs) || cs.length < 1 || cs.length > 32)
      problems.push(`${field}.cipherSuites: expected a list of 1–32 cipher suite names, got ${quote(cs)}`);
    else
      cs.forEach((c, i) => {
        if (typeof c !== 'string' || !CIPHER_SUITES.has(c))
          problems.push(
            `${field}.cipherSuites[${i}]: not a cipher suite Traefik knows (Go's names, like TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256), got ${quote(c)}`,
          );
      });
  }
  if (v.clientAuth !== undefined) {
    const ca = v.clientAuth;
    const at = `${field}.clientAuth`;
    if (!isObject(ca)) problems.push(`${at}: expected {ca, mode}, got ${quote(ca)}`);
    else {
      for (const k of Object.keys(ca))
        if (k !== 'ca' && k !== 'mode') problems.push(`${at}.${k}: unknown field (clientAuth has ca and mode)`);
      if (!(CLIENT_AUTH_MODES as readonly unknown[]).includes(ca.mode))
        problems.push(`${at}.mode: expected one of ${CLIENT_AUTH_MODES.join(', ')}, got ${quote(ca.mode)}`);
      if (ca.ca !== undefined) {
        const p = certificatePemProblem(ca.ca);
        if (p) problems.push(`${at}.ca: ${p}`);
      } else if (NEEDS_CA.includes(ca.mode as string))
        problems.push(`${at}.ca: is required with mode ${quote(ca.mode)} (client certificates are verified against it)`);
    }
  }
  return problems;
}

/** Problems with a domain's TLS options and default certificate as stored (rows however written). */
export function domainTlsProblems(d: Domain, at: string): string[] {
  const problems = tlsOptionsProblems(d.tlsOptions, `${at}: tls_options`);
  if (d.tlsOptions && !d.sslEnabled) problems.push(`${at}: tls_options: need ssl: true`);
  if (d.tlsOptions && isWildcard(d.fullDomain))
    problems.push(`${at}: tls_options: not on a wildcard domain (Traefik picks TLS options by host, and a wildcard's rule names none)`);
  if (d.defaultCertificate && !(d.sslEnabled && d.sslProvider === 'custom' && d.certificate))
    problems.push(`${at}: default_certificate: needs provider "custom" and a certificate`);
  return problems;
}

/** The TLS option name of a domain. */
export function tlsOptionName(project: string, d: Domain): string {
  return `${project}_tls_${shortId(d.id)}`;
}

/** The Traefik TLS option of `options` and the file it refers to (the client CA). */
export function tlsOptionOf(d: Domain, options: TlsOptions, configDir: string): { option: Record<string, unknown>; files: PemOut[] } {
  const out: Record<string, unknown> = {};
  const files: PemOut[] = [];
  if (options.minVersion !== undefined) out.minVersion = options.minVersion;
  if (options.maxVersion !== undefined) out.maxVersion = options.maxVersion;
  if (options.cipherSuites !== undefined) out.cipherSuites = [...options.cipherSuites];
  if (options.sniStrict !== undefined) out.sniStrict = options.sniStrict;
  if (options.clientAuth) {
    const auth: Record<string, unknown> = { clientAuthType: options.clientAuth.mode };
    if (options.clientAuth.ca !== undefined) {
      const path = `ssl/certs/${certificateBaseName(d.fullDomain)}_client-ca.crt`;
      files.push({ path, pem: options.clientAuth.ca, configType: 'certificate', mode: 0o644 });
      auth.caFiles = [posix.join(configDir, path)];
    }
    out.clientAuth = auth;
  }
  return { option: out, files };
}
