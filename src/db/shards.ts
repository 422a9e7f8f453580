/**
 * Handing a project over from one shard to another (sql/006_shards.sql `shard_handoffs`): the new
 * shard's sidecars record that they have written it; the old shard's sidecars keep its files until
 * then, plus a drain, or until a timeout. Times are the database's, so every replica agrees.
 */
import { sql, type Queryable } from './connect.js';

/** Where a project moved away from this shard stands, seen from a replica that still has its files. */
export interface Handoff {
  readonly projectId: string;
  readonly projectName: string;
  /** The shard the project belongs to now. */
  readonly toShard: string;
  /**
   * `waiting`: the new shard has not written it yet, or did less than the drain ago: keep the files.
   * `released`: written and drained: remove them. `timed-out`: nobody of the new shard wrote it
   * within the timeout: remove them anyway (reported).
   */
  readonly state: 'waiting' | 'released' | 'timed-out';
  readonly movedAt: Date;
  readonly writtenAt: Date | null;
  readonly writtenBy: string | null;
  /** While waiting: when to look again (ms from now) if no notification comes first. */
  readonly recheckInMs: number;
}

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
    SELECT h.project_id, p.name, h.to_shard, h.moved_at, h.written_at, h.written_by,
           ceil(greatest(0, extract(epoch FROM (CASE WHEN h.written_at IS NOT NULL
                                                     THEN h.written_at + make_interval(secs => ${timing.drainMs / 1000})
                                                     ELSE h.moved_at + make_interval(secs => ${timing.timeoutMs / 1000}) END)
                                             - clock_timestamp()) * 1000)) AS wait_ms
      FROM shard_handoffs h JOIN projects p ON p.id = h.project_id AND p.shard = h.to_shard
     WHERE h.project_id = ANY(${[...ids]}::uuid[])`);
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
          writtenAt: (r.written_at as Date | null) ?? null,
          writtenBy: (r.written_by as string | null) ?? null,
          recheckInMs: waitMs,
        } satisfies Handoff,
      ];
    }),
  );
}

/**
 * A replica of `shard` has written these projects (moved into it): record it, which wakes the
 * old shard's sidecars. The first replica to write one records it; the others find it done.
 */
export async function recordHandoffsWritten(db: Queryable, ids: readonly string[], shard: string, replicaId: string): Promise<void> {
  if (ids.length === 0) return;
  await db.query(sql`
    UPDATE shard_handoffs SET written_at = clock_timestamp(), written_by = ${replicaId}
     WHERE project_id = ANY(${[...ids]}::uuid[]) AND to_shard = ${shard} AND written_at IS NULL`);
}
