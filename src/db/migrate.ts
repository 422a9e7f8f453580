/**
 * Versioned migrations: `sql/NNN_name.sql`, applied in order, each once, each in its own
 * transaction, under an advisory lock so two replicas starting together are safe.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { sql, type ConnectionPool } from './connect.js';
import { grantsSql, roleNames, rolesExist } from './roles.js';

/** The folder holding the project's migrations (sql/ at the package root). */
export const SQL_DIR = fileURLToPath(new URL('../../sql/', import.meta.url));

/** The advisory lock key taken while migrating ('tsyncmig' as a number). */
const MIGRATION_LOCK = 0x7473796e636d6967n;

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly file: string;
}

/** The migrations found in `dir`, in version order. */
export async function listMigrations(dir = SQL_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((f) => /^\d{3,}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return names.map((name) => ({ version: Number.parseInt(name, 10), name, file: path.join(dir, name) }));
}

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** Prefix of the database roles (roles.ts; default traefik_sync). */
  readonly rolePrefix?: string;
}

/**
 * Apply pending migrations; returns the names applied (empty when the schema is current). Each
 * migration runs in its own transaction under a transaction-level advisory lock (taken again by
 * each): no session state, so `migrate` works through PgBouncer in transaction pooling mode too,
 * and two replicas starting together still apply each migration once, in order. Once the roles
 * of roles.ts exist and this user may act as their owner role, each migration runs as that role
 * (so what it creates belongs to the owner) and the grants are set again after.
 */
export async function migrate(db: ConnectionPool, dir = SQL_DIR, options: MigrateOptions = {}): Promise<string[]> {
  const migrations = await listMigrations(dir);
  const roles = roleNames(options.rolePrefix);
  const lock = sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK.toString()}::bigint)`;
  const asOwner = await db.tx(async (tx) => {
    await tx.query(lock);
    await tx.query(sql`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    return (
      (await rolesExist(tx, options.rolePrefix)) &&
      (await tx.query(sql`SELECT pg_has_role(current_user, ${roles.owner}, 'MEMBER') AS m`))[0]!.m === true
    );
  });
  const applied: string[] = [];
  for (const m of migrations) {
    const done = await db.tx(async (tx) => {
      await tx.query(lock);
      if ((await tx.query(sql`SELECT 1 FROM schema_migrations WHERE version = ${m.version}`)).length) return false;
      if (asOwner) await tx.query(sql`SET LOCAL ROLE ${sql.ident(roles.owner)}`);
      await tx.query(sql.__dangerous__rawValue(await readFile(m.file, 'utf8')));
      await tx.query(sql`INSERT INTO schema_migrations (version, name) VALUES (${m.version}, ${m.name})`);
      return true;
    });
    if (done) applied.push(m.name);
  }
  if (asOwner && applied.length) {
    await db.tx(async (tx) => {
      await tx.query(lock);
      await tx.query(sql`SET LOCAL ROLE ${sql.ident(roles.owner)}`);
      await tx.query(sql.__dangerous__rawValue(grantsSql(roles)));
    });
  }
  return applied;
}
