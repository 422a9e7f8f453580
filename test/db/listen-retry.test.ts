/**
 * The LISTEN session after an outage: once the database answers again (the pool saw it), the
 * session reconnects at once instead of waiting out its backoff, so notifications resume with
 * the database and not up to a backoff period later (src/db/listen.ts `retryNow`).
 */
import { afterAll, expect, it } from 'vitest';
import { Listener } from '../../src/db/listen.js';
import { switchProxy, type SwitchProxy } from '../fleet/switch-proxy.js';
import { freePort } from '../../src/demo/embedded-postgres.js';
import { waitFor } from '../helpers/sidecar.js';
import { databaseForFile } from '../helpers/db.js';

const t = databaseForFile();
let proxy: SwitchProxy | undefined;
let listener: Listener | undefined;

afterAll(async () => {
  await listener?.stop();
  await proxy?.close();
});

it('reconnects as soon as retryNow is called, not after its (here one-minute) backoff', async () => {
  const realPort = Number(new URL(t.url).port);
  proxy = await switchProxy(await freePort()); // nothing listens there: the database is "down"
  let connects = 0;
  let failures = 0;
  listener = new Listener({
    databaseUrl: proxy.via(t.url),
    backoff: { baseMs: 60_000, maxMs: 60_000 },
    onConnected: () => connects++,
  });
  listener.start();
  // The first attempt fails; the next would be a minute away.
  await waitFor(() => !listener!.connected && ++failures > 5, 5_000, 50);
  proxy.switchTo(realPort); // the database is back
  const since = Date.now();
  await waitFor(
    () => {
      listener!.retryNow(); // what the controller does when its pool finds the database up again
      return listener!.connected;
    },
    10_000,
    100,
  );
  expect(connects).toBe(1);
  expect(Date.now() - since).toBeLessThan(10_000);
  // While connected it is a no-op: no second session.
  listener.retryNow();
  expect(await listener.ping()).toBe(true);
  expect(connects).toBe(1);
});
