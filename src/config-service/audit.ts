/**
 * Reading the audit log of one project: its entries, the project's id by name (also after it was
 * deleted), and the project's rows as of an audit entry or a time. Key material is never in the
 * audit log (the trigger strips key_pem), so certificates come back without their key.
 */
import { l4RowOf } from './l4-rows.js';
import { sql, type Queryable } from '../db/connect.js';
import { UserError, quote } from '../errors.js';
import {
  DOMAIN_DEFAULTS,
  ROUTE_DEFAULTS,
  type CertificateRow,
  type DomainRow,
  type MiddlewareRow,
  type ProjectRow,
  type ProjectRows,
  type RouteRow,
  type ServiceRow,
} from './rows.js';

/** One audit_log row. */
export interface AuditEntry {
  readonly id: number;
  readonly at: Date;
  readonly actor: string;
  readonly table: string;
  readonly op: 'INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE';
  readonly rowId: string | null;
  readonly oldRow: Record<string, unknown> | null;
  readonly newRow: Record<string, unknown> | null;
}

/** A point in the audit log: an entry id (state after it) or a time (state at it). */
export type AuditPoint = { readonly id: number } | { readonly time: Date };

/** Parse `--to`: digits are an audit id, anything else an ISO-8601 time. */
export function parsePoint(text: string): AuditPoint {
  if (/^\d{1,18}$/.test(text)) return { id: Number(text) };
  const t = Date.parse(text);
  if (Number.isNaN(t) || !/^\d{4}-\d\d-\d\d/.test(text)) {
    throw new UserError(`--to: expected an audit entry id (digits) or an ISO-8601 time like 2025-01-31T12:00:00Z, got ${quote(text)}`);
  }
  return { time: new Date(t) };
}

/** The id of the project named `name`: the live one, else the last one of that name in the audit log. */
export async function projectIdByName(q: Queryable, name: string): Promise<{ id: string; live: boolean }> {
  const [live] = await q.query(sql`SELECT id FROM projects WHERE name = ${name}`);
  if (live) return { id: live.id as string, live: true };
  const [gone] = await q.query(sql`SELECT row_id FROM audit_log WHERE table_name = 'projects'
                                     AND (old_row->>'name' = ${name} OR new_row->>'name' = ${name}) ORDER BY id DESC LIMIT 1`);
  if (gone?.row_id) return { id: gone.row_id as string, live: false };
  throw new UserError(`--project: no project named ${quote(name)}, now or in the audit log`);
}

/** Entries of a project, oldest first (or the newest `limit`, newest first). */
export async function loadEntries(q: Queryable, projectId: string, limit?: number): Promise<AuditEntry[]> {
  const rows =
    limit === undefined
      ? await q.query(sql`SELECT * FROM audit_log WHERE project_id = ${projectId} ORDER BY id`)
      : await q.query(sql`SELECT * FROM audit_log WHERE project_id = ${projectId} ORDER BY id DESC LIMIT ${limit}`);
  return rows.map((r) => ({
    id: Number(r.id),
    at: r.at,
    actor: r.actor,
    table: r.table_name,
    op: r.op,
    rowId: r.row_id,
    oldRow: r.old_row,
    newRow: r.new_row,
  }));
}

/** The last audit id at `point` (an id must exist; a time maps to the last entry at or before it). */
export async function resolvePoint(q: Queryable, point: AuditPoint): Promise<{ id: number; at: Date }> {
  if ('id' in point) {
    const [row] = await q.query(sql`SELECT id, at FROM audit_log WHERE id = ${point.id}`);
    if (!row) throw new UserError(`--to: there is no audit entry ${point.id}`);
    return { id: Number(row.id), at: row.at };
  }
  const [row] = await q.query(sql`SELECT id, at FROM audit_log WHERE at <= ${point.time} ORDER BY id DESC LIMIT 1`);
  if (!row) throw new UserError(`--to: the audit log has no entry at or before ${point.time.toISOString()}`);
  return { id: Number(row.id), at: row.at };
}

/**
 * The columns added to a table after the seed's, from an audit row: entries written before a
 * column existed do not hold it, and get its default (the value the migration gave old rows).
 */
function laterColumns<T extends object>(defaults: T, r: Record<string, unknown>): T {
  return Object.fromEntries(Object.entries(defaults).map(([k, d]) => [k, r[k] ?? d])) as T;
}

const TABLES = ['projects', 'services', 'project_middlewares', 'domain_configs', 'certificates', 'route_configs', 'l4_routes'];

/**
 * The project's rows just after audit entry `upTo`: per row, its last entry up to then (gone if a
 * DELETE), else the `old_row` of its first later entry (gone if an INSERT). Rows the log knows
 * nothing about are taken from `current`. Null when the project did not exist at that point.
 */
