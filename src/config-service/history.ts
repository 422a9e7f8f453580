/**
 * `history`: the audit log of one project in words — who changed what, when. Rows are named by
 * their natural keys (domain, route path, service); certificates by fingerprint; keys never.
 */
import { sql, type Queryable } from '../db/connect.js';
import { quote } from '../errors.js';
import { loadEntries, projectIdByName, type AuditEntry } from './audit.js';
import { safeValue } from './describe.js';
import { routeMatchLabel } from './fields-routing.js';
import { fingerprintOf } from './pem.js';

/** One audit entry, summarized. */
export interface HistoryEntry {
  readonly id: number;
  readonly at: Date;
  readonly actor: string;
  readonly table: string;
  readonly op: AuditEntry['op'];
  readonly rowId: string | null;
  /** `route shop.example/api → api:3000`, plus changed fields for an update. */
  readonly summary: string;
}

const IGNORED = new Set(['created_at', 'updated_at', 'key_pem', 'not_after']);

type Row = Record<string, unknown>;

function describeRow(table: string, r: Row, names: { domains: Map<string, string>; services: Map<string, string> }): string {
  switch (table) {
    case 'projects':
      return `project ${String(r.name)}`;
    case 'services':
      return `service ${String(r.name)}${r.host ? ` (host ${String(r.host)})` : ''}`;
    case 'project_middlewares':
      return `middleware ${String(r.name)} (${Object.keys((r.middleware as object | null) ?? {}).join(', ')})`;
    case 'domain_configs': {
      const tls = !r.ssl_enabled ? 'http only' : r.ssl_provider ? `ssl ${String(r.ssl_provider)}` : 'ssl default certificate';
      return `domain ${String(r.full_domain)} (${tls}${r.is_active === false ? ', inactive' : ''})`;
    }
    case 'route_configs': {
      const domain = names.domains.get(String(r.domain_config_id)) ?? '?';
      const service = names.services.get(String(r.service_id)) ?? '?';
      return `route ${domain}${String(r.path_rule)}${routeMatchLabel(r)} → ${service}:${String(r.target_port)}${r.is_active === false ? ' (inactive)' : ''}`;
    }
    case 'certificates': {
      const domain = names.domains.get(String(r.domain_config_id)) ?? '?';
      return `certificate of ${domain} (${fingerprintOf(String(r.cert_pem)) ?? 'unparseable'})`;
    }
    default:
      return table;
  }
}

function changed(oldRow: Row, newRow: Row): string {
  const parts: string[] = [];
  for (const k of Object.keys(newRow)) {
    if (IGNORED.has(k)) continue;
    const a = JSON.stringify(oldRow[k] ?? null);
    const b = JSON.stringify(newRow[k] ?? null);
    if (a === b) continue;
    const show = (v: unknown) => {
      const s = safeValue(k, v);
      return typeof s === 'string' && s.startsWith('(') ? s : quote(s ?? null, 60);
    };
    parts.push(`${k} ${show(oldRow[k])} → ${show(newRow[k])}`);
  }
  return parts.join(', ');
}

/** Summarize one entry (names resolved from the whole log of the project). */
export function summarize(e: AuditEntry, names: { domains: Map<string, string>; services: Map<string, string> }): string {
  if (e.op === 'TRUNCATE') return `${e.table} truncated`;
  const row = (e.newRow ?? e.oldRow ?? {}) as Row;
  const what = describeRow(e.table, row, names);
  if (e.op === 'UPDATE' && e.oldRow && e.newRow) {
    const diff = changed(e.oldRow, e.newRow);
    return diff ? `${what}: ${diff}` : what;
  }
  return what;
}

/** The newest `limit` entries of project `name` (live, or deleted but in the log). */
export async function projectHistory(db: Queryable, name: string, limit: number): Promise<{ projectId: string; entries: HistoryEntry[] }> {
  const { id } = await projectIdByName(db, name);
  const entries = await loadEntries(db, id, Math.max(1, Math.min(limit, 10_000)));
  const rows = await db.query(sql`SELECT table_name, row_id, coalesce(new_row, old_row) AS r FROM audit_log
                                    WHERE project_id = ${id} AND table_name IN ('domain_configs', 'services') ORDER BY id`);
  const names = { domains: new Map<string, string>(), services: new Map<string, string>() };
  for (const r of rows) {
    if (r.table_name === 'domain_configs') names.domains.set(r.row_id, r.r.full_domain);
    else names.services.set(r.row_id, r.r.name);
  }
  return {
    projectId: id,
    entries: entries.map((e) => ({
      id: e.id,
      at: e.at,
      actor: e.actor,
      table: e.table,
      op: e.op,
      rowId: e.rowId,
      summary: summarize(e, names),
    })),
  };
}
