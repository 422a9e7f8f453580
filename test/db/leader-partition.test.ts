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

let t: TestDatabase;
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
  const other = new AdvisoryLockLeader(t.url, at('other'), 200);
  leaders.push(other);
  other.start();
  await new Promise((r) => setTimeout(r, 1000));
  expect(other.isLeader).toBe(false);

  proxy.freeze();
  const frozenAt = Date.now();
  await waitFor(() => other.isLeader, 30_000, 50);
  const tookOver = Date.now() - frozenAt;
  expect(tookOver).toBeGreaterThan(10_000); // PostgreSQL waited for the session's silence…
  expect(tookOver).toBeLessThan(25_000); // …15 s of it, not hours
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
