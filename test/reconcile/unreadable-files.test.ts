/**
 * Promise (per-project isolation, "never touches what is not ours"): a file on the volume that
 * the controller cannot read — e.g. created by root with mode 0600, while the image runs as
 * UID 10001 — is treated as not ours. It is never overwritten or removed; a project whose file
 * it sits in the way of fails with a message naming the path and the error; every other project
 * is still written. (It was: the first EACCES aborted the whole pass, so nothing was written and
 * the controller never became ready.)
 *
 * Root reads every file whatever its mode, so the CLI runs here as `nobody` (65534); the test is
 * skipped, with the reason printed, where this process is not root, and fails with it in CI
 * (test/helpers/requires.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { requirement } from '../helpers/requires.js';
import { seedSample } from '../helpers/seed.js';
import { tempDir } from '../helpers/temp-dir.js';

const BIN = fileURLToPath(new URL('../../bin/traefik-sync.js', import.meta.url));
const NOBODY = 65534;

/** Root, to run the CLI as another user, who can read the CLI. */
const asRoot = requirement(
  'root (unreadable-files test)',
  (() => {
    if (process.getuid?.() !== 0) return 'needs root (to run the CLI as another user)';
    const r = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(BIN)}, require('fs').constants.R_OK)`], {
      uid: NOBODY,
      gid: NOBODY,
    });
    return r.status === 0 ? null : `user ${NOBODY} cannot read ${BIN}`;
  })(),
);

let t: TestDatabase;
let root = '';

/** `path` under the root, made by root with mode 0600 (unreadable to everyone else). */
async function rootOnly(rel: string, text: string): Promise<void> {
  const abs = path.join(root, rel);
  await writeFile(abs, text, { mode: 0o600 });
  await chown(abs, 0, 0);
}

beforeAll(async () => {
  if (asRoot.missing) return;
  t = await createTestDatabase();
  await seedSample(t.db);
  root = await tempDir('tsync-unreadable-');
  for (const dir of ['dynamic', 'dynamic/blog', 'dynamic/notes']) {
    await mkdir(path.join(root, dir), { recursive: true });
  }
  for (const dir of ['', 'dynamic', 'dynamic/blog', 'dynamic/notes']) await chown(path.join(root, dir), NOBODY, NOBODY);
}, 60_000);

afterAll(async () => {
  await t?.drop();
});

describe('files the controller cannot read', () => {
  asRoot.it(
    'are left alone; the project they block fails with the path named; the others are written',
    async () => {
      await rootOnly('dynamic/blog/domains.yml', 'http: {}  # hand-made by root\n');
      await rootOnly('dynamic/notes/private.yml', "http: {}  # someone else's\n");
      const r = spawnSync(process.execPath, [BIN, 'sync', '--once', '--config-dir', root], {
        uid: NOBODY,
        gid: NOBODY,
        encoding: 'utf8',
        timeout: 60_000,
        // The sample's admin-auth@kubernetescrd needs Traefik to run that provider.
        env: { PATH: process.env.PATH, DATABASE_URL: t.url, LOG_LEVEL: 'warn', TRAEFIK_EXTRA_PROVIDERS: 'kubernetescrd' },
      });
      const out = `${r.stdout}\n${r.stderr}`;
      expect(r.status, out).toBe(1); // one project failed
      // The other projects were written…
      expect((await stat(path.join(root, 'dynamic/shop/domains.yml'))).isFile()).toBe(true);
      expect((await stat(path.join(root, 'static/traefik.yml'))).isFile()).toBe(true);
      // …the unreadable files were not touched…
      expect(await readFile(path.join(root, 'dynamic/blog/domains.yml'), 'utf8')).toBe('http: {}  # hand-made by root\n');
      expect(await readFile(path.join(root, 'dynamic/notes/private.yml'), 'utf8')).toBe("http: {}  # someone else's\n");
      // …and the failure names the file and why.
      expect(out).toMatch(/dynamic\/blog\/domains\.yml: cannot be read \(EACCES\)/);
    },
    90_000,
  );
});
