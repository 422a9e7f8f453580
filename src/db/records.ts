/** traefik_configs: what was generated, per file (content, checksum, last_synced_at). */
import { sql, type Queryable } from './connect.js';
import type { RenderedFile } from '../model.js';
import { containsPrivateKey } from '../redact.js';
import { chunks } from '../util.js';

/** A traefik_configs row, without its content. */
export interface Recorded {
  readonly checksum: string;
  readonly projectId: string | null;
}

/** Rows not of projects in another shard than `shard` (all rows when null). */
function ofShard(shard: string | null) {
  return shard === null
    ? sql`true`
    : sql`NOT EXISTS (SELECT 1 FROM projects p WHERE p.id = traefik_configs.project_id AND p.shard <> ${shard})`;
}

/**
 * Recorded files by path: all rows, or those of the given projects (null = global files). With
 * `shard`, not the rows of projects in another shard: those are the other shard's to keep (a
 * pass removes the rows of paths it does not want), also while a project moved away still has
 * its files here.
 */
export async function loadRecorded(
  db: Queryable,
  projectIds?: ReadonlyArray<string | null>,
  shard: string | null = null,
): Promise<Map<string, Recorded>> {
  const ids = projectIds?.filter((id): id is string => id !== null) ?? [];
  const mine = ofShard(shard);
  const rows =
    projectIds === undefined
      ? await db.query(sql`SELECT file_path, checksum, project_id FROM traefik_configs WHERE ${mine}`)
      : await db.query(sql`SELECT file_path, checksum, project_id FROM traefik_configs
                          WHERE (project_id = ANY(${ids}::uuid[]) OR (${projectIds.includes(null)} AND project_id IS NULL)) AND ${mine}`);
  return byPath(rows);
}

/** Rows of projects that no longer exist (their files, if any, are a full pass's leftovers). */
export async function loadRecordedOfGoneProjects(db: Queryable): Promise<Map<string, Recorded>> {
  const rows = await db.query(sql`SELECT file_path, checksum, project_id FROM traefik_configs t
                                   WHERE project_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM projects p WHERE p.id = t.project_id)`);
  return byPath(rows);
}

function byPath(rows: ReadonlyArray<Record<string, unknown>>): Map<string, Recorded> {
  return new Map(rows.map((r) => [r.file_path as string, { checksum: r.checksum as string, projectId: r.project_id as string | null }]));
}

/** Number of rows in traefik_configs (not of another shard's projects): what was written, as far as the database knows. */
export async function countRecorded(db: Queryable, shard: string | null = null): Promise<number> {
  const [row] = await db.query(sql`SELECT count(*) AS n FROM traefik_configs WHERE ${ofShard(shard)}`);
  return Number(row?.n ?? 0);
}

/**
 * The text recorded for a file: a key file's (or any file holding a private key) is not kept, only
 * its checksum: traefik_configs is readable by more roles than the certificates table, and drift
 * and in-sync checks compare checksums (sql/005_private_keys.sql).
 */
export function recordedContent(file: Pick<RenderedFile, 'configType' | 'content'>): string {
  return file.configType === 'key' || containsPrivateKey(file.content) ? '' : file.content;
}

/**
 * Upsert the given files (only rows whose checksum differs are touched, so replicas writing the
 * same state do not flap) and delete rows of removed paths.
 */
export async function recordFiles(db: Queryable, files: readonly RenderedFile[], removed: readonly string[]): Promise<void> {
  for (const batch of chunks(files, 1000)) {
    await db.query(sql`
      INSERT INTO traefik_configs (project_id, config_type, file_path, content, checksum, last_synced_at)
      SELECT * FROM unnest(${batch.map((f) => f.projectId)}::uuid[], ${batch.map((f) => f.configType)}::varchar[],
                           ${batch.map((f) => f.path)}::varchar[], ${batch.map(recordedContent)}::text[],
                           ${batch.map((f) => f.checksum)}::varchar[], ${batch.map(() => new Date())}::timestamptz[])
      ON CONFLICT (file_path) DO UPDATE
        SET project_id = excluded.project_id, config_type = excluded.config_type, content = excluded.content,
            checksum = excluded.checksum, last_synced_at = excluded.last_synced_at, updated_at = now()
        WHERE traefik_configs.checksum IS DISTINCT FROM excluded.checksum`);
  }
  for (const batch of chunks(removed, 1000)) {
    await db.query(sql`DELETE FROM traefik_configs WHERE file_path = ANY(${[...batch]}::varchar[])`);
  }
}

/** Distinct ACME resolvers in use (active SSL domains whose provider is not "custom"). */
export async function loadResolvers(db: Queryable): Promise<string[]> {
  const rows = await db.query(sql`SELECT DISTINCT ssl_provider FROM domain_configs
                                   WHERE is_active AND ssl_enabled AND ssl_provider IS NOT NULL AND ssl_provider <> 'custom'
                                   ORDER BY 1`);
  return rows.map((r) => r.ssl_provider as string);
}
