/**
 * The database password stays out of the process list: `--database-url` with a password warns
 * (ps shows every process's arguments to every user), DATABASE_URL_FILE names a file holding the
 * URL instead (a mounted Secret), and its errors name the setting, never the URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, requireDatabaseUrl } from '../../src/config.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cli } from '../reliability/support.js';

let t: TestDatabase;
let dir: string;

beforeAll(async () => {
  t = await createTestDatabase();
  dir = await tempDir('tsync-dburl-');
});
afterAll(async () => {
  await t?.drop();
});

describe('--database-url on the command line', () => {
  it('with a password: a warning naming the environment and the file alternatives, never the password', () => {
    const password = new URL(t.url).password;
    expect(password.length).toBeGreaterThan(0);
    const r = cli(['migrate', '--database-url', t.url]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: --database-url holds a password.*process list.*DATABASE_URL.*DATABASE_URL_FILE/);
    expect(r.stderr + r.stdout).not.toContain(password);
  });

  it('in the environment: no warning', () => {
    const r = cli(['migrate'], { DATABASE_URL: t.url });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });
});

describe('DATABASE_URL_FILE', () => {
  it('the URL is read from the file (a trailing newline is fine)', async () => {
    const file = path.join(dir, 'url');
    await writeFile(file, `${t.url}\n`, { mode: 0o600 });
    const r = cli(['migrate'], { DATABASE_URL_FILE: file });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/schema is up to date|applied/);
  });

  it.each([
    ['a missing file', 'missing', null, /--database-url-file \(DATABASE_URL_FILE\): cannot read .*ENOENT/],
    [
      'a file without a URL',
      'junk',
      'host=db password=hunter2-pw',
      /--database-url-file \(DATABASE_URL_FILE\): the file does not hold a postgres/,
    ],
  ])('%s: one line naming the setting, not the content', async (_name, base, content, says) => {
    const file = path.join(dir, base);
    if (content !== null) await writeFile(file, content);
    const config = loadConfig({}, { DATABASE_URL_FILE: file });
    expect(() => requireDatabaseUrl(config)).toThrow(says);
    const r = cli(['migrate'], { DATABASE_URL_FILE: file });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toContain('hunter2-pw');
  });

  it('DATABASE_URL, when also given, wins (flags and the URL itself before a file)', async () => {
    const config = loadConfig({}, { DATABASE_URL: t.url, DATABASE_URL_FILE: path.join(dir, 'missing') });
    expect(requireDatabaseUrl(config)).toBe(t.url);
  });
});
