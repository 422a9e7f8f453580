/**
 * Two applies that create the same new project at once (found by review): both succeed, the
 * second updating what the first created. It was: the second failed with "another project already
 * has this name", which reads as the user's mistake although a retry would have worked.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from '../../src/db/connect.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});

it('two concurrent applies of the same new project both succeed; one project results', async () => {
  const a = new TraefikConfigService(t.db, { actor: 'a' });
  const b = new TraefikConfigService(t.db, { actor: 'b' });
  const spec = {
    name: 'shop',
    services: [{ name: 'web' }],
    domains: [{ domain: 'shop.example', ssl: false, routes: [{ service: 'web', targetPort: 80 }] }],
  };
  const r = await Promise.allSettled([a.apply(spec), b.apply(spec)]);
  expect(r.map((x) => (x.status === 'rejected' ? String(x.reason) : 'ok'))).toEqual(['ok', 'ok']);
  expect(await t.db.query(sql`SELECT name FROM projects`)).toEqual([{ name: 'shop' }]);
  expect(await t.db.query(sql`SELECT count(*)::int AS n FROM route_configs`)).toEqual([{ n: 1 }]);
});
