/**
 * Handing a project over from one shard to another (sql/006_shards.sql): every sidecar of the new
 * shard records that it has written the project (shard_handoff_writes); the old shard's sidecars
 * keep its files until every live sidecar of the new shard has (live: its session connection is
 * a backend of the server now, shard_members), plus a drain, or until a timeout. Times are the
 * database's, so every replica agrees.
 */
import { sql, type Queryable } from './connect.js';

/** Where a project moved away from this shard stands, seen from a replica that still has its files. */
export interface Handoff {
  readonly projectId: string;
  readonly projectName: string;
  /** The shard the project belongs to now. */
  readonly toShard: string;
  /**
   * `waiting`: not every live replica of the new shard has written it yet, or the last did less
   * than the drain ago: keep the files. `released`: remove them. `timed-out`: the new shard did
   * not write it within the timeout (no live replica, or one failing): remove them anyway (reported).
   */
  readonly state: 'waiting' | 'released' | 'timed-out';
  readonly movedAt: Date;
  /** Live replicas of the new shard, and how many of them have written the project. */
  readonly live: number;
  readonly written: number;
  /** When the last of them wrote it (null: not all have). */
  readonly writtenAt: Date | null;
  /** While waiting: when to look again (ms from now) if no notification comes first. */
  readonly recheckInMs: number;
}

/** A sharded replica: its shard and its id. */
export interface ShardMember {
  readonly name: string;
  readonly replicaId: string;
}

/** A replica's session connection (pid, start) is a backend of the server right now. */
const LIVE = sql`EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = m.session_pid AND a.backend_start = m.session_start)`;

/**
 * The handoffs of these projects that are under way to the shard each belongs to now (a project
 * moved back and forth: its last move). Projects without one are absent.
 */
export async function loadHandoffs(
  db: Queryable,
  ids: readonly string[],
  timing: { readonly drainMs: number; readonly timeoutMs: number },
): Promise<Map<string, Handoff>> {
  if (ids.length === 0) return new Map();
  const rows = await db.query(sql`
    WITH h AS (
      SELECT h.project_id, p.name, h.to_shard, h.moved_at,
             (SELECT count(*) FROM shard_members m WHERE m.shard = h.to_shard AND ${LIVE}) AS live,
             (SELECT count(*) FROM shard_members m JOIN shard_handoff_writes w ON w.replica_id = m.replica_id
               WHERE m.shard = h.to_shard AND ${LIVE} AND w.project_id = h.project_id AND w.written_at >= h.moved_at) AS written,
             (SELECT max(w.written_at) FROM shard_handoff_writes w
               WHERE w.project_id = h.project_id AND w.written_at >= h.moved_at) AS last_written
        FROM shard_handoffs h JOIN projects p ON p.id = h.project_id AND p.shard = h.to_shard
       WHERE h.project_id = ANY(${[...ids]}::uuid[]))
    SELECT *, CASE WHEN live > 0 AND written = live THEN last_written END AS written_at,
           ceil(greatest(0, extract(epoch FROM (CASE WHEN live > 0 AND written = live
                                                     THEN least(last_written + make_interval(secs => ${timing.drainMs / 1000}),
                                                                moved_at + make_interval(secs => ${timing.timeoutMs / 1000}))
                                                     ELSE moved_at + make_interval(secs => ${timing.timeoutMs / 1000}) END)
                                             - clock_timestamp()) * 1000)) AS wait_ms
      FROM h`);
  return new Map(
    rows.map((r) => {
      const waitMs = Number(r.wait_ms);
      const state = waitMs > 0 ? 'waiting' : r.written_at ? 'released' : 'timed-out';
      return [
        r.project_id as string,
        {
          projectId: r.project_id as string,
          projectName: r.name as string,
          toShard: r.to_shard as string,
          state,
          movedAt: r.moved_at as Date,
          live: Number(r.live),
          written: Number(r.written),
          writtenAt: (r.written_at as Date | null) ?? null,
          recheckInMs: waitMs,
        } satisfies Handoff,
      ];
    }),
  );
}

/** This replica (of `shard`) has written these projects, moved into it: record it (which wakes the old shard's sidecars). */
export async function recordHandoffsWritten(db: Queryable, ids: readonly string[], shard: string, replicaId: string): Promise<void> {
  if (ids.length === 0) return;
  await db.query(sql`
    INSERT INTO shard_handoff_writes (project_id, replica_id, written_at)
    SELECT h.project_id, ${replicaId}, clock_timestamp() FROM shard_handoffs h
     WHERE h.project_id = ANY(${[...ids]}::uuid[]) AND h.to_shard = ${shard}
    ON CONFLICT (project_id, replica_id) DO UPDATE SET written_at = excluded.written_at`);
}

/**
 * Whether a project moved into the scope's shard still waits for this replica to write it (a
 * condition on `p`, a projects row; moves older than a day are done).
 */
export function handoffPending(scope: ShardMember) {
  return sql`EXISTS (SELECT 1 FROM shard_handoffs h WHERE h.project_id = p.id AND h.to_shard = ${scope.name}
                        AND h.moved_at > now() - interval '1 day'
                        AND NOT EXISTS (SELECT 1 FROM shard_handoff_writes w WHERE w.project_id = h.project_id
                                           AND w.replica_id = ${scope.replicaId} AND w.written_at >= h.moved_at))`;
}

/**
 * Register this replica as a member of `shard`, by its session connection (run on that
 * connection: its backend's pid and start time). Returns the statement and values for it.
 */
export const MEMBER_SQL = `
  INSERT INTO shard_members (replica_id, shard, session_pid, session_start, updated_at)
  SELECT $1, $2, pid, backend_start, now() FROM pg_stat_activity WHERE pid = pg_backend_pid()
  ON CONFLICT (replica_id) DO UPDATE
    SET shard = excluded.shard, session_pid = excluded.session_pid, session_start = excluded.session_start, updated_at = now()`;
