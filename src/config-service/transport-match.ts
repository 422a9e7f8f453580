/**
 * A route's backend transport against the stored row: its client certificate given by
 * fingerprint keeps the stored certificate and key, and a rollback gives a restored client
 * certificate its key back from the stored row (keys are never in the audit log, sql/014_*.sql).
 */
import type { BackendTransport } from '../model.js';
import type { ValidationIssue } from './errors.js';
import { fingerprintOf } from './pem.js';
import type { ProjectRows, RouteRow } from './rows.js';
import type { DesiredTransport } from './tls-spec.js';

/** The `transport` and `key_pem` columns of a route given its desired transport and its stored row. */
export function transportColumns(
  desired: DesiredTransport | null,
  stored: RouteRow | undefined,
  at: string,
  issues: ValidationIssue[],
): { transport: BackendTransport | null; key_pem: string | null } {
  if (!desired) return { transport: null, key_pem: null };
  const c = desired.client;
  if (!c) return { transport: desired.transport, key_pem: null };
  if (c.kind === 'pem') return { transport: { ...desired.transport, clientCert: c.certPem }, key_pem: c.keyPem };
  const cert = stored?.transport?.clientCert;
  const have = cert ? fingerprintOf(cert) : null;
  if (!cert || !stored?.key_pem || have !== c.fingerprint) {
    issues.push({
      path: `${at}.clientCertificate.fingerprint`,
      message: `the route has no stored client certificate with this fingerprint (stored: ${have ?? 'none'}); give certFile and keyFile instead`,
    });
    return { transport: desired.transport, key_pem: null };
  }
  return { transport: { ...desired.transport, clientCert: cert }, key_pem: stored.key_pem };
}

/**
 * Routes of a rollback target with their client keys: the stored route's key when its client
 * certificate is the same. Otherwise refused (the key is not in the audit log), or with `skip`
 * the route keeps its current transport. Returns the routes and what could not be restored.
 */
export function restoreTransportKeys(
  target: ProjectRows,
  current: ProjectRows,
  skip: boolean,
  notes: string[],
): { routes: RouteRow[]; refused: string[] } {
  const stored = new Map(current.routes.map((r) => [r.id, r]));
  const refused: string[] = [];
  const routes = target.routes.map((r) => {
    const cert = r.transport?.clientCert;
    if (!cert) return { ...r, key_pem: null };
    const now = stored.get(r.id);
    if (now?.transport?.clientCert === cert && now.key_pem) return { ...r, key_pem: now.key_pem };
    const what = `client certificate of route ${r.path_rule} (${fingerprintOf(cert) ?? 'unparseable'})`;
    if (!skip) {
      refused.push(what);
      return r;
    }
    notes.push(`${what} was not restored: its private key is not in the audit log; the route keeps its current transport`);
    return { ...r, transport: now?.transport ?? null, key_pem: now?.key_pem ?? null };
  });
  return { routes, refused };
}
