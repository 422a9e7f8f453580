/**
 * Corner cases of the file service found in review: bytes that are not UTF-8, odd names,
 * directories reached through a symbolic link, and what `truncated` promises.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TraefikFileSystemService } from '../../src/file-service/service.js';
import type { DirectoryTree } from '../../src/file-service/types.js';
import { tempDir } from '../helpers/temp-dir.js';

let root: string;
let fs: TraefikFileSystemService;

beforeEach(async () => {
  root = path.join(await tempDir('tsync-edge-'), 'root');
  for (const d of ['dynamic/shop', 'ssl/certs', 'ssl/keys']) await mkdir(path.join(root, d), { recursive: true });
  await writeFile(path.join(root, 'ssl/keys/secure.sec.example.com.key'), 'key');
  await writeFile(path.join(root, 'ssl/certs/secure.sec.example.com.crt'), 'cert');
  fs = new TraefikFileSystemService({ root });
});

const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

describe('checksums', () => {
  it('are of the bytes on disk, also when they are not valid UTF-8', async () => {
    const bytes = Buffer.from('x: caf\xe9\n', 'latin1');
    await writeFile(path.join(root, 'dynamic/latin1.yml'), bytes);
    const content = await fs.getFileContent('dynamic/latin1.yml');
    const download = await fs.downloadFile('dynamic/latin1.yml');
    expect(content.checksum).toBe(sha256(bytes));
    expect(download.checksum).toBe(sha256(bytes));
    expect(download.data.equals(bytes)).toBe(true);
    // Valid UTF-8: the checksum of the bytes is the checksum of the text (what traefik_configs records).
    await writeFile(path.join(root, 'dynamic/utf8.yml'), 'x: café ☕\n');
    expect((await fs.getFileContent('dynamic/utf8.yml')).checksum).toBe(sha256('x: café ☕\n'));
  });
});

describe('listings through a symbolically linked directory', () => {
  it('judge key material on the real path: dynamic/alias -> ../ssl hides the names in keys', async () => {
    await symlink('../ssl', path.join(root, 'dynamic/alias'));
    const direct = await fs.getTraefikFileSystem('ssl', { depth: 2 });
    const linked = await fs.getTraefikFileSystem('dynamic/alias', { depth: 2 });
    const keysOf = (tree: DirectoryTree) => tree.children.find((e) => e.name === 'keys')!;
    expect(keysOf(direct)).toMatchObject({ path: 'ssl/keys', type: 'directory', restricted: true });
    expect(keysOf(linked)).toMatchObject({ path: 'dynamic/alias/keys', type: 'directory', restricted: true });
    expect(keysOf(linked).children).toBeUndefined();
    expect(JSON.stringify(linked)).not.toContain('secure.sec.example.com.key');
    // Certificates are not key material, whichever way they are reached.
    const certs = linked.children.find((e) => e.name === 'certs')!;
    expect(certs.children!.map((e) => e.name)).toEqual(['secure.sec.example.com.crt']);
    // A *.key file in a linked directory, and a nested link inside a listing (described, not followed).
    await writeFile(path.join(root, 'ssl/certs/odd.KEY'), 'key');
    await symlink('../../ssl', path.join(root, 'dynamic/shop/ssl-link'));
    const shop = await fs.getTraefikFileSystem('dynamic', { depth: 5 });
    expect(JSON.stringify(shop)).not.toContain('secure.sec.example.com.key');
    const viaAlias = shop.children.find((e) => e.name === 'alias')!;
    expect(viaAlias).toMatchObject({ type: 'symlink', target: 'ssl' });
    expect(viaAlias.children).toBeUndefined();
    const again = await fs.getTraefikFileSystem('dynamic/alias/certs');
    expect(again.children.find((e) => e.name === 'odd.KEY')).toMatchObject({ restricted: true });
    expect(again.children.find((e) => e.name === 'odd.KEY')!.owned).toBeUndefined();
  });
});
