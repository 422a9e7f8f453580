/** Drift records (drift_events) for the operator page and the API, newest first. */
import { sql, type Queryable } from '../db/connect.js';
import { LIMITS } from './limits.js';
import type { DriftRecordView } from './types.js';

/** Options of {@link listDriftRecords}. */
export interface DriftQuery {
  /** Records at most (1–500, default 50). */
  readonly limit?: number;
  /** Only this replica's records. */
  readonly replica?: string;
}

/** The newest drift records, with the project's name when it still exists. */
export async function listDriftRecords(db: Queryable, query: DriftQuery = {}): Promise<DriftRecordView[]> {
  const { min, max } = LIMITS.driftLimit;
  const limit = Math.min(Math.max(Math.trunc(query.limit ?? LIMITS.driftLimit.default), min), max);
  const rows = await db.query(sql`
    SELECT d.id, d.replica_id, p.name, d.file_path, d.kind, d.detected_at, d.repaired, d.repaired_at
      FROM drift_events d LEFT JOIN projects p ON p.id = d.project_id
     WHERE ${query.replica ?? null}::text IS NULL OR d.replica_id = ${query.replica ?? null}
     ORDER BY d.detected_at DESC, d.id DESC
     LIMIT ${limit}`);
  return rows.map((r) => ({
    id: Number(r.id),
    replica: r.replica_id as string,
    project: (r.name as string | null) ?? null,
    file: r.file_path as string,
    kind: r.kind as DriftRecordView['kind'],
    detectedAt: (r.detected_at as Date).toISOString(),
    repaired: r.repaired as boolean,
    repairedAt: r.repaired_at ? (r.repaired_at as Date).toISOString() : null,
  }));
}
