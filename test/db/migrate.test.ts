import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../../src/db/connect.js';
import { migrate } from '../../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase({ migrate: false });
});
afterAll(async () => {
  await t.drop();
});

describe('migrate', () => {
  it('applies every migration once, and concurrent runs are safe', async () => {
    const results = await Promise.all([migrate(t.db), migrate(t.db), migrate(t.db)]);
    const applied = results.flat();
    expect(applied).toEqual(expect.arrayContaining(['001_schema.sql', '002_triggers.sql']));
    expect(new Set(applied).size).toBe(applied.length);
    expect(await migrate(t.db)).toEqual([]);
    const tables = await t.db.query(sql`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
    expect(tables.map((r) => r.tablename)).toEqual(
      expect.arrayContaining(['projects', 'services', 'domain_configs', 'route_configs', 'certificates', 'traefik_configs', 'audit_log']),
    );
  });
});
