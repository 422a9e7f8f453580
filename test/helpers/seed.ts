/** Sample desired state for tests: several projects covering every feature of the renderer. */
import { readFileSync } from 'node:fs';
import { sql, type Queryable } from '../../src/db/connect.js';

export const CERT_PEM = readFileSync(new URL('../fixtures/secure.shop.example.crt', import.meta.url), 'utf8');
export const KEY_PEM = readFileSync(new URL('../fixtures/secure.shop.example.key', import.meta.url), 'utf8');

export async function insertProject(db: Queryable, name: string): Promise<string> {
  const [row] = await db.query(sql`INSERT INTO projects (name) VALUES (${name}) RETURNING id`);
  return row!.id;
}

export async function insertService(db: Queryable, projectId: string, name: string, host: string | null = null): Promise<string> {
  const [row] = await db.query(sql`INSERT INTO services (project_id, name, host) VALUES (${projectId}, ${name}, ${host}) RETURNING id`);
  return row!.id;
}

export async function insertDomain(
  db: Queryable,
  projectId: string,
  d: { domain: string; subdomain?: string | null; ssl?: boolean; provider?: string | null; active?: boolean },
): Promise<string> {
  const full = d.subdomain ? `${d.subdomain}.${d.domain}` : d.domain;
  const [row] = await db.query(sql`
    INSERT INTO domain_configs (project_id, domain, subdomain, full_domain, ssl_enabled, ssl_provider, is_active)
    VALUES (${projectId}, ${d.domain}, ${d.subdomain ?? null}, ${full}, ${d.ssl ?? true}, ${d.provider ?? null}, ${d.active ?? true})
    RETURNING id`);
  return row!.id;
}

export interface RouteInput {
  path?: string;
  priority?: number;
  port?: number;
  url?: string | null;
  middleware?: unknown[] | null;
  healthCheck?: Record<string, unknown> | null;
  active?: boolean;
}

export async function insertRoute(db: Queryable, domainId: string, serviceId: string, r: RouteInput = {}): Promise<string> {
  const [row] = await db.query(sql`
    INSERT INTO route_configs (domain_config_id, service_id, path_rule, priority, middleware, target_port, target_url, health_check, is_active)
    VALUES (${domainId}, ${serviceId}, ${r.path ?? '/'}, ${r.priority ?? 1},
            ${r.middleware ? JSON.stringify(r.middleware) : null}::jsonb, ${r.port ?? 8080}, ${r.url ?? null},
            ${r.healthCheck ? JSON.stringify(r.healthCheck) : null}::jsonb, ${r.active ?? true})
    RETURNING id`);
  return row!.id;
}

export interface SampleIds {
  shop: string;
  blog: string;
  empty: string;
  shopApiRoute: string;
  shopRootDomain: string;
}

/** Three projects: "shop" (SSL with ACME and custom cert, plain http, paths, middlewares,
 * health checks), "blog" (SSL with the default certificate, an inactive route), "empty". */
export async function seedSample(db: Queryable): Promise<SampleIds> {
  const shop = await insertProject(db, 'shop');
  const api = await insertService(db, shop, 'api');
  const web = await insertService(db, shop, 'web');
  const worker = await insertService(db, shop, 'worker', 'worker.internal');
  const root = await insertDomain(db, shop, { domain: 'shop.example', provider: 'letsencrypt' });
  await insertRoute(db, root, web, { path: '/', port: 8080 });
  const shopApiRoute = await insertRoute(db, root, api, {
    path: '/api',
    port: 3000,
    middleware: [{ stripPrefix: { prefixes: ['/api'] } }, { headers: { customRequestHeaders: { 'X-Shop': 'api' } } }],
    healthCheck: { path: '/healthz', interval: '10s', timeout: '3s' },
  });
  await insertRoute(db, root, api, {
    path: '/api/admin',
    port: 3000,
    priority: 5,
    middleware: [{ ipAllowList: { sourceRange: ['10.0.0.0/8'] } }, { ref: 'admin-auth@kubernetescrd' }],
  });
  const secure = await insertDomain(db, shop, { domain: 'shop.example', subdomain: 'secure', provider: 'custom' });
  await db.query(sql`INSERT INTO certificates (domain_config_id, cert_pem, key_pem, not_after)
                     VALUES (${secure}, ${CERT_PEM}, ${KEY_PEM}, '2036-01-01T00:00:00Z')`);
  await insertRoute(db, secure, web, { path: '/', port: 8443, url: 'https://web.internal:8443' });
  const status = await insertDomain(db, shop, { domain: 'shop.example', subdomain: 'status', ssl: false });
  await insertRoute(db, status, worker, { path: '/', port: 9000 });

  const blog = await insertProject(db, 'blog');
  const ghost = await insertService(db, blog, 'ghost');
  const blogDomain = await insertDomain(db, blog, { domain: 'blog.example' });
  await insertRoute(db, blogDomain, ghost, { path: '/', port: 2368 });
  await insertRoute(db, blogDomain, ghost, { path: '/old', port: 2368, active: false });

  const empty = await insertProject(db, 'empty');
  return { shop, blog, empty, shopApiRoute, shopRootDomain: root };
}
