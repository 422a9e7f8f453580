/**
 * File content comes from disk; only `inSync` needs the database. A database that stops
 * answering (a network partition: a TCP proxy that stops forwarding, nothing reset) must not
 * hold the answer for longer than the sync-check timeout (a diff, which needs the database, is
 * refused with 503 after the diff timeout), and must leave no unhandled rejection.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect, sql, type ConnectionPool } from '../../src/db/connect.js';
import { checksumOf } from '../../src/render/serialize.js';
import { TraefikFileSystemService } from '../../src/file-service/service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { waitFor } from '../helpers/sidecar.js';
import { freezableProxy, type FreezableProxy } from '../helpers/freezable-proxy.js';
import { tempDir } from '../helpers/temp-dir.js';
import { expectWithin, timed } from '../helpers/timing.js';
import { rawGet, serveFileApi } from './fixture.js';

const FILE = 'dynamic/shop/domains.yml';
const TEXT = 'http: {}\n';

let t: TestDatabase;
let proxy: FreezableProxy;
let db: ConnectionPool;
let root: string;

beforeAll(async () => {
  t = await createTestDatabase();
  await t.db.query(
    sql`INSERT INTO traefik_configs (config_type, file_path, content, checksum) VALUES ('dynamic', ${FILE}, ${TEXT}, ${checksumOf(TEXT)})`,
  );
  const url = new URL(t.url);
  proxy = await freezableProxy({ host: url.hostname, port: Number(url.port) });
  db = connect(proxy.via(t.url), { poolSize: 2 });
  root = path.join(await tempDir('tsync-slowdb-'), 'root');
  await mkdir(path.join(root, 'dynamic/shop'), { recursive: true });
  await writeFile(path.join(root, FILE), TEXT);
});

afterAll(async () => {
  proxy?.thaw();
  await db?.dispose().catch(() => {});
  await proxy?.close();
  await t?.drop();
});

it('content answers within the sync-check timeout with inSync null while the database hangs (a diff: 503), and after it heals, in sync again', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const files = new TraefikFileSystemService({ root, db }); // the default timeout: 1 s
    expect(await files.getFileContent(FILE)).toMatchObject({ inSync: true, recordedChecksum: checksumOf(TEXT) });

    proxy.freeze();
    const frozen = await timed(() => files.getFileContent(FILE));
    expect(frozen.value).toMatchObject({ content: TEXT, checksum: checksumOf(TEXT), inSync: null, recordedChecksum: null });
    expectWithin(frozen, 'content while the database hangs (sync-check timeout 1 s)', 1000, 1000);

    // While that lookup is still out (holding a pool connection), no new one is started: at once.
    const again = await timed(() => files.getFileContent(FILE));
    expect(again.value).toMatchObject({ content: TEXT, inSync: null });
    expectWithin(again, 'content while a lookup is still out', 0, 0);

    // A diff needs the recorded content: it is refused with 503 once the diff timeout has passed.
    const bounded = new TraefikFileSystemService({ root, db, diffTimeoutMs: 1500 });
    const diff = await timed(() =>
      bounded.getFileDiff(FILE).then(
        () => null,
        (err: unknown) => err,
      ),
    );
    expect(diff.value).toMatchObject({ status: 503, message: expect.stringContaining('no answer within 1.5 s') });
    expectWithin(diff, 'diff while the database hangs (diff timeout 1.5 s)', 1500, 1500);

    // Over HTTP too: a 200 that the OpenAPI schema allows (inSync null), without waiting (a lookup is still out).
    const api = await serveFileApi(files, { db });
    const res = await timed(() => rawGet(api.port, `/api/v1/files/content?path=${encodeURIComponent(FILE)}`).finally(() => api.close()));
    expect(res.value.status).toBe(200);
    expect(JSON.parse(res.value.body.toString())).toMatchObject({ inSync: null, content: TEXT });
    expectWithin(res, 'content over HTTP while the database hangs', 0, 1000);

    // The partition heals: the queries given up on fail now (connections reset), unobserved.
    proxy.thaw();
    // A new connection is needed (the frozen one was dropped): within the 1 s bound on a quiet machine, maybe not under load.
    await waitFor(async () => (await files.getFileContent(FILE)).inSync === true, 10_000, 100);
    expect(await bounded.getFileDiff(FILE)).toMatchObject({ inSync: true, diff: '' });
    // The queries given up on have settled by now (their connections were reset for the new one);
    // a rejection nobody handled would have been reported on the way.
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
}, 20_000);
