/**
 * Database states whose files and routers are counted exactly, for the delete-guard tests: the
 * guard compares removals with the managed files and routers, so each scenario is built to land
 * exactly at, or one over, the fraction of one half while staying under the other.
 *
 * What each piece puts on the volume (static/traefik.yml is 1 more file, 0 routers):
 * - `routed(…, routes)`: domains.yml, middleware.yml, services/app.yml = 3 files, `routes` routers
 *   (a plain-HTTP domain has no redirect router);
 * - `emptyProjects(n)`: domains.yml and middleware.yml each = 2n files, 0 routers;
 * - `customDomains(project, n)`: per domain a certificate and a key (2 files, 0 routers) and a
 *   redirect router in domains.yml.
 */
import { sql, type Queryable } from '../../src/db/connect.js';
import { CERT_PEM, KEY_PEM, insertDomain, insertProject, insertRoute, insertService } from '../helpers/seed.js';

/** A project with one plain-HTTP domain and one service `app` holding `routes` routes (/r0, /r1, …). */
export async function routed(db: Queryable, name: string, routes: number): Promise<string> {
  const id = await insertProject(db, name);
  const app = await insertService(db, id, 'app');
  const domain = await insertDomain(db, id, { domain: `${name}.example`, ssl: false });
  for (let i = 0; i < routes; i++) await insertRoute(db, domain, app, { path: `/r${i}`, port: 8080 });
  return id;
}

/** `n` projects without domains, named `${prefix}-0` …; their ids. */
export async function emptyProjects(db: Queryable, prefix: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await insertProject(db, `${prefix}-${i}`));
  return ids;
}

/** `n` custom-certificate domains (no routes) in project `projectId`: c0.<name>.example, … */
export async function customDomains(db: Queryable, projectId: string, name: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const d = await insertDomain(db, projectId, { domain: `${name}.example`, subdomain: `c${i}`, provider: 'custom' });
    await db.query(sql`INSERT INTO certificates (domain_config_id, cert_pem, key_pem, not_after)
                       VALUES (${d}, ${CERT_PEM}, ${KEY_PEM}, '2036-01-01T00:00:00Z')`);
  }
}

/** Remove every route of project `name` (not a project deletion: no tombstone). */
export async function dropRoutes(db: Queryable, name: string): Promise<void> {
  await db.query(sql`DELETE FROM route_configs r USING domain_configs d, projects p
                      WHERE r.domain_config_id = d.id AND d.project_id = p.id AND p.name = ${name}`);
}

/** Drop `n` of project `name`'s routes (the highest paths), leaving its service file in place. */
export async function dropSomeRoutes(db: Queryable, name: string, n: number): Promise<void> {
  await db.query(sql`DELETE FROM route_configs WHERE id IN (
                       SELECT r.id FROM route_configs r JOIN domain_configs d ON d.id = r.domain_config_id
                         JOIN projects p ON p.id = d.project_id
                        WHERE p.name = ${name} ORDER BY r.path_rule DESC LIMIT ${n})`);
}

/** Switch custom domain c<i> of project `name` to Let's Encrypt: its certificate and key files go. */
export async function uncustom(db: Queryable, name: string, i: number): Promise<void> {
  await db.query(sql`UPDATE domain_configs SET ssl_provider = 'letsencrypt' WHERE full_domain = ${`c${i}.${name}.example`}`);
}

/** Delete the projects with these names in one statement (one tombstone each). */
export async function deleteProjects(db: Queryable, names: readonly string[]): Promise<void> {
  await db.query(sql`DELETE FROM projects WHERE name = ANY(${names})`);
}
