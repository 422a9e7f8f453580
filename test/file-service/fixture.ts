/**
 * A running sidecar on the sample projects, with hostile things planted around its config root:
 * a canary file outside the root, symbolic links out of the root and into ssl/keys, a hard link to
 * the canary, a stray PEM key outside ssl/keys, a FIFO and an oversized file.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileApiRoutes, type FileApiOptions } from '../../src/file-service/http.js';
import type { TraefikFileSystemService } from '../../src/file-service/service.js';
import type { TestDatabase } from '../helpers/db.js';
import { KEY_PEM, seedSample } from '../helpers/seed.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';
import { tempDir } from '../helpers/temp-dir.js';

export interface HostileFixture {
  readonly s: TestSidecar;
  /** Folder holding the config root and, beside it, the canary. */
  readonly base: string;
  /** Random text of the canary files outside the root: must never appear in an answer. */
  readonly canary: string;
  /** Lines of the sample private key: none may ever appear in an answer. */
  readonly keyLines: string[];
}

/** Sidecar + plants. `flags` go to the sidecar (e.g. drift-mode). `base` is removed after the test file. */
export async function startHostileFixture(t: TestDatabase, flags: Record<string, string> = {}): Promise<HostileFixture> {
  await seedSample(t.db);
  const base = await tempDir('tsync-hostile-');
  const root = path.join(base, 'configs');
  await mkdir(root);
  const canary = `CANARY-${randomBytes(12).toString('hex')}`;
  await writeFile(path.join(base, 'canary.txt'), `${canary}\n`);
  await mkdir(path.join(base, 'outside'));
  await writeFile(path.join(base, 'outside', 'canary.yml'), `secret: ${canary}\n`);
  const s = await startTestSidecar(t.url, { interval: '30s', ...flags, 'config-dir': root });
  try {
    await waitFor(async () => (await s.get('/readyz')).status === 200, 10_000);

    // Links out of the root, into the keys, and dangling; a key outside ssl/keys; odd file types.
    await symlink(path.join(base, 'outside'), path.join(root, 'dynamic', 'escape-link'));
    await symlink(path.join(base, 'canary.txt'), path.join(root, 'dynamic', 'shop', 'escape.yml'));
    await symlink('../ssl/keys/secure.shop.example.key', path.join(root, 'dynamic', 'keylink.yml'));
    await symlink(path.join(root, 'ssl', 'keys'), path.join(root, 'static', 'keysdir'));
    await symlink('/nonexistent-outside-root/x.yml', path.join(root, 'dynamic', 'dangling-out'));
    await symlink('/etc', path.join(root, 'static', 'etc'));
    await symlink('../dynamic/shop/domains.yml', path.join(root, 'static', 'inside-link.yml'));
    await writeFile(path.join(root, 'static', 'notes.txt'), `copied by hand:\n${KEY_PEM}`);
    await link(path.join(base, 'canary.txt'), path.join(root, 'static', 'hardlink.yml'));
    execFileSync('mkfifo', [path.join(root, 'static', 'pipe')]);
    await writeFile(path.join(root, 'static', 'big.yml'), Buffer.alloc(6 * 1024 * 1024, 0x61));
  } catch (err) {
    await s.stop().catch(() => {}); // the caller never gets it to stop, and its root is about to go
    throw err;
  }
  const keyLines = KEY_PEM.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
  return { s, base, canary, keyLines };
}

/** GET with the request target sent exactly as given (no URL normalisation by a client). */
export function rawGet(
  port: number,
  target: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: target, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout: ${target.slice(0, 100)}`)));
    req.on('error', reject);
    req.end();
  });
}

/** Only the file API's routes for `service`, on a free port of 127.0.0.1 (no sidecar around them). */
export async function serveFileApi(
  service: TraefikFileSystemService,
  options: FileApiOptions = {},
): Promise<{ port: number; close(): Promise<void> }> {
  const routes = fileApiRoutes(service, options);
  const server = createServer((req, res) => {
    const url = new URL(`http://localhost${req.url ?? '/'}`);
    const handler = routes.get(url.pathname);
    if (!handler) return void res.writeHead(404).end();
    Promise.resolve(handler(req, res, url)).catch(() => (res.headersSent ? res.destroy() : res.writeHead(500).end()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
