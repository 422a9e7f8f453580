/**
 * A query over a connection that went silent (network partition: no reply, no reset) must fail
 * in bounded time, not hang: a pass waiting forever would hold every later pass. After the
 * partition heals, the pool serves queries again on fresh connections.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, sql, QUERY_TIMEOUT_MARGIN_MS, type ConnectionPool } from '../../src/db/connect.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { freezableProxy, type FreezableProxy } from '../helpers/freezable-proxy.js';

let t: TestDatabase;
let proxy: FreezableProxy;
let db: ConnectionPool;
const STATEMENT_TIMEOUT_MS = 1_000;

beforeAll(async () => {
  t = await createTestDatabase({ migrate: false });
  const url = new URL(t.url);
  proxy = await freezableProxy({ host: url.hostname, port: Number(url.port) });
  db = connect(proxy.via(t.url), { poolSize: 2, statementTimeoutMs: STATEMENT_TIMEOUT_MS });
});

afterAll(async () => {
  await proxy?.close();
  await db?.dispose().catch(() => {});
  await t?.drop();
});

it('a query on a silent connection fails within the statement timeout + margin; after the partition heals, queries work again', async () => {
  expect(await db.query(sql`SELECT 1 AS one`)).toEqual([{ one: 1 }]);

  proxy.freeze();
  const started = Date.now();
  const err = await db.query(sql`SELECT 2 AS two`).then(
    () => null,
    (e: unknown) => e as Error,
  );
  const waited = Date.now() - started;
  expect(err?.message).toMatch(/timeout/i);
  expect(waited).toBeGreaterThanOrEqual(STATEMENT_TIMEOUT_MS + QUERY_TIMEOUT_MARGIN_MS - 100);
  expect(waited).toBeLessThan(STATEMENT_TIMEOUT_MS + QUERY_TIMEOUT_MARGIN_MS + 5_000);

  proxy.thaw();
  expect(await db.query(sql`SELECT 3 AS three`)).toEqual([{ three: 3 }]);
}, 30_000);
