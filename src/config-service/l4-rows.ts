/**
 * `l4_routes` rows (sql/022_tcp_udp_routes.sql) in the config service: how a row is named in
 * `apply --dry-run` and `history`, and read back from an audit entry for `rollback`.
 */
import type { L4RouteRow } from './rows.js';

type Row = Readonly<Record<string, unknown>>;

/** `tcp route db (postgres db.example.com)`, `udp route dns (dns)`: a row's label in diffs and history. */
export function l4Label(r: Row): string {
  const where = r.protocol === 'tcp' ? `${String(r.entry_point)} ${String(r.sni)}` : String(r.entry_point);
  const tls = r.tls ? `, tls ${String(r.tls)}` : '';
  return `${String(r.protocol)} route ${String(r.name)} (${where}${tls}${r.is_active === false ? ', inactive' : ''})`;
}

/** An `l4_routes` row as an audit entry holds it. */
export function l4RowOf(r: Row): L4RouteRow {
  return {
    id: String(r.id),
    project_id: String(r.project_id),
    protocol: r.protocol === 'udp' ? 'udp' : 'tcp',
    name: String(r.name),
    entry_point: String(r.entry_point),
    sni: (r.sni ?? null) as string | null,
    tls: (r.tls ?? null) as L4RouteRow['tls'],
    tls_resolver: (r.tls_resolver ?? null) as string | null,
    servers: (r.servers ?? []) as L4RouteRow['servers'],
    proxy_protocol: (r.proxy_protocol ?? null) as L4RouteRow['proxy_protocol'],
    is_active: r.is_active !== false,
  };
}
