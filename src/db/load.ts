/**
 * Reading desired state: projects with their services, domains, routes and certificates,
 * in a deterministic order, in a few set-based queries (not one query per project).
 *
 * A sidecar started with SHARD reads its shard only (`shard` below; null = every project): its
 * projects, their versions and fingerprint, plus the tombstones of its deleted projects and the
 * projects being handed over from it to another shard (sql/006_shards.sql).
 */
import { sql, type Queryable } from './connect.js';
import type { ProjectState } from '../model.js';
import { handoffPending, type ShardMember } from './shards.js';
import {
  toState,
  type CertificateRow,
  type DomainRow,
  type L4RouteRow,
  type MiddlewareRow,
  type RouteRow,
  type ServiceRow,
} from './rows.js';

/** A project as one statement returns it: its columns, and its child rows as JSON arrays. */
interface LoadedRow {
  id: string;
  name: string;
  version: number | string | null;
  changed_at: Date | null;
  handoff_pending?: boolean;
  services: ServiceRow[];
  domains: DomainRow[];
  certificates: Array<Omit<CertificateRow, 'not_after'> & { not_after: string | null }>;
  routes: RouteRow[];
  middlewares: MiddlewareRow[];
  l4_routes: L4RouteRow[];
}

/** A project as loaded: its state, and whether it was moved into this shard and this replica has not recorded writing it yet. */
export type LoadedProject = ProjectState & { readonly handoffPending?: true };

/**
 * Load the desired state of the given projects (by id), or of every project when `ids` is
 * omitted (of `shard` only, when given). Projects that do not exist (or are in another shard)
 * are simply absent from the result.
 *
 * One statement per call, so each project is read from one snapshot (a change committed
 * meanwhile is either wholly in or wholly out) in one round trip; children come as JSON, and
 * become a {@link ProjectState} through rows.ts (the same function the config service's previews use).
 */
export async function loadProjects(db: Queryable, ids?: readonly string[], shard: ShardMember | null = null): Promise<LoadedProject[]> {
  const conditions = [...(ids ? [sql`p.id = ANY(${[...ids]}::uuid[])`] : []), ...(shard !== null ? [sql`p.shard = ${shard.name}`] : [])];
  const filter = conditions.length ? sql`WHERE ${sql.join(conditions, ' AND ')}` : sql``;
  const handoff = shard !== null ? handoffPending(shard) : sql`false`;
  const rows: LoadedRow[] = await db.query(sql`
    SELECT p.id, p.name, v.version, v.changed_at, ${handoff} AS handoff_pending,
           coalesce((SELECT json_agg(json_build_object('id', s.id, 'project_id', s.project_id, 'name', s.name, 'host', s.host))
                       FROM services s WHERE s.project_id = p.id), '[]') AS services,
           coalesce((SELECT json_agg(json_build_object(
                              'id', d.id, 'project_id', d.project_id, 'domain', d.domain, 'subdomain', d.subdomain,
                              'full_domain', d.full_domain, 'ssl_enabled', d.ssl_enabled, 'ssl_provider', d.ssl_provider,
                              'is_active', d.is_active, 'redirect', d.redirect, 'tls_sans', d.tls_sans,
                              'tls_options', d.tls_options, 'default_certificate', d.default_certificate,
                              'entry_points', d.entry_points))
                       FROM domain_configs d WHERE d.project_id = p.id), '[]') AS domains,
           coalesce((SELECT json_agg(json_build_object(
                              'id', c.id, 'domain_config_id', c.domain_config_id, 'cert_pem', c.cert_pem,
                              'key_pem', c.key_pem, 'not_after', c.not_after))
                       FROM certificates c JOIN domain_configs d ON d.id = c.domain_config_id
                      WHERE d.project_id = p.id), '[]') AS certificates,
           coalesce((SELECT json_agg(json_build_object(
                              'id', r.id, 'domain_config_id', r.domain_config_id, 'service_id', r.service_id,
                              'path_rule', r.path_rule, 'priority', r.priority, 'middleware', r.middleware,
                              'target_port', r.target_port, 'target_url', r.target_url, 'health_check', r.health_check,
                              'is_active', r.is_active, 'servers', r.servers, 'sticky', r.sticky,
                              'pass_host_header', r.pass_host_header, 'split', r.split, 'failover', r.failover,
                              'path_match', r.path_match, 'headers', r.headers, 'methods', r.methods,
                              'transport', r.transport, 'key_pem', r.key_pem, 'entry_points', r.entry_points))
                       FROM route_configs r JOIN domain_configs d ON d.id = r.domain_config_id
                      WHERE d.project_id = p.id), '[]') AS routes,
           coalesce((SELECT json_agg(json_build_object('id', m.id, 'project_id', m.project_id, 'name', m.name, 'middleware', m.middleware))
                       FROM project_middlewares m WHERE m.project_id = p.id), '[]') AS middlewares,
           coalesce((SELECT json_agg(to_jsonb(l) - 'created_at' - 'updated_at') FROM l4_routes l WHERE l.project_id = p.id), '[]') AS l4_routes
      FROM projects p LEFT JOIN project_versions v ON v.project_id = p.id
      ${filter} ORDER BY p.name`);
  return rows.map((p) => {
    const state = toState(
      {
        project: { id: p.id, name: p.name },
        services: p.services,
        domains: p.domains,
        certificates: p.certificates.map((c) => ({ ...c, not_after: c.not_after === null ? null : new Date(c.not_after) })),
        routes: p.routes,
        middlewares: p.middlewares,
        l4Routes: p.l4_routes,
      },
      Number(p.version ?? 0),
      p.changed_at,
    );
    return p.handoff_pending ? { ...state, handoffPending: true } : state;
  });
}

