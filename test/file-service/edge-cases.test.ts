/**
 * Corner cases of the file service found in review: bytes that are not UTF-8, odd names,
 * directories reached through a symbolic link, and what `truncated` promises.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TraefikFileSystemService } from '../../src/file-service/service.js';
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
