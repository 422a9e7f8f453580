/**
 * A project's rows → the spec that `apply` takes (docs/spec-format.md), so export → apply is a
 * no-op. Certificates are written as file references (key files 0600, only with a cert dir) or
 * listed by fingerprint; key material never goes to stdout.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Document } from 'yaml';
import { UserError, quote } from '../errors.js';
import { AtomicWriter } from '../fs/atomic.js';
import { routingExport, rowIdentity } from './fields-routing.js';
import { exportL4 } from './fields-l4.js';
import { fingerprintOf } from './pem.js';
import type { ProjectRows } from './rows.js';
import { sortRows } from './rows.js';
import { API_VERSION } from './spec.js';
import { DEFAULT_SHARD } from './write.js';
import { exportDomainTls, exportTransport, hasClientCertificates } from './tls-export.js';

/** Options of {@link exportSpec}. */
export interface ExportOptions {
  /** Write each certificate and key here (`<full_domain>.crt`/`.key`, mode 0600) and reference them. */
  readonly certDir?: string;
  /** Directory the spec will be read from (references are relative to it); default: the current directory. */
  readonly specDir?: string;
}

/** The spec text and the certificate files written. */
export interface Exported {
  readonly yaml: string;
  readonly files: string[];
}

function unique<T>(rows: readonly T[], key: (r: T) => string, what: string): void {
  const seen = new Set<string>();
  for (const r of rows) {
    const k = key(r);
    if (seen.has(k)) throw new UserError(`cannot export: ${what} ${quote(k)} appears twice in the database; delete one of the rows first`);
    seen.add(k);
  }
}

/** Build the spec of `rows` (and write certificate files when `certDir` is given). */
export async function exportSpec(input: ProjectRows, options: ExportOptions = {}): Promise<Exported> {
  const rows = sortRows(input);
  const services = new Map(rows.services.map((s) => [s.id, s.name]));
  const certs = new Map(rows.certificates.map((c) => [c.domain_config_id, c]));
  unique(rows.domains, (d) => d.full_domain, 'domain');
  unique(rows.routes, (r) => `${rows.domains.find((d) => d.id === r.domain_config_id)?.full_domain}${rowIdentity(r)}`, 'route');
  const files: string[] = [];
  const specDir = path.resolve(options.specDir ?? '.');
  if (options.certDir && (certs.size || hasClientCertificates(rows.routes))) await mkdir(options.certDir, { recursive: true, mode: 0o700 });

  const domains = [];
  for (const d of rows.domains) {
    const cert = certs.get(d.id);
    let certificate: Record<string, string> | undefined;
    if (cert && options.certDir && cert.key_pem) {
      const certFile = path.resolve(options.certDir, `${d.full_domain}.crt`);
      const keyFile = path.resolve(options.certDir, `${d.full_domain}.key`);
      // New files, 0600 from their first byte (an older file of that name is replaced, never reused
      // with its mode), and never through a link planted in the folder (fs/atomic.ts refuses it).
      const writer = new AtomicWriter(options.certDir);
      await writer.write(path.basename(certFile), cert.cert_pem, 0o600);
      await writer.write(path.basename(keyFile), cert.key_pem, 0o600);
      await writer.flush();
      files.push(certFile, keyFile);
      certificate = { certFile: path.relative(specDir, certFile), keyFile: path.relative(specDir, keyFile) };
    } else if (cert) {
      certificate = { fingerprint: fingerprintOf(cert.cert_pem) ?? 'sha256:unparseable' };
    }
    domains.push({
      domain: d.domain,
      ...(d.subdomain ? { subdomain: d.subdomain } : {}),
      ssl: d.ssl_enabled,
      ...(d.ssl_provider ? { provider: d.ssl_provider } : {}),
      ...(d.tls_sans ? { sans: [...d.tls_sans] } : {}),
      ...(d.is_active ? {} : { active: false }),
      ...(certificate ? { certificate } : {}),
      ...(d.redirect ? { redirect: d.redirect } : {}),
      ...(d.entry_points ? { entryPoints: [...d.entry_points] } : {}),
      ...exportDomainTls(d),
      routes: [] as Array<Record<string, unknown>>,
    });
    const own = rows.routes.filter((r) => r.domain_config_id === d.id);
    const transports: Array<Record<string, unknown> | undefined> = [];
    for (const r of own) transports.push(await exportTransport(r, d.full_domain, options.certDir, specDir, files));
    domains.at(-1)!.routes = own.map((r, i) => ({
      path: r.path_rule,
      service: services.get(r.service_id) ?? r.service_id,
      targetPort: r.target_port,
      ...(r.target_url ? { targetUrl: r.target_url } : {}),
      ...(r.priority !== 1 ? { priority: r.priority } : {}),
      ...(r.middleware ? { middleware: r.middleware } : {}),
      ...(r.health_check ? { healthCheck: r.health_check } : {}),
      ...(r.servers ? { servers: r.servers } : {}),
      ...(r.sticky ? { sticky: r.sticky } : {}),
      ...(r.pass_host_header ? {} : { passHostHeader: false }),
      ...routingExport(r),
      ...(r.entry_points ? { entryPoints: [...r.entry_points] } : {}),
      ...(transports[i] ? { transport: transports[i] } : {}),
      ...(r.is_active ? {} : { active: false }),
    }));
  }
  const spec = {
    apiVersion: API_VERSION,
    name: rows.project.name,
    ...(rows.project.shard && rows.project.shard !== DEFAULT_SHARD ? { shard: rows.project.shard } : {}),
    services: rows.services.map((s) => ({ name: s.name, ...(s.host ? { host: s.host } : {}) })),
    ...(rows.middlewares?.length ? { middlewares: rows.middlewares.map((m) => ({ name: m.name, ...m.middleware })) } : {}),
    domains,
    ...exportL4(rows.l4Routes ?? []),
  };
  const doc = new Document(spec, { aliasDuplicateObjects: false });
  const notes = [`traefik-sync project spec, exported from the database. Apply with: traefik-sync apply -f FILE`];
  if ((certs.size || hasClientCertificates(rows.routes)) && !options.certDir) {
    notes.push(
      'Certificates are listed by fingerprint: key material is never exported to stdout. `apply` keeps the',
      'stored certificate while the fingerprint matches; use `export --cert-dir DIR` to get certFile/keyFile references.',
    );
  }
  doc.commentBefore = notes.map((n) => ` ${n}`).join('\n');
  return { yaml: doc.toString({ lineWidth: 0, minContentWidth: 0 }), files };
}