export function rowsAt(entries: readonly AuditEntry[], upTo: number, current: ProjectRows | null): ProjectRows | null {
  const byRow = new Map<string, AuditEntry[]>();
  for (const e of entries) {
    if (!e.rowId || !TABLES.includes(e.table)) continue;
    const key = `${e.table}:${e.rowId}`;
    byRow.set(key, [...(byRow.get(key) ?? []), e]);
  }
  const state = new Map<string, Record<string, unknown>>();
  for (const [key, list] of byRow) {
    const before = list.filter((e) => e.id <= upTo).at(-1);
    const after = list.find((e) => e.id > upTo);
    const row = before ? (before.op === 'DELETE' ? null : before.newRow) : after && after.op !== 'INSERT' ? after.oldRow : null;
    if (row) state.set(key, row);
  }
  if (current) {
    const keep = (table: string, rows: ReadonlyArray<{ id: string }>) => {
      for (const r of rows) if (!byRow.has(`${table}:${r.id}`)) state.set(`${table}:${r.id}`, r as unknown as Record<string, unknown>);
    };
    keep('projects', [current.project]);
    keep('services', current.services);
    keep('project_middlewares', current.middlewares ?? []);
    keep('domain_configs', current.domains);
    keep('certificates', current.certificates);
    keep('route_configs', current.routes);
    keep('l4_routes', current.l4Routes ?? []);
  }
  const all = (table: string) => [...state].filter(([k]) => k.startsWith(`${table}:`)).map(([, v]) => v);
  const project = all('projects')[0];
  if (!project) return null;
  // A row that had moved to another project by then is not this project's (nor its routes and
  // certificates, which follow their domain).
  const own = (r: Record<string, unknown>) => String(r.project_id) === String(project.id);
  const domainIds = new Set(
    all('domain_configs')
      .filter(own)
      .map((r) => String(r.id)),
  );
  const of = (table: string) =>
    all(table).filter((r) =>
      table === 'services' || table === 'domain_configs' || table === 'project_middlewares' || table === 'l4_routes'
        ? own(r)
        : table === 'route_configs' || table === 'certificates'
          ? domainIds.has(String(r.domain_config_id))
          : true,
    );
  const date = (v: unknown) => (v === null || v === undefined ? null : new Date(String(v)));
  return {
    project: {
      id: String(project.id),
      name: String(project.name),
      // Entries from before sql/006_shards.sql have no shard: the project stays where it is.
      ...(typeof project.shard === 'string' ? { shard: project.shard } : {}),
    } satisfies ProjectRow,
    services: of('services').map(
      (r) =>
        ({
          id: String(r.id),
          project_id: String(r.project_id),
          name: String(r.name),
          host: (r.host ?? null) as string | null,
        }) satisfies ServiceRow,
    ),
    domains: of('domain_configs').map(
      (r) =>
        ({
          id: String(r.id),
          project_id: String(r.project_id),
          domain: String(r.domain),
          subdomain: (r.subdomain ?? null) as string | null,
          full_domain: String(r.full_domain),
          ssl_enabled: Boolean(r.ssl_enabled),
          ssl_provider: (r.ssl_provider ?? null) as string | null,
          is_active: Boolean(r.is_active),
          ...laterColumns(DOMAIN_DEFAULTS, r),
        }) satisfies DomainRow,
    ),
    certificates: of('certificates').map(
      (r) =>
        ({
          id: String(r.id),
          domain_config_id: String(r.domain_config_id),
          cert_pem: String(r.cert_pem),
          key_pem: typeof r.key_pem === 'string' ? r.key_pem : null,
          not_after: r.not_after instanceof Date ? r.not_after : date(r.not_after),
        }) satisfies CertificateRow,
    ),
    routes: of('route_configs').map(
      (r) =>
        ({
          id: String(r.id),
          domain_config_id: String(r.domain_config_id),
          service_id: String(r.service_id),
          path_rule: String(r.path_rule),
          priority: Number(r.priority),
          middleware: (r.middleware ?? null) as RouteRow['middleware'],
          target_port: Number(r.target_port),
          target_url: (r.target_url ?? null) as string | null,
          health_check: (r.health_check ?? null) as RouteRow['health_check'],
          is_active: Boolean(r.is_active),
          ...laterColumns(ROUTE_DEFAULTS, r),
        }) satisfies RouteRow,
    ),
    middlewares: of('project_middlewares').map(
      (r) =>
        ({
          id: String(r.id),
          project_id: String(r.project_id),
          name: String(r.name),
          middleware: r.middleware as MiddlewareRow['middleware'],
        }) satisfies MiddlewareRow,
    ),
    l4Routes: of('l4_routes').map(l4RowOf),
  };
}
