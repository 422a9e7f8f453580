/** Per-test-file databases on the run's PostgreSQL, migrated, with a pool to use. */
import { afterAll, beforeAll, inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connect, sql, type ConnectionPool, type Queryable } from '../../src/db/connect.js';
import { migrate } from '../../src/db/migrate.js';

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  readonly db: ConnectionPool;
  drop(): Promise<void>;
}

/** The URL of database `name` on the test server. */
export function databaseUrl(name: string): string {
  const url = new URL(inject('adminUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}

/** Run one statement on the admin database. */
export async function admin(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: inject('adminUrl') });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A fresh, migrated database of its own. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = databaseUrl(name);
  const db = connect(url, { poolSize: 4 });
  if (options.migrate !== false) await migrate(db);
  return {
    url,
    name,
    db,
    async drop() {
      await db.dispose();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/**
 * The calling test file's own database: made in a `beforeAll`, dropped in an `afterAll`
 * registered here. Use its fields inside tests and hooks (they throw before it exists).
 */
export function databaseForFile(options: { migrate?: boolean } = {}): TestDatabase {
  let t: TestDatabase | undefined;
  beforeAll(async () => {
    t = await createTestDatabase(options);
  });
  afterAll(async () => {
    await t?.drop();
  });
  const current = (): TestDatabase => {
    if (!t) throw new Error('the test file database is made in beforeAll: use it inside tests and hooks');
    return t;
  };
  return {
    get url() {
      return current().url;
    },
    get name() {
      return current().name;
    },
    get db() {
      return current().db;
    },
    drop: () => current().drop(),
  };
}

/** Empty every table tests fill: projects (and all that hangs off them), records, audit, drift, replicas. */
export async function emptyTables(db: Queryable): Promise<void> {
  await db.query(sql`TRUNCATE projects, traefik_configs, audit_log, project_versions, drift_events, sync_replicas CASCADE`);
}
