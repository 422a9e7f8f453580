/**
 * sql/014_backend_transports.sql and sql/015_tls_options.sql carry existing rows over: rows
 * written under the schema without them (a route with several servers and sticky sessions) keep every value, get
 * no transport, no key, no TLS options and no default certificate, and render as before (no
 * serversTransports, TLS options or stores; the sample's bytes are pinned by test/render/golden.test.ts).
 */
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../../src/db/connect.js';
import { loadProjects } from '../../src/db/load.js';
import { listMigrations, migrate } from '../../src/db/migrate.js';
import { renderProject } from '../../src/render/project.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedSample } from '../helpers/seed.js';
import { tempDir } from '../helpers/temp-dir.js';

/** The migrations of backend transports and TLS options (the others, 020 included, ran before). */
const OURS = [14, 15];

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase({ migrate: false });
  const old = await tempDir('tsync-old-sql-');
  for (const m of await listMigrations()) if (!OURS.includes(m.version)) await copyFile(m.file, path.join(old, m.name));
  await migrate(t.db, old);
  await seedSample(t.db);
  // A route using the HTTP capabilities of the schema before (servers, sticky, passHostHeader).
  await t.db.query(sql`UPDATE route_configs SET target_url = NULL, pass_host_header = false,
    servers = '[{"host": "web-0.internal", "weight": 3}, {"url": "https://web-1.internal:8443"}]',
    sticky = '{"cookie": {"name": "srv", "secure": true}}' WHERE id = (SELECT min(id::text)::uuid FROM route_configs)`);
});
afterAll(async () => {
  await t?.drop();
});

/** Every row of `table` as JSON, by id. */
async function rowsOf(table: 'route_configs' | 'domain_configs'): Promise<Array<Record<string, unknown>>> {
  const rows = await t.db.query(sql`SELECT to_jsonb(x) AS x FROM ${sql.ident(table)} x ORDER BY id`);
  return rows.map((r) => r.x as Record<string, unknown>);
}

describe('migrating rows written before backend transports and TLS options', () => {
  it('keeps every value, gives the new columns their defaults, and renders as before', async () => {
    const tables = ['route_configs', 'domain_configs'] as const;
    const before = await Promise.all(tables.map(rowsOf));
    expect(await migrate(t.db)).toEqual(expect.arrayContaining(['014_backend_transports.sql', '015_tls_options.sql']));
    const after = await Promise.all(tables.map(rowsOf));
    const defaults = [
      { transport: null, key_pem: null },
      { tls_options: null, default_certificate: false },
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
      expect(now.problems, s.name).toEqual([]);
      // The renderer sees no transport, key, TLS options or default certificate: the bytes of a state without them.
      const keys = ['transport', 'clientKeyPem', 'tlsOptions', 'defaultCertificate'];
      const plain = JSON.parse(JSON.stringify(s), (k, v) => (keys.includes(k) ? undefined : v));
      expect(JSON.stringify(s)).toBe(JSON.stringify(plain));
      expect(now.files.some((f) => /serversTransports|options:|stores:/.test(f.content))).toBe(false);
    }
  });
});
