/** Per-test-file databases on the run's PostgreSQL, migrated, with a pool to use. */
import { afterAll, beforeAll, inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connect, sql, type ConnectionPool, type Queryable } from '../../src/db/connect.js';
import { migrate } from '../../src/db/migrate.js';
import { createRoles } from '../../src/db/roles.js';

export interface TestDatabase {
  /** The URL sidecars are started with (a sidecar-role login under TEST_DB_ROLE=sidecar). */
  readonly url: string;
  /** The administrator's URL (for test scaffolding: locks, seeding). */
  readonly adminUrl: string;
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

/**
 * A fresh, migrated database of its own. `db` is the administrator's (to seed rows). With
 * TEST_DB_ROLE=sidecar in the environment, the database gets the roles of src/db/roles.ts and
 * `url` is a login of the sidecar role: every sidecar a test starts with `url` (controller, sync,
 * drift, file API) then runs with only the sidecar's privileges, e.g.
 * `TEST_DB_ROLE=sidecar npx vitest run test/controller test/file-service`.
 */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const adminUrl = databaseUrl(name);
  const db = connect(adminUrl, { poolSize: 4 });
  if (options.migrate !== false) await migrate(db);
  let url = adminUrl;
  const asSidecar = process.env.TEST_DB_ROLE === 'sidecar' && options.migrate !== false;
  if (asSidecar) {
    const roles = await createRoles(db, { prefix: name });
    await admin(`CREATE ROLE ${name}_login LOGIN PASSWORD 'sidecar-pw' IN ROLE ${roles.sidecar}`);
    const u = new URL(adminUrl);
    u.username = `${name}_login`;
    u.password = 'sidecar-pw';
    url = u.toString();
  }
  return {
    url,
    adminUrl,
    name,
    db,
    async drop() {
      await db.dispose();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      if (asSidecar) for (const r of ['login', 'owner', 'writer', 'sidecar']) await admin(`DROP ROLE IF EXISTS ${name}_${r}`);
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
    get adminUrl() {
      return current().adminUrl;
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