/** Every project's id and name (of `shard` only, when given), in name order (a full pass walks them in batches). */
export async function listProjectRefs(db: Queryable, shard: string | null = null): Promise<Array<{ id: string; name: string }>> {
  const rows =
    shard === null
      ? await db.query(sql`SELECT id, name FROM projects ORDER BY name`)
      : await db.query(sql`SELECT id, name FROM projects WHERE shard = ${shard} ORDER BY name`);
  return rows.map((r) => ({ id: r.id as string, name: r.name as string }));
}

/**
 * The version rows a shard's sidecar watches: its projects' (tombstones of deleted ones included:
 * a tombstone keeps the project's last shard) and those of projects handed over from it to
 * another shard, whose files it still has until the new shard has written them.
 */
function shardVersions(shard: string | null) {
  return shard === null
    ? sql`project_versions v`
    : sql`project_versions v WHERE v.shard = ${shard}
            OR EXISTS (SELECT 1 FROM shard_handoffs h WHERE h.project_id = v.project_id AND h.from_shard = ${shard})`;
}

/** Every project's change version, including tombstones of deleted projects (of `shard`, see above). */
export async function loadVersions(db: Queryable, shard: string | null = null): Promise<Map<string, number>> {
  const rows = await db.query(sql`SELECT v.project_id, v.version FROM ${shardVersions(shard)}`);
  return new Map(rows.map((r) => [r.project_id as string, Number(r.version)]));
}

/**
 * For each of these projects, how many projects the transaction that last changed it changed in
 * all: a burst of notifications is one bulk transaction, or several small ones that arrived
 * together, and a bulk one may arrive over several bursts.
 */
export async function lastWriters(db: Queryable, ids: readonly string[]): Promise<Map<string, number>> {
  const rows = await db.query(sql`
    WITH mine AS (SELECT project_id, xmin::text AS tx FROM project_versions WHERE project_id = ANY(${[...ids]}::uuid[])),
         sizes AS (SELECT xmin::text AS tx, count(*) AS n FROM project_versions
                    WHERE xmin::text IN (SELECT tx FROM mine) GROUP BY xmin::text)
    SELECT mine.project_id, sizes.n FROM mine JOIN sizes USING (tx)`);
  return new Map(rows.map((r) => [r.project_id as string, Number(r.n)]));
}

/** One small query that changes whenever any project's output may have changed (any of `shard`'s, see above). */
export async function changeFingerprint(db: Queryable, shard: string | null = null): Promise<string> {
  const [row] = await db.query(sql`SELECT count(*) AS n, coalesce(sum(v.version), 0) AS s FROM ${shardVersions(shard)}`);
  return `${row?.n}:${row?.s}`;
}

/** Projects whose deletion was recorded (tombstones) with their final version, optionally limited to `ids`. */
export async function loadTombstones(db: Queryable, ids?: readonly string[]): Promise<Map<string, number>> {
  const rows = ids
    ? await db.query(sql`SELECT project_id, version FROM project_versions WHERE deleted AND project_id = ANY(${[...ids]}::uuid[])`)
    : await db.query(sql`SELECT project_id, version FROM project_versions WHERE deleted`);
  return new Map(rows.map((r) => [r.project_id as string, Number(r.version)]));
}
