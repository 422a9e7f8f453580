/**
 * The advisory-lock leader cut off from PostgreSQL by a silent network (no reply, no reset). It
 * must stop calling itself leader within its query timeout (10 s), not keep
 * `traefik_sync_is_leader` at 1 forever; and PostgreSQL must end its silent session (15 s), so that
 * another replica takes over in seconds instead of when TCP keepalive notices (hours).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdvisoryLockLeader } from '../../src/db/leader.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { freezableProxy, type FreezableProxy } from '../helpers/freezable-proxy.js';
import { waitFor } from '../helpers/sidecar.js';
import { expectWithin, timed } from '../helpers/timing.js';
import { sql } from '../../src/db/connect.js';

let t: TestDatabase;

/**
 * Wait until a leader session that connected since `since` has asked for the lock twice: its
 * first answer (refused, or it would be asking `SELECT 1` now) was handled before the second ask.
 */
async function refusedOnce(since: Date): Promise<void> {
  const asks = new Set<string>();
  await waitFor(
    async () => {
      const rows = await t.db.query(sql`SELECT query_start FROM pg_stat_activity
       WHERE application_name = 'traefik-sync-leader' AND backend_start >= ${since} AND query LIKE '%pg_try_advisory_lock%'`);
      for (const r of rows) asks.add((r.query_start as Date).toISOString());
      return asks.size >= 2;
    },
    15_000,
    10,
  );
}
let proxy: FreezableProxy;
const leaders: AdvisoryLockLeader[] = [];

beforeAll(async () => {
  t = await createTestDatabase({ migrate: false });
  const url = new URL(t.url);
  proxy = await freezableProxy({ host: url.hostname, port: Number(url.port) });
});

afterAll(async () => {
  await Promise.all(leaders.map((l) => l.stop()));
  await proxy?.close();
  await t?.drop();
});

it('a leader cut off steps down within ~10 s; the other replica takes over within ~15 s, after it', async () => {
  const events: string[] = [];
  const at = (who: string) => (leader: boolean) => events.push(`${who} ${leader ? 'leads' : 'steps down'}`);
  const cutOff = new AdvisoryLockLeader(proxy.via(t.url), at('cut-off'), 200);
  leaders.push(cutOff);
  cutOff.start();
  await waitFor(() => cutOff.isLeader, 10_000);
  const [{ now: otherFrom }] = await t.db.query(sql`SELECT now()`);
  const other = new AdvisoryLockLeader(t.url, at('other'), 200);
  leaders.push(other);
  other.start();
  await refusedOnce(otherFrom);
  expect(other.isLeader).toBe(false);

  proxy.freeze();
  const takeover = await timed(() => waitFor(() => other.isLeader, 40_000, 50));
  expect(takeover.ms).toBeGreaterThan(10_000); // PostgreSQL waited for the session's silence…
  expectWithin(takeover, 'takeover from a silent leader (PostgreSQL ends its session after 15 s)', 10_000, 15_000, 2_000); // …15 s of it, not hours
  expect(events).toEqual(['cut-off leads', 'cut-off steps down', 'other leads']);
}, 60_000);

it('stopped while still connecting, it never leads and leaves no session holding the lock', async () => {
  await Promise.all(leaders.splice(0).map((l) => l.stop())); // the first test's leader releases the lock
  const changes: boolean[] = [];
  const early = new AdvisoryLockLeader(t.url, (leader) => changes.push(leader), 200);
  early.start();
  await early.stop(); // its first attempt is still connecting
  await new Promise((r) => setTimeout(r, 1000));
  expect({ leader: early.isLeader, changes }).toEqual({ leader: false, changes: [] });
  const next = new AdvisoryLockLeader(t.url, () => {}, 200);
  leaders.push(next);
  next.start();
  await waitFor(() => next.isLeader, 5_000);
});
