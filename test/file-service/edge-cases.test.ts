/**
 * Corner cases of the file service found in review: bytes that are not UTF-8, odd names,
 * directories reached through a symbolic link, and what `truncated` promises.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TraefikFileSystemService } from '../../src/file-service/service.js';
import type { DirectoryTree, TreeEntry, TreeOptions } from '../../src/file-service/types.js';
import type { Queryable } from '../../src/db/connect.js';
import { tempDir } from '../helpers/temp-dir.js';
import { rawGet, serveFileApi } from './fixture.js';

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

/** GET `target` from the file API of `service`: status and parsed JSON. */
async function apiGet(target: string, service = fs, db?: Queryable): Promise<{ status: number; json: any }> {
  const api = await serveFileApi(service, { db });
  try {
    const res = await rawGet(api.port, target);
    return { status: res.status, json: JSON.parse(res.body.toString()) };
  } finally {
    await api.close();
  }
}

describe('integer parameters', () => {
  it.each([
    ['/api/v1/files?depth=99999999', 'depth must be an integer from 0 to 10, got "99999999"'],
    ['/api/v1/files?depth=11', 'depth must be an integer from 0 to 10, got "11"'],
    ['/api/v1/files?depth=1.5', 'depth must be an integer from 0 to 10, got "1.5"'],
    ['/api/v1/files?offset=99999999', 'offset must be an integer from 0 to 1000000, got "99999999"'],
    ['/api/v1/files?offset=-1', 'offset must be an integer from 0 to 1000000, got "-1"'],
    ['/api/v1/files?limit=0', 'limit must be an integer from 1 to 1000, got "0"'],
    ['/api/v1/files?limit=123456789012345678901', 'limit must be an integer from 1 to 1000, got "123456789012345678901"'],
    ['/api/v1/drift?limit=99999999', 'limit must be an integer from 1 to 500, got "99999999"'],
    ['/api/v1/drift?limit=abc', 'limit must be an integer from 1 to 500, got "abc"'],
  ])('%s is refused with the allowed range, the name and the value', async (target, error) => {
    const db = { query: async () => [] } as unknown as Queryable;
    expect(await apiGet(target, fs, db)).toEqual({ status: 400, json: { error } });
  });

  it('in range they are served', async () => {
    const res = await apiGet('/api/v1/files?depth=10&offset=0&limit=1000');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ depth: 10, offset: 0, limit: 1000 });
  });
});

describe('a "%" in a file name', () => {
  it('opens when asked for as %25, in the service and over HTTP; a malformed query string is still refused', async () => {
    await writeFile(path.join(root, 'dynamic/100%.yml'), 'a: 1\n');
    await writeFile(path.join(root, 'dynamic/50%25.yml'), 'b: 2\n');
    expect((await fs.getTraefikFileSystem('dynamic')).children.map((e) => e.path)).toContain('dynamic/100%.yml');
    expect((await fs.getFileContent('dynamic/100%.yml')).content).toBe('a: 1\n');
    for (const [name, body] of [
      ['dynamic/100%.yml', 'a: 1\n'],
      ['dynamic/50%25.yml', 'b: 2\n'],
    ]) {
      for (const route of ['/api/v1/files/content', '/api/v1/files/download']) {
        const api = await serveFileApi(fs);
        const res = await rawGet(api.port, `${route}?path=${encodeURIComponent(name!)}`).finally(() => api.close());
        expect(res.status, `${route} ${name}: ${res.body.toString()}`).toBe(200);
        expect(res.body.toString()).toContain(route.endsWith('content') ? JSON.stringify(body) : body);
      }
    }
    const malformed = await apiGet('/api/v1/files/content?path=dynamic/100%.yml');
    expect(malformed).toEqual({
      status: 400,
      json: { error: 'malformed percent-encoding in the query string (write a literal "%" as %25)' },
    });
  });

  it('does not open a way around the traversal checks', async () => {
    await writeFile(path.join(root, 'dynamic/%.yml'), 'c: 3\n');
    expect((await fs.getFileContent('dynamic/%.yml')).content).toBe('c: 3\n');
    for (const raw of ['%2e%2e', '%%2e%2e', '%252e%252e', '%25%32e%25%32e', '%%32e%%32e', 'dynamic/%2f..', 'x%c0%ae', '%25c0%25ae']) {
      await expect(fs.getFileContent(raw), raw).rejects.toMatchObject({ status: 400 });
    }
  });
});

/** True when some entry below `entries` is truncated. */
const anyTruncated = (entries: readonly TreeEntry[]): boolean =>
  entries.some((e) => e.truncated === true || anyTruncated(e.children ?? []));

describe('truncated', () => {
  it('of the answer is true exactly when it pages or an entry in it is truncated; restricted directories are withheld, not truncated', async () => {
    const ssl = await fs.getTraefikFileSystem('ssl');
    const keys = ssl.children.find((e) => e.name === 'keys')!;
    expect(keys).toMatchObject({ restricted: true });
    expect(keys.truncated).toBeUndefined();
    expect(keys.children).toBeUndefined();
    expect(ssl.truncated).toBe(false);

    for (let i = 0; i < 5; i++) await writeFile(path.join(root, `dynamic/shop/s${i}.yml`), 'x: 1\n');
    const small = new TraefikFileSystemService({ root, maxEntries: 4 });
    const cases: Array<[TraefikFileSystemService, string, TreeOptions]> = [
      [fs, 'ssl', {}],
      [fs, '', {}],
      [fs, '', { depth: 0 }],
      [fs, '', { depth: 1 }],
      [fs, '', { depth: 10 }],
      [fs, 'dynamic/shop', { limit: 2 }],
      [fs, 'dynamic/shop', { offset: 4 }],
      [small, '', { depth: 10 }],
    ];
    for (const [service, dir, options] of cases) {
      const tree = await service.getTraefikFileSystem(dir, options);
      const pages = tree.offset > 0 || tree.nextOffset !== null;
      expect(tree.truncated, `${dir || '(root)'} ${JSON.stringify(options)}`).toBe(pages || anyTruncated(tree.children));
    }
  });
});
