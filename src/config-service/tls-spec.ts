/**
 * The TLS fields of a spec (docs/spec-format.md "Backend transport", "TLS options"): a route's
 * `transport` and a domain's `tlsOptions`, with their CA and client certificate given inline or
 * as files relative to the spec. Files are read here, and the values are checked by the
 * renderer's own rules (render/transport.ts, render/tls-options.ts) with the spec's field names.
 */
import { z } from 'zod';
import type { BackendTransport, TlsOptions } from '../model.js';
import { transportProblems } from '../render/transport.js';
import { tlsOptionsProblems } from '../render/tls-options.js';
import { splitPrefixed } from './checks.js';
import { joinPath, type ValidationIssue } from './errors.js';
import { checkCertificate } from './pem.js';

const fileRef = z.string().min(1).max(4096);
const fingerprint = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected "sha256:" and 64 hex digits');

/** A client certificate in a spec: files, or the fingerprint of the stored one. */
const clientCertificateSpec = z.strictObject({
  certFile: fileRef.optional(),
  keyFile: fileRef.optional(),
  fingerprint: fingerprint.optional(),
});

/** A route's `transport` in a spec (shapes only; values are checked by {@link resolveTransport}). */
export const transportSpec = z.strictObject({
  serverName: z.unknown().optional(),
  insecureSkipVerify: z.unknown().optional(),
  ca: z.string().optional(),
  caFile: fileRef.optional(),
  clientCertificate: clientCertificateSpec.optional(),
});

/** A domain's `tlsOptions` in a spec. */
export const tlsOptionsSpec = z.strictObject({
  minVersion: z.unknown().optional(),
  maxVersion: z.unknown().optional(),
  cipherSuites: z.unknown().optional(),
  sniStrict: z.unknown().optional(),
  clientAuth: z.strictObject({ ca: z.string().optional(), caFile: fileRef.optional(), mode: z.unknown().optional() }).optional(),
});

/** A client certificate of a route as resolved: PEM text read from files, or "keep the stored one". */
export type DesiredClientCertificate =
  { readonly kind: 'pem'; readonly certPem: string; readonly keyPem: string } | { readonly kind: 'keep'; readonly fingerprint: string };

/** A route's transport as resolved: the stored shape without the client certificate, and that certificate. */
export interface DesiredTransport {
  readonly transport: Omit<BackendTransport, 'clientCert'>;
  readonly client: DesiredClientCertificate | null;
}

/** Reads a file named in a spec (relative to the spec's folder), or records why it cannot. */
export type ReadRef = (ref: string, at: string) => Promise<string | null>;

/** Renderer problems `transport.ca: …` → issues at `base.ca`, with spec names for stored ones. */
function rendererIssues(problems: readonly string[], base: string, rename: Record<string, string> = {}): ValidationIssue[] {
  return problems.map((p) => {
    const { segments, message } = splitPrefixed(p);
    const named = segments.map((s) => (typeof s === 'string' && rename[s] ? rename[s] : s));
    return { path: joinPath(named, base), message };
  });
}

/** Inline PEM or a file: the text, or null (with an issue when both or an unreadable file). */
async function pemOf(inline: string | undefined, file: string | undefined, at: string, read: ReadRef, issues: ValidationIssue[]) {
  if (inline !== undefined && file !== undefined) {
    issues.push({ path: `${at}File`, message: `give either ${at.split('.').at(-1)} (PEM text) or ${at.split('.').at(-1)}File, not both` });
    return null;
  }
  if (file !== undefined) return read(file, `${at}File`);
  return inline ?? null;
}

