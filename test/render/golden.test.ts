import { describe, expect, it } from 'vitest';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderProject } from '../../src/render/project.js';
import { renderStatic } from '../../src/render/static.js';
import { shop } from './fixtures.js';

const GOLDEN = fileURLToPath(new URL('../golden/', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';

async function listGolden(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    out.push(...(e.isDirectory() ? await listGolden(dir, r) : [r]));
  }
  return out.sort();
}

/** Golden files are reviewed by reading them; regenerate with UPDATE_GOLDEN=1 and read the diff. */
describe('renderer golden files', () => {
  it('renders the sample project to the reviewed bytes', async () => {
    const r = renderProject(shop, { configDir: '/app/traefik-configs' });
    expect(r.problems).toEqual([]);
    const files = [...r.files, renderStatic({ configDir: '/app/traefik-configs', resolvers: ['letsencrypt', 'custom'] })];
    if (update) {
      await rm(GOLDEN, { recursive: true, force: true });
      for (const f of files) {
        await mkdir(path.dirname(path.join(GOLDEN, f.path)), { recursive: true });
        await writeFile(path.join(GOLDEN, f.path), f.content);
      }
    }
    expect(files.map((f) => f.path).sort()).toEqual(await listGolden(GOLDEN));
    for (const f of files) expect(f.content, f.path).toBe(await readFile(path.join(GOLDEN, f.path), 'utf8'));
  });

  it('is deterministic: the same state renders the same bytes, whatever the row order', () => {
    const a = renderProject(shop, { configDir: '/c' });
    const shuffled = {
      ...shop,
      services: [...shop.services].reverse(),
      domains: [...shop.domains].reverse().map((d) => ({ ...d, routes: [...d.routes].reverse() })),
    };
    const b = renderProject(shuffled, { configDir: '/c' });
    expect(b.files.map((f) => [f.path, f.checksum]).sort()).toEqual(a.files.map((f) => [f.path, f.checksum]).sort());
  });
});
