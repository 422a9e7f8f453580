/**
 * The config-service commands as a user runs them (the built bin): apply / --dry-run / export
 * round trip with zero row changes and zero audit entries, certificates exported as 0600 files
 * or by fingerprint (never key material on stdout), broken YAML files refused line by line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { builtCli } from '../helpers/requires.js';
import { tempDir } from '../helpers/temp-dir.js';
import { auditCount, rowCounts } from './helpers.js';

const BIN = fileURLToPath(new URL('../../bin/traefik-sync.js', import.meta.url));
const example = (n: string) => fileURLToPath(new URL(`../../examples/${n}`, import.meta.url));
const fixture = (n: string) => fileURLToPath(new URL(`../fixtures/${n}`, import.meta.url));

let t: TestDatabase;
let dir: string;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    cwd: dir,
    env: { PATH: process.env.PATH, DATABASE_URL: t.url, LOG_LEVEL: 'warn' },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  t = await createTestDatabase();
  dir = await tempDir('tsync-cli-cs-');
});
afterAll(async () => {
  await t.drop();
});

builtCli().describe('apply / export on the command line', () => {
  it('apply --dry-run prints the row changes and writes nothing; apply writes them', async () => {
    const dry = cli(['apply', '-f', example('shop.yaml'), '--dry-run']);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^\(dry run\) create route shop\.example\.com\/api → api$/m);
    expect(dry.stdout).toMatch(/^project shop: would change 10 created, 0 updated, 0 deleted$/m);
    expect((await rowCounts(t.db)).projects).toBe(0);
    const real = cli(['apply', '-f', example('shop.yaml'), '--actor', 'ci']);
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(/^project shop: changed 10 created, 0 updated, 0 deleted$/m);
    expect(cli(['apply', '-f', example('blog.yaml')]).code).toBe(0);
  });

  it('export → apply is a no-op: zero row changes, zero audit entries', async () => {
    const exported = cli(['export', '--project', 'shop']);
    expect(exported.code).toBe(0);
    const file = path.join(dir, 'shop-exported.yaml');
    await writeFile(file, exported.stdout);
    const rows = await rowCounts(t.db);
    const audit = await auditCount(t.db);
    const again = cli(['apply', '-f', file]);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe('project shop: no changes');
    expect(await rowCounts(t.db)).toEqual(rows);
    expect(await auditCount(t.db)).toBe(audit);
  });

  it('a changed spec updates in place; history names the actor', async () => {
    const text = (await readFile(example('shop.yaml'), 'utf8')).replace('targetPort: 3000', 'targetPort: 3001');
    const file = path.join(dir, 'shop-v2.yaml');
    await writeFile(file, text);
    const r = cli(['apply', '-f', file, '--actor', 'deploy-bot']);
    expect(r.stdout, r.stderr).toMatch(/^update route shop\.example\.com\/api → api: target_port 3000 → 3001$/m);
    const h = cli(['history', '--project', 'shop', '--limit', '1']);
    expect(h.stdout, h.stderr).toMatch(
      /deploy-bot {2}UPDATE route_configs {2}route shop\.example\.com\/api → api:3001: target_port 3000 → 3001/,
    );
  });

  it('certificates: by fingerprint on stdout, as 0600 files with --cert-dir; both round-trip', async () => {
    await copyFile(fixture('secure.shop.example.crt'), path.join(dir, 'secure.crt'));
    await copyFile(fixture('secure.shop.example.key'), path.join(dir, 'secure.key'));
    const spec = path.join(dir, 'vault.yaml');
    await writeFile(
      spec,
      [
        'name: vault',
        'services: [{name: vault}]',
        'domains:',
        '  - {domain: shop.example, subdomain: secure, provider: custom, certificate: {certFile: secure.crt, keyFile: secure.key},',
        '     routes: [{path: /, service: vault, targetPort: 8200}]}',
        '',
      ].join('\n'),
    );
    expect(cli(['apply', '-f', spec]).code).toBe(0);

    const plain = cli(['export', '--project', 'vault']);
    expect(plain.stdout).toMatch(/fingerprint: sha256:[0-9a-f]{64}/);
    expect(plain.stdout).toMatch(/key material is never exported/);
    expect(plain.stdout + plain.stderr).not.toContain('PRIVATE KEY');
    await writeFile(path.join(dir, 'vault-fp.yaml'), plain.stdout);
    expect(cli(['apply', '-f', path.join(dir, 'vault-fp.yaml')]).stdout.trim()).toBe('project vault: no changes');

    const out = path.join(dir, 'out', 'vault.yaml');
    const withFiles = cli(['export', '--project', 'vault', '--cert-dir', path.join(dir, 'out', 'certs'), '-o', out]);
    expect(withFiles.code).toBe(0);
    expect(withFiles.stdout).toBe('');
    const written = await readFile(out, 'utf8');
    expect(written).toContain('certFile: certs/secure.shop.example.crt');
    expect(written).toContain('keyFile: certs/secure.shop.example.key');
    expect((await stat(path.join(dir, 'out/certs/secure.shop.example.key'))).mode & 0o777).toBe(0o600);
    expect(cli(['apply', '-f', out]).stdout.trim()).toBe('project vault: no changes');
    const dry = cli(['apply', '-f', spec, '--dry-run']);
    expect(dry.stdout + dry.stderr).not.toContain('PRIVATE KEY');
  });
});

builtCli().describe('broken spec files', () => {
  const cases: Array<[string, string | Buffer, RegExp]> = [
    ['YAML syntax error', 'name: shop\nservices: [\n', /^[^:]+\.yaml:\d+: YAML: /m],
    ['duplicate keys', 'name: shop\nname: other\n', /:2: YAML: Map keys must be unique/],
    ['two documents', 'name: a\n---\nname: b\n', /:2: YAML: the file holds more than one document/],
    ['invalid UTF-8 bytes', Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xff, 0xfe, 0x0a]), /the file is not valid UTF-8/],
    [
      'alias bomb',
      `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\nname: shop\n`,
      /YAML: .*alias|unknown field/i,
    ],
    ['over 1 MiB', `name: shop\n# ${'x'.repeat(1024 * 1024)}\n`, /at most 1048576 allowed/],
    ['a list instead of a mapping', '- name: shop\n', /expected an object, got a list/],
    ['empty file', '', /expected an object|is required/],
  ];
  it.each(cases)('%s: one line per error, exit 1, no stack, nothing written', async (name, content, want) => {
    const file = path.join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
    await writeFile(file, content);
    const before = await rowCounts(t.db);
    const r = cli(['apply', '-f', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(want);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toMatch(/problem\(s\); nothing was written/);
    expect(await rowCounts(t.db)).toEqual(before);
  });

  it('a missing file and a missing -f are one line each', () => {
    const file = path.join(dir, 'nope.yaml');
    const missing = cli(['apply', '-f', file]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`traefik-sync apply: -f: cannot read ${JSON.stringify(file)}: no such file\n`);
    const noFlag = cli(['apply']);
    expect(noFlag.code).toBe(2);
    expect(noFlag.stderr.trim().split('\n')).toHaveLength(1);
    expect(noFlag.stderr).toMatch(/--file is required/);
  });
});