/** Resolve and check a route's `transport` (`at`: its path in the spec). */
export async function resolveTransport(
  spec: z.infer<typeof transportSpec> | null | undefined,
  at: string,
  read: ReadRef,
  issues: ValidationIssue[],
): Promise<DesiredTransport | null> {
  if (!spec) return null;
  const ca = await pemOf(spec.ca, spec.caFile, `${at}.ca`, read, issues);
  const stored: Record<string, unknown> = {};
  if (spec.serverName !== undefined) stored.serverName = spec.serverName;
  if (spec.insecureSkipVerify !== undefined) stored.insecureSkipVerify = spec.insecureSkipVerify;
  if (ca !== null) stored.ca = ca;
  let client: DesiredClientCertificate | null = null;
  const c = spec.clientCertificate;
  const cAt = `${at}.clientCertificate`;
  if (c) {
    const files = c.certFile !== undefined || c.keyFile !== undefined;
    if (files && c.fingerprint !== undefined)
      issues.push({ path: cAt, message: 'give either certFile and keyFile, or fingerprint, not both' });
    else if (c.fingerprint !== undefined) client = { kind: 'keep', fingerprint: c.fingerprint };
    else if (c.certFile === undefined || c.keyFile === undefined)
      issues.push({
        path: `${cAt}.${c.certFile === undefined ? 'certFile' : 'keyFile'}`,
        message: 'is required: a client certificate needs certFile and keyFile',
      });
    else {
      const [certPem, keyPem] = await Promise.all([read(c.certFile, `${cAt}.certFile`), read(c.keyFile, `${cAt}.keyFile`)]);
      if (certPem !== null && keyPem !== null) {
        const facts = checkCertificate(certPem, keyPem, null);
        for (const p of facts.problems)
          issues.push({ path: `${cAt}.${p.field === 'certPem' ? 'certFile' : 'keyFile'}`, message: p.message });
        if (!facts.problems.length) client = { kind: 'pem', certPem, keyPem };
      }
    }
  }
  // The client certificate is checked above with its key; the rest by the renderer's rule.
  issues.push(...rendererIssues(transportProblems(stored, ''), at, spec.caFile !== undefined ? { ca: 'caFile' } : {}));
  if (!Object.keys(stored).length && !c) issues.push({ path: at, message: "is empty; leave it out for Traefik's default transport" });
  return { transport: stored as Omit<BackendTransport, 'clientCert'>, client };
}

/** Resolve and check a domain's `tlsOptions` (`at`: its path in the spec). */
export async function resolveTlsOptions(
  spec: z.infer<typeof tlsOptionsSpec> | null | undefined,
  at: string,
  read: ReadRef,
  issues: ValidationIssue[],
): Promise<TlsOptions | null> {
  if (!spec) return null;
  const { clientAuth, ...rest } = spec;
  const stored: Record<string, unknown> = { ...rest };
  for (const k of Object.keys(stored)) if (stored[k] === undefined) delete stored[k];
  if (clientAuth) {
    const ca = await pemOf(clientAuth.ca, clientAuth.caFile, `${at}.clientAuth.ca`, read, issues);
    stored.clientAuth = { ...(ca !== null ? { ca } : {}), ...(clientAuth.mode !== undefined ? { mode: clientAuth.mode } : {}) };
  }
  const rename: Record<string, string> = clientAuth?.caFile !== undefined ? { ca: 'caFile' } : {};
  issues.push(...rendererIssues(tlsOptionsProblems(stored, ''), at, rename));
  return stored as TlsOptions;
}

/**
 * Warnings an operator must see on every apply: routes whose upstream's certificate is not
 * verified (`transport.insecureSkipVerify: true`), by their path in the spec.
 */
export function insecureTransportWarnings(project: {
  readonly domains: ReadonlyArray<{
    readonly fullDomain: string;
    readonly routes: ReadonlyArray<{ readonly path: string; readonly transport?: DesiredTransport | null }>;
  }>;
}): string[] {
  const out: string[] = [];
  project.domains.forEach((d, i) =>
    d.routes.forEach((r, j) => {
      if (r.transport?.transport.insecureSkipVerify === true) {
        out.push(
          `domains[${i}].routes[${j}].transport.insecureSkipVerify: ${d.fullDomain}${r.path}: the upstream's certificate is not verified (anyone between Traefik and it can impersonate it)`,
        );
      }
    }),
  );
  return out;
}
