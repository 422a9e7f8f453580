/** Shared helpers of the config-service tests: row counts, audit counts, fresh specs. */
import { sql, type Queryable } from '../../src/db/connect.js';

/** Rows of every desired-state table plus the audit log, to prove "nothing was written". */
export async function rowCounts(
  db: Queryable,
): Promise<Record<'projects' | 'services' | 'domains' | 'routes' | 'certificates' | 'audit', number>> {
  const [r] = await db.query(sql`
    SELECT (SELECT count(*) FROM projects) AS projects, (SELECT count(*) FROM services) AS services,
           (SELECT count(*) FROM domain_configs) AS domains, (SELECT count(*) FROM route_configs) AS routes,
           (SELECT count(*) FROM certificates) AS certificates, (SELECT count(*) FROM audit_log) AS audit`);
  return Object.fromEntries(Object.entries(r!).map(([k, v]) => [k, Number(v)])) as Awaited<ReturnType<typeof rowCounts>>;
}

/** Number of audit entries. */
export async function auditCount(db: Queryable): Promise<number> {
  const [r] = await db.query(sql`SELECT count(*) AS n FROM audit_log`);
  return Number(r!.n);
}

/** Wipe all desired state, records and the audit log. */
export async function reset(db: Queryable): Promise<void> {
  await db.query(sql`TRUNCATE projects, traefik_configs, audit_log, project_versions CASCADE`);
  await db.query(sql`DELETE FROM audit_log`);
}
