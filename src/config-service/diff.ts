/**
 * Current rows vs target rows → the row changes (create / update / delete, by id), and writing
 * them in an order the constraints accept. Only rows that differ are written, so applying the
 * same state twice changes nothing and adds nothing to the audit log.
 */
import { sql, type Queryable } from '../db/connect.js';
import { routeMatchLabel } from './fields-routing.js';
import { l4Label } from './l4-rows.js';
import { COLUMNS, TABLES, type ProjectRows, type RowTable } from './rows.js';

type Row = { readonly id: string } & Readonly<Record<string, unknown>>;

/** One row to create, update or delete. */
export interface RowChange {
  readonly op: 'create' | 'update' | 'delete';
  /** `projects` only for a project created or renamed (written by writeProject). */
  readonly table: RowTable | 'projects';
  readonly id: string;
  /** Human name of the row: `route shop.example/api`. */
  readonly label: string;
  /** Target row (create, update) or current row (delete). */
  readonly row: Row;
  /** Changed columns with old and new values (update only). */
  readonly fields: ReadonlyArray<{ readonly column: string; readonly before: unknown; readonly after: unknown }>;
}

/** Canonical JSON (object keys sorted) for comparing jsonb and other values. */
export function canonical(v: unknown): string {
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

const KEYS: Record<RowTable, keyof ProjectRows> = {
  services: 'services',
  project_middlewares: 'middlewares',
  domain_configs: 'domains',
  certificates: 'certificates',
  route_configs: 'routes',
  l4_routes: 'l4Routes',
};

/** Labels for rows, using both states to name domains and services. */
function labeler(current: ProjectRows, target: ProjectRows): (table: RowTable, row: Row) => string {
  const domains = new Map<string, string>();
  const services = new Map<string, string>();
  for (const rows of [current, target]) {
    for (const d of rows.domains) domains.set(d.id, d.full_domain);
    for (const s of rows.services) services.set(s.id, s.name);
  }
  return (table, row) => {
    if (table === 'services') return `service ${String(row.name)}`;
    if (table === 'project_middlewares') return `middleware ${String(row.name)}`;
    if (table === 'l4_routes') return l4Label(row);
    if (table === 'domain_configs') return `domain ${String(row.full_domain)}`;
    const domain = domains.get(String(row.domain_config_id)) ?? String(row.domain_config_id);
    if (table === 'certificates') return `certificate of ${domain}`;
    return `route ${domain}${String(row.path_rule)}${routeMatchLabel(row)} → ${services.get(String(row.service_id)) ?? '?'}`;
  };
}

/** The changes that turn `current` into `target` (rows matched by id). */
export function diffRows(current: ProjectRows, target: ProjectRows): RowChange[] {
  const label = labeler(current, target);
  const changes: RowChange[] = [];
  for (const table of TABLES) {
    const before = new Map(((current[KEYS[table]] ?? []) as unknown as readonly Row[]).map((r) => [r.id, r]));
    const after = new Map(((target[KEYS[table]] ?? []) as unknown as readonly Row[]).map((r) => [r.id, r]));
    for (const [id, row] of after) {
      const old = before.get(id);
      if (!old) {
        changes.push({ op: 'create', table, id, label: label(table, row), row, fields: [] });
        continue;
      }
      const fields = COLUMNS[table]
        .filter((c) => !(table === 'certificates' && c === 'not_after'))
        .filter((c) => canonical(old[c]) !== canonical(row[c]))
        .map((c) => ({ column: c, before: old[c], after: row[c] }));
      if (fields.length) changes.push({ op: 'update', table, id, label: label(table, row), row, fields });
    }
    for (const [id, row] of before)
      if (!after.has(id)) changes.push({ op: 'delete', table, id, label: label(table, row), row, fields: [] });
  }
  return changes;
}

/** Columns stored as jsonb (sent as JSON text and cast). */
const JSONB: ReadonlySet<string> = new Set([
  'middleware',
  'health_check',
  'servers',
  'sticky',
  'redirect',
  'split',
  'failover',
  'headers',
  'methods',
  'transport',
  'tls_options',
]);

/** Values of NOT NULL columns for rows built before the column existed (API calls that do not set them). */
const NOT_NULL_DEFAULTS: Readonly<Record<string, unknown>> = { default_certificate: false };

function value(column: string, v: unknown): unknown {
  if (JSONB.has(column)) return v === null || v === undefined ? null : JSON.stringify(v);
  return v ?? NOT_NULL_DEFAULTS[column] ?? null;
}

/** `value` as a query parameter, cast to jsonb where the column is one. */
function param(column: string, v: unknown) {
  return JSONB.has(column) ? sql`${value(column, v)}::jsonb` : sql`${value(column, v)}`;
}

async function insert(q: Queryable, c: RowChange & { table: RowTable }): Promise<void> {
  const cols = COLUMNS[c.table];
  const casts = cols.map((col) => param(col, c.row[col]));
  await q.query(sql`INSERT INTO ${sql.ident(c.table)} (id, ${sql.join(
    cols.map((col) => sql.ident(col)),
    ', ',
  )})
                    VALUES (${c.id}, ${sql.join(casts, ', ')})`);
}

async function update(q: Queryable, c: RowChange & { table: RowTable }): Promise<void> {
  const cols = COLUMNS[c.table].filter((col) => !(c.table === 'certificates' && col === 'key_pem' && c.row.key_pem === null));
  const sets = cols.map((col) => sql`${sql.ident(col)} = ${param(col, c.row[col])}`);
  await q.query(sql`UPDATE ${sql.ident(c.table)} SET ${sql.join(sets, ', ')} WHERE id = ${c.id}`);
}

/** Unique keys the updates of a table may trade between rows (the partial indexes cover active rows). */
const SWAPPABLE: Partial<Record<RowTable, readonly string[]>> = {
  services: ['name'],
  domain_configs: ['domain', 'subdomain', 'full_domain'],
  route_configs: ['domain_config_id', 'path_rule', 'path_match', 'headers', 'methods'],
  l4_routes: ['entry_point', 'sni'],
};

/**
 * Two rows that trade a unique key (two routes swapping paths, two services swapping names: a
 * rollback over such a history) cannot be updated one after the other; the unique indexes check
 * each statement. So the rows whose key changes first step out of the way: a name of their own,
 * or inactive (out of the partial index). Their final update then sets the target values.
 */
async function clearKeys(q: Queryable, table: RowTable, updates: ReadonlyArray<RowChange & { table: RowTable }>): Promise<void> {
  const keys = SWAPPABLE[table];
  const moving = updates.filter((c) => c.fields.some((f) => keys?.includes(f.column)));
  if (moving.length < 2) return;
  for (const c of moving) {
    if (table === 'services')
      await q.query(sql`UPDATE services SET name = ${`tmp-${c.id.replace(/-/g, '').slice(0, 32)}`} WHERE id = ${c.id}`);
    else await q.query(sql`UPDATE ${sql.ident(table)} SET is_active = false WHERE id = ${c.id}`);
  }
}

/**
 * Write `changes` in an order the constraints accept: removed routes and certificates first,
 * then services, domains (deactivations first, so an active domain can move), certificates and
 * routes, and last the services and domains that routes referred to until now.
 */
export async function writeChanges(q: Queryable, changes: readonly RowChange[], current: ProjectRows): Promise<void> {
  const of = (table: RowTable, op: RowChange['op']) =>
    changes.filter((c): c is RowChange & { table: RowTable } => c.table === table && c.op === op);
  const deactivatesFirst = <T extends RowChange>(list: T[]) =>
    [...list].sort((a, b) => Number(b.row.is_active === false) - Number(a.row.is_active === false));
  const del = async (c: RowChange) => {
    await q.query(sql`DELETE FROM ${sql.ident(c.table)} WHERE id = ${c.id}`);
  };
  const removedRoutes = new Set(of('route_configs', 'delete').map((c) => c.id));
  const stillReferenced = new Set<string>();
  for (const r of current.routes) {
    if (removedRoutes.has(r.id)) continue;
    stillReferenced.add(r.service_id);
    stillReferenced.add(r.domain_config_id);
  }
  const late: RowChange[] = [];

  for (const c of of('route_configs', 'delete')) await del(c);
  for (const c of of('certificates', 'delete')) await del(c);
  for (const c of of('project_middlewares', 'delete')) await del(c);
  for (const c of of('l4_routes', 'delete')) await del(c);
  for (const table of ['services', 'domain_configs'] as const) {
    for (const c of of(table, 'delete')) {
      if (stillReferenced.has(c.id)) late.push(c);
      else await del(c);
    }
  }
  for (const table of ['services', 'project_middlewares', 'domain_configs', 'certificates', 'route_configs', 'l4_routes'] as const) {
    await clearKeys(q, table, of(table, 'update'));
    for (const c of deactivatesFirst(of(table, 'update'))) await update(q, c);
    for (const c of of(table, 'create')) await insert(q, c);
  }
  for (const c of late.filter((l) => l.table === 'domain_configs')) await del(c);
  for (const c of late.filter((l) => l.table === 'services')) await del(c);
}
