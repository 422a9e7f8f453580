/**
 * The TLS fields of a project's rows as a spec writes them (docs/spec-format.md): a route's
 * transport (CA inline, the client certificate by fingerprint, or as files with a cert dir) and
 * a domain's TLS options. The client key never goes to stdout: only to a 0600 file in the cert dir.
 */
import path from 'node:path';
import { AtomicWriter } from '../fs/atomic.js';
import { shortId } from '../render/names.js';
import { fingerprintOf } from './pem.js';
import type { DomainRow, RouteRow } from './rows.js';

/** A route's `transport` for the spec, writing the client certificate files when `certDir` is given. */
export async function exportTransport(
  r: RouteRow,
  fullDomain: string,
  certDir: string | undefined,
  specDir: string,
  files: string[],
): Promise<Record<string, unknown> | undefined> {
  if (!r.transport) return undefined;
  const { clientCert, ...rest } = r.transport;
  const out: Record<string, unknown> = { ...rest };
  if (clientCert && certDir && r.key_pem) {
    const base = `${fullDomain}_${shortId(r.id)}-client`;
    const certFile = path.resolve(certDir, `${base}.crt`);
    const keyFile = path.resolve(certDir, `${base}.key`);
    const writer = new AtomicWriter(certDir);
    await writer.write(path.basename(certFile), clientCert, 0o600);
    await writer.write(path.basename(keyFile), r.key_pem, 0o600);
    await writer.flush();
    files.push(certFile, keyFile);
    out.clientCertificate = { certFile: path.relative(specDir, certFile), keyFile: path.relative(specDir, keyFile) };
  } else if (clientCert) {
    out.clientCertificate = { fingerprint: fingerprintOf(clientCert) ?? 'sha256:unparseable' };
  }
  return out;
}

/** A domain's TLS fields for the spec (none for a domain that has none: old exports stay as they were). */
export function exportDomainTls(d: DomainRow): Record<string, unknown> {
  return {
    ...(d.tls_options ? { tlsOptions: d.tls_options } : {}),
    ...(d.default_certificate ? { defaultCertificate: true } : {}),
  };
}

/** Whether any route has a client certificate (the export's note on fingerprints). */
export function hasClientCertificates(routes: readonly RouteRow[]): boolean {
  return routes.some((r) => r.transport?.clientCert);
}
