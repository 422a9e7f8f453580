/**
 * `export --cert-dir DIR` writes key material: each file is new (0600 from its first byte, whatever
 * mode an older file of that name had) and nothing is written through a symbolic link planted in
 * DIR (the export refuses, naming it, and the link's target stays as it was).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lstat, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { KEY_PEM, seedSample } from '../helpers/seed.js';
import { tempDir } from '../helpers/temp-dir.js';

let t: TestDatabase;
let svc: TraefikConfigService;
const KEY = 'secure.shop.example.key';
const CRT = 'secure.shop.example.crt';

beforeAll(async () => {
  t = await createTestDatabase();
  await seedSample(t.db);
  svc = new TraefikConfigService(t.db, { actor: 'export-test' });
});
afterAll(async () => {
  await t?.drop();
});

describe('export --cert-dir', () => {
  it('replaces an older world-readable key file with a new 0600 one', async () => {
    const dir = await tempDir('tsync-export-');
    await writeFile(path.join(dir, KEY), 'old\n', { mode: 0o644 });
    const before = await stat(path.join(dir, KEY));
    await svc.exportSpec('shop', { certDir: dir, specDir: dir });
    const after = await stat(path.join(dir, KEY));
    expect(after.mode & 0o777).toBe(0o600);
    expect(after.ino).not.toBe(before.ino); // a new file: never the old one chmodded after the key was in it
    expect(await readFile(path.join(dir, KEY), 'utf8')).toBe(KEY_PEM);
    expect((await stat(path.join(dir, CRT))).mode & 0o777).toBe(0o600);
  });

  it.each([KEY, CRT])('refuses to write through a link planted at %s; its target is untouched', async (name) => {
    const dir = await tempDir('tsync-export-');
    const outside = await tempDir('tsync-export-outside-');
    const target = path.join(outside, 'target');
    await writeFile(target, 'outside\n', { mode: 0o644 });
    await symlink(target, path.join(dir, name));
    await expect(svc.exportSpec('shop', { certDir: dir, specDir: dir })).rejects.toThrow(
      new RegExp(`${name.replace(/\./g, '\\.')} is a symbolic link`),
    );
    expect(await readFile(target, 'utf8')).toBe('outside\n');
    expect((await stat(target)).mode & 0o777).toBe(0o644);
    expect((await lstat(path.join(dir, name))).isSymbolicLink()).toBe(true);
  });
});
