/** Per-replica status rows and drift records (each replica writes its own). */
import { redact } from '../redact.js';
import { sql, type Queryable } from './connect.js';

export interface ReplicaStatus {
  readonly replicaId: string;
  readonly isLeader: boolean;
  readonly lastSyncAt: Date | null;
  readonly lastSuccessAt: Date | null;
  readonly lastError: string | null;
  readonly driftCount: number;
  readonly projectsFailed: number;
  /** The shard the replica serves; null = every project. */
  readonly shard: string | null;
}

/** Upsert this replica's status row (the last error redacted: other roles read this table). */
export async function upsertReplicaStatus(db: Queryable, s: ReplicaStatus): Promise<void> {
  await db.query(sql`
    INSERT INTO sync_replicas (replica_id, is_leader, last_sync_at, last_success_at, last_error, drift_count, projects_failed, shard, updated_at)
    VALUES (${s.replicaId}, ${s.isLeader}, ${s.lastSyncAt}, ${s.lastSuccessAt}, ${s.lastError === null ? null : redact(s.lastError)},
            ${s.driftCount}, ${s.projectsFailed}, ${s.shard}, now())
    ON CONFLICT (replica_id) DO UPDATE SET
      is_leader = excluded.is_leader, last_sync_at = excluded.last_sync_at, last_success_at = excluded.last_success_at,
      last_error = excluded.last_error, drift_count = excluded.drift_count, projects_failed = excluded.projects_failed,
      shard = excluded.shard, updated_at = now()`);
}

export interface DriftRecord {
  readonly projectId: string | null;
  readonly path: string;
  readonly kind: 'modified' | 'missing' | 'unexpected';
  readonly repaired: boolean;
}

/** Record drift found by `replicaId`. */
export async function recordDrift(db: Queryable, replicaId: string, items: readonly DriftRecord[]): Promise<void> {
  if (items.length === 0) return;
  await db.query(sql`
    INSERT INTO drift_events (replica_id, project_id, file_path, kind, repaired, repaired_at)
    SELECT ${replicaId}, p, f, k, r, CASE WHEN r THEN now() END
      FROM unnest(${items.map((i) => i.projectId)}::uuid[], ${items.map((i) => i.path)}::text[],
                  ${items.map((i) => i.kind)}::text[], ${items.map((i) => i.repaired)}::boolean[]) AS t(p, f, k, r)`);
}

/** Leader housekeeping: forget drift records, replica rows and finished shard handoffs older than `days`. */
export async function pruneOld(db: Queryable, days = 30): Promise<void> {
  await db.query(sql`DELETE FROM drift_events WHERE detected_at < now() - make_interval(days => ${days})`);
  await db.query(sql`DELETE FROM sync_replicas WHERE updated_at < now() - make_interval(days => ${days})`);
  await db.query(sql`DELETE FROM shard_handoffs WHERE moved_at < now() - make_interval(days => ${days})`);
  await db.query(sql`DELETE FROM shard_handoff_writes WHERE written_at < now() - make_interval(days => ${days})`);
  await db.query(sql`DELETE FROM shard_members WHERE updated_at < now() - make_interval(days => ${days})`);
}

/**
 * Custom certificates of active domains with their expiry (for the expiry metric). Tables in the
 * order TRUNCATE domain_configs CASCADE locks them (domain_configs first), so the two cannot
 * deadlock.
 */
export async function loadCertificateExpiry(db: Queryable): Promise<Array<{ domain: string; notAfter: Date }>> {
  const rows = await db.query(sql`
    SELECT d.full_domain, c.not_after FROM domain_configs d JOIN certificates c ON c.domain_config_id = d.id
     WHERE d.is_active AND d.ssl_enabled AND d.ssl_provider = 'custom' AND c.not_after IS NOT NULL ORDER BY 1`);
  return rows.map((r) => ({ domain: r.full_domain as string, notAfter: r.not_after as Date }));
}
