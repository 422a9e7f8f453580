/**
 * Database rules found missing by review (each test failed before sql/004_move_guards.sql):
 * - moving a domain or a service to another project cannot leave a route across projects
 *   (the route check ran only on route rows); moving both together in one transaction can;
 * - a project's version never goes backwards when two writers change it at once, so a
 *   controller catching up on a lost NOTIFY ("did the version move?") sees the later change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sql } from '../../src/db/connect.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { waitFor } from '../helpers/sidecar.js';

let t: TestDatabase;
let c1: pg.Client;
let c2: pg.Client;
beforeAll(async () => {
  t = await createTestDatabase();
  c1 = new pg.Client({ connectionString: t.url });
  c2 = new pg.Client({ connectionString: t.url });
  await c1.connect();
  await c2.connect();
});
afterAll(async () => {
  await c1.end();
  await c2.end();
  await t.drop();
});

async function seed(suffix: string) {
  const [a] = await t.db.query(sql`INSERT INTO projects (name) VALUES (${`a${suffix}`}) RETURNING id`);
  const [b] = await t.db.query(sql`INSERT INTO projects (name) VALUES (${`b${suffix}`}) RETURNING id`);
  const [s] = await t.db.query(sql`INSERT INTO services (project_id, name) VALUES (${a!.id}, 'web') RETURNING id`);
  const [d] = await t.db.query(sql`INSERT INTO domain_configs (project_id, domain, full_domain)
                                   VALUES (${a!.id}, ${`a${suffix}.example`}, ${`a${suffix}.example`}) RETURNING id`);
  await t.db.query(sql`INSERT INTO route_configs (domain_config_id, service_id, target_port) VALUES (${d!.id}, ${s!.id}, 80)`);
  return { a: a!.id as string, b: b!.id as string, s: s!.id as string, d: d!.id as string };
}

const crossProjectRoutes = async () =>
  Number(
    (
      await t.db.query(sql`
  SELECT count(*) AS n FROM route_configs r JOIN domain_configs d ON d.id = r.domain_config_id
    JOIN services s ON s.id = r.service_id WHERE d.project_id <> s.project_id`)
    )[0]!.n,
  );

describe('moving rows between projects', () => {
  it('refuses moving a domain whose routes use services of its old project', async () => {
    const { b, d } = await seed('1');
    await expect(t.db.query(sql`UPDATE domain_configs SET project_id = ${b} WHERE id = ${d}`)).rejects.toThrow(
      /route_configs\.service_id: moving domain_configs/,
    );
    expect(await crossProjectRoutes()).toBe(0);
  });

  it('refuses moving a service that routes of its old project use', async () => {
    const { b, s } = await seed('2');
    await expect(t.db.query(sql`UPDATE services SET project_id = ${b} WHERE id = ${s}`)).rejects.toThrow(
      /route_configs\.service_id: moving services/,
    );
    expect(await crossProjectRoutes()).toBe(0);
  });

  it('allows moving a domain together with its services in one transaction', async () => {
    const { b, s, d } = await seed('3');
    await t.db.tx(async (tx) => {
      await tx.query(sql`UPDATE domain_configs SET project_id = ${b} WHERE id = ${d}`);
      await tx.query(sql`UPDATE services SET project_id = ${b} WHERE id = ${s}`);
    });
    const [row] = await t.db.query(sql`SELECT project_id FROM domain_configs WHERE id = ${d}`);
    expect(row!.project_id).toBe(b);
    expect(await crossProjectRoutes()).toBe(0);
  });
});

describe('project versions', () => {
  const version = async (id: string) =>
    Number((await c1.query('SELECT version FROM project_versions WHERE project_id = $1', [id])).rows[0].version);

  it('two concurrent writers of one project: the later commit has the higher version', async () => {
    const {
      rows: [p],
    } = await c1.query(`INSERT INTO projects (name) VALUES ('shop') RETURNING id`);
    const {
      rows: [s1],
    } = await c1.query(`INSERT INTO services (project_id, name) VALUES ($1, 'web') RETURNING id`, [p.id]);
    const {
      rows: [s2],
    } = await c1.query(`INSERT INTO services (project_id, name) VALUES ($1, 'api') RETURNING id`, [p.id]);
    await c1.query('BEGIN');
    await c1.query(`UPDATE services SET host = 'web.internal' WHERE id = $1`, [s1.id]);
    const c2pid = Number((await c2.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    await c2.query('BEGIN');
    const blocked = c2.query(`UPDATE services SET host = 'api.internal' WHERE id = $1`, [s2.id]); // waits for c1's lock on the version row
    // It is waiting on that lock (not merely sent) before c1 goes on.
    await waitFor(
      async () => (await t.db.query(sql`SELECT 1 FROM pg_stat_activity WHERE pid = ${c2pid} AND wait_event_type = 'Lock'`)).length === 1,
    );
    await c1.query(`UPDATE services SET host = 'web2.internal' WHERE id = $1`, [s1.id]);
    await c1.query('COMMIT');
    const afterFirst = await version(p.id);
    await blocked;
    await c2.query('COMMIT');
    expect(await version(p.id)).toBeGreaterThan(afterFirst);
  });
});
