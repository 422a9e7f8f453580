/**
 * The migrations of the HTTP capabilities (sql/007_*.sql and later) carry existing rows over:
 * rows written under the earlier schema keep every value, get the defaults of the new columns,
 * and render exactly as a state without the new fields does (which the golden files pin).
 */
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../../src/db/connect.js';
import { loadProjects } from '../../src/db/load.js';
import { SQL_DIR, listMigrations, migrate } from '../../src/db/migrate.js';
import type { ProjectState } from '../../src/model.js';
import { renderProject } from '../../src/render/project.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedSample } from '../helpers/seed.js';
import { tempDir } from '../helpers/temp-dir.js';

/** The first migration of the HTTP capabilities. */
const FIRST = 7;

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase({ migrate: false });
  const old = await tempDir('tsync-old-sql-');
  for (const m of await listMigrations()) if (m.version < FIRST) await copyFile(m.file, path.join(old, m.name));
  await migrate(t.db, old);
  await seedSample(t.db);
});
afterAll(async () => {
  await t?.drop();
});

/** Every row of `table` as JSON, by id. */
async function rowsOf(table: 'route_configs' | 'domain_configs'): Promise<Array<Record<string, unknown>>> {
  const rows = await t.db.query(sql`SELECT to_jsonb(x) AS x FROM ${sql.ident(table)} x ORDER BY id`);
  return rows.map((r) => r.x as Record<string, unknown>);
}

/** The state without the fields the HTTP capabilities added (as the renderer saw states before them). */
function withoutNewFields(s: ProjectState): ProjectState {
  const strip = <T extends object>(o: T, keep: readonly string[]): T =>
    Object.fromEntries(Object.entries(o).filter(([k]) => keep.includes(k))) as T;
  const ROUTE = ['id', 'serviceId', 'pathRule', 'priority', 'middleware', 'targetPort', 'targetUrl', 'healthCheck', 'isActive'];
  const DOMAIN = ['id', 'domain', 'subdomain', 'fullDomain', 'sslEnabled', 'sslProvider', 'isActive', 'certificate', 'routes'];
  return {
    ...strip(s, ['id', 'name', 'version', 'changedAt', 'services', 'domains']),
    domains: s.domains.map((d) => ({
      ...strip(d, DOMAIN),
      certificate: d.certificate && strip(d.certificate, ['id', 'certPem', 'keyPem', 'notAfter']),
      routes: d.routes.map((r) => strip(r, ROUTE)),
    })),
  } as ProjectState;
}

describe('migrating rows written before the HTTP capabilities', () => {
  it('keeps every value, gives the new columns their defaults, and renders the same bytes', async () => {
    const tables = ['route_configs', 'domain_configs'] as const;
    const before = await Promise.all(tables.map(rowsOf));
    expect((await migrate(t.db)).length).toBeGreaterThan(0);
    expect((await listMigrations(SQL_DIR)).some((m) => m.version === FIRST)).toBe(true);
    const after = await Promise.all(tables.map(rowsOf));
    const defaults = [
      // sql/007, and sql/010–011 (no split or failover; a path prefix without headers or methods).
      {
        servers: null,
        sticky: null,
        pass_host_header: true,
        split: null,
        failover: null,
        path_match: 'prefix',
        headers: null,
        methods: null,
      },
      { redirect: null },
    ];
    tables.forEach((table, n) => {
      expect(after[n]!.length, table).toBe(before[n]!.length);
      after[n]!.forEach((now, i) => {
        for (const [k, v] of Object.entries(before[n]![i]!)) expect(now[k], `${table}.${k}`).toEqual(v);
        expect(now).toMatchObject(defaults[n]!);
      });
    });
    const states = await loadProjects(t.db);
    expect(states.length).toBe(3);
    for (const s of states) {
      const now = renderProject(s, { configDir: '/cfg' });
      const then = renderProject(withoutNewFields(s), { configDir: '/cfg' });
      expect(now.problems, s.name).toEqual([]);
      expect(now.files.map((f) => [f.path, f.content])).toEqual(then.files.map((f) => [f.path, f.content]));
    }
  });
});
