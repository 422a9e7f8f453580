/**
 * docs/contract.md §9 database roles, created by `migrate --create-roles`: an owner (migrations), a
 * writer (config service, apply, rollback, import) and a sidecar role (run, sync, diff: reads the
 * desired state, writes only its own records). The sidecar's work runs here under a login of the
 * sidecar role — a full controller (passes, drift detected, recorded and repaired, status rows,
 * leader housekeeping), `sync --once` and `diff` — and the writer's under a writer login; neither
 * may do the other's writes, and the sidecar may not touch the desired state or its history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { loadSpecFile } from '../../src/config-service/spec.js';
import { connect, sql, type ConnectionPool } from '../../src/db/connect.js';
import { listMigrations, migrate } from '../../src/db/migrate.js';
import { createRoles, roleNames, rolesSql } from '../../src/db/roles.js';
import { admin, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { inProcess } from '../helpers/in-process.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';
import { tempDir } from '../helpers/temp-dir.js';
import { captureLog } from '../reliability/support.js';

const SHOP = fileURLToPath(new URL('../../examples/shop.yaml', import.meta.url));
const prefix = `ts${randomBytes(4).toString('hex')}`;
const names = roleNames(prefix);
const logins = { owner: `${prefix}_mig`, writer: `${prefix}_app`, sidecar: `${prefix}_side` };
const PASSWORD = 'role-test-pw';

let t: TestDatabase;
const urls: Record<keyof typeof logins, string> = { owner: '', writer: '', sidecar: '' };
const pools: ConnectionPool[] = [];
let writerDb: ConnectionPool;
let sidecarDb: ConnectionPool;
let s: TestSidecar | undefined;
const logs = captureLog('debug');

function urlAs(login: string): string {
  const u = new URL(t.url);
  u.username = login;
  u.password = PASSWORD;
  return u.toString();
}

beforeAll(async () => {
  t = await createTestDatabase();
  await createRoles(t.db, { prefix });
  for (const [role, login] of Object.entries(logins) as Array<[keyof typeof logins, string]>) {
    await admin(`CREATE ROLE ${login} LOGIN PASSWORD '${PASSWORD}' IN ROLE ${names[role]}`);
    urls[role] = urlAs(login);
  }
  writerDb = connect(urls.writer, { poolSize: 2 });
  sidecarDb = connect(urls.sidecar, { poolSize: 2 });
  pools.push(writerDb, sidecarDb);
});
afterAll(async () => {
  await s?.stop();
  for (const p of pools) await p.dispose();
  await t?.drop();
  for (const login of Object.values(logins)) await admin(`DROP ROLE IF EXISTS ${login}`);
  for (const role of Object.values(names)) await admin(`DROP ROLE IF EXISTS ${role}`);
});

const denied = (q: Promise<unknown>) =>
  q.then(
    () => 'allowed',
    (e: { code?: string }) => (e.code === '42501' ? 'denied' : `failed ${e.code}`),
  );

describe('the writer role', () => {
  it('applies a spec, updates and deletes rows, reads history and rolls back (the config service)', async () => {
    const svc = new TraefikConfigService(writerDb, { actor: 'role-test' });
    const [applied] = await svc.applyProjects([await loadSpecFile(SHOP)]);
    expect(applied!.projectCreated).toBe(true);
    const domain = (await svc.listProjectDomains(applied!.projectId))[0]!;
    await svc.updateDomainConfig(domain.id, { isActive: false });
    const { entries } = await svc.history('shop');
    expect(entries.length).toBeGreaterThan(1);
    await svc.rollback('shop', { id: entries[1]!.id }); // the entry before the newest (the deactivation)
    expect((await svc.listProjectDomains(applied!.projectId)).every((d) => d.isActive)).toBe(true);
  });

  it('moves a project to another shard (the move starts a handoff: sql/006_shards.sql)', async () => {
    await writerDb.query(sql`UPDATE projects SET shard = 'moved' WHERE name = 'shop'`);
    const [h] = await writerDb.query(
      sql`SELECT h.to_shard FROM shard_handoffs h JOIN projects p ON p.id = h.project_id WHERE p.name = 'shop'`,
    );
    expect(h?.to_shard).toBe('moved');
    await writerDb.query(sql`UPDATE projects SET shard = 'default' WHERE name = 'shop'`);
  });

  it.each([
    [
      "INSERT INTO traefik_configs (config_type, file_path, content, checksum) VALUES ('dynamic', 'x', '', 'sha256:" +
        '0'.repeat(64) +
        "')",
    ],
    ["INSERT INTO sync_replicas (replica_id) VALUES ('w')"],
    ["INSERT INTO drift_events (replica_id, file_path, kind) VALUES ('w', 'x', 'missing')"],
    ["UPDATE audit_log SET actor = 'someone else'"],
    ['DELETE FROM audit_log'],
    ['TRUNCATE audit_log'],
  ])('may not: %s', async (text) => {
    expect(await denied(writerDb.query(sql.__dangerous__rawValue(text)))).toBe('denied');
  });
});

describe('the sidecar role', () => {
  it('runs the controller: first sync, drift detected, recorded and repaired, status rows, leader housekeeping', async () => {
    s = await startTestSidecar(urls.sidecar, { interval: '1s' }, { log: logs.log, housekeepingEveryMs: 300, replicaId: 'role-sidecar' });
    await waitFor(async () => (await s!.get('/readyz')).status === 200, 15_000);
    const file = path.join(s.root, 'dynamic/shop/middleware.yml');
    const original = await readFile(file, 'utf8');
    await writeFile(file, original.replace('X-Shop-Api', 'X-Hand-Edit'));
    await waitFor(async () => (await readFile(file, 'utf8')) === original, 10_000);
    await waitFor(
      async () => (await t.db.query(sql`SELECT 1 FROM drift_events WHERE replica_id = 'role-sidecar' AND repaired`)).length > 0,
      10_000,
    );
    await waitFor(
      async () =>
        (await t.db.query(sql`SELECT 1 FROM sync_replicas WHERE replica_id = 'role-sidecar' AND last_success_at IS NOT NULL`)).length > 0,
      10_000,
    );
    expect((await t.db.query(sql`SELECT count(*)::int AS n FROM traefik_configs`))[0]!.n).toBeGreaterThan(3);
    await new Promise((r) => setTimeout(r, 700)); // two housekeeping rounds (prune old records) have run
    expect(logs.text()).not.toMatch(/permission denied/);
    const status = (await s.get('/api/v1/status')).json();
    expect(status.lastError ?? null).toBeNull();
  });

  it('runs sync --once and diff', async () => {
    const root = await tempDir('tsync-role-cli-');
    const env = { DATABASE_URL: urls.sidecar, TRAEFIK_CONFIG_DIR: root, LOG_LEVEL: 'warn' };
    const sync = await inProcess(['sync', '--once'], env);
    expect(sync.stderr).toBe('');
    expect(sync.code).toBe(0);
    const diff = await inProcess(['diff'], env);
    expect(diff.code).toBe(0);
  });

  const DESIRED = ['projects', 'services', 'domain_configs', 'route_configs', 'certificates'];
  it.each([
    ...DESIRED.map((table) => `UPDATE ${table} SET updated_at = now()`),
    ...DESIRED.map((table) => `DELETE FROM ${table}`),
    ...DESIRED.map((table) => `TRUNCATE ${table} CASCADE`),
    "INSERT INTO projects (name) VALUES ('evil')",
    "INSERT INTO audit_log (actor, table_name, op) VALUES ('x', 'projects', 'DELETE')",
    'DELETE FROM audit_log',
    'UPDATE project_versions SET version = version + 1',
    'DELETE FROM schema_migrations',
    'CREATE TABLE sneaky (x int)',
  ])('may not: %s', async (text) => {
    expect(await denied(sidecarDb.query(sql.__dangerous__rawValue(text)))).toBe('denied');
  });
});

describe('migrate --create-roles', () => {
  it('is idempotent, and prints the same SQL with --roles-sql', async () => {
    await createRoles(t.db, { prefix });
    const printed = await inProcess(['migrate', '--roles-sql', '--role-prefix', prefix], {});
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(`${rolesSql(names)}\n`);
    expect(printed.stdout).toMatch(
      new RegExp(`GRANT SELECT ON projects, services, domain_configs, route_configs, certificates.* TO ${names.sidecar}`),
    );
  });

  it('migrations run by an owner login create objects the owner role owns, with the grants applied again', async () => {
    const dir = await tempDir('tsync-role-sql-');
    for (const m of await listMigrations()) await copyFile(m.file, path.join(dir, m.name));
    await writeFile(path.join(dir, '999_role_probe.sql'), 'CREATE TABLE role_probe (x int);\n');
    const ownerDb = connect(urls.owner, { poolSize: 1 });
    pools.push(ownerDb);
    expect(await migrate(ownerDb, dir, { rolePrefix: prefix })).toEqual(['999_role_probe.sql']);
    const [row] = await t.db.query(sql`SELECT tableowner FROM pg_tables WHERE tablename = 'role_probe'`);
    expect(row!.tableowner).toBe(names.owner);
    // The sidecar still reads what it needs after the owner's migration.
    const client = new pg.Client({ connectionString: urls.sidecar });
    await client.connect();
    try {
      await client.query('SELECT count(*) FROM projects');
    } finally {
      await client.end();
    }
  });
});
