/**
 * 60+ hostile or broken specs, each through the service API and through the built CLI
 * (`traefik-sync apply -f`): refused with a message naming the field, nothing written (row and
 * audit counts unchanged), one line per error on stderr, never a stack trace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '../../src/config-service/errors.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { inProcess } from '../helpers/in-process.js';
import { builtCli } from '../helpers/requires.js';
import { tempDir } from '../helpers/temp-dir.js';
import { HOSTILE, TAKEN_DOMAIN, TAKEN_WILDCARD, baseSpec } from './hostile-cases.js';
import { rowCounts } from './helpers.js';

const BIN = fileURLToPath(new URL('../../bin/traefik-sync.js', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

/** Cases also run through a spawned process of the built bin (startup makes each ~1 s). */
const SPAWNED = new Set(
  HOSTILE.filter((_, i) => i % 5 === 0)
    .map((c) => c.name)
    .concat([
      'port 0',
      'port 70000',
      'IDN domain',
      'NUL byte in a header value',
      'domain active in another project',
      'custom provider without certificate',
      'wildcard active in another project',
      'wildcard with a resolver that is not a DNS-01 resolver',
    ]),
);

let t: TestDatabase;
let svc: TraefikConfigService;
let dir: string;

beforeAll(async () => {
  t = await createTestDatabase();
  svc = new TraefikConfigService(t.db, { actor: 'hostile' });
  const other = await svc.createProject({ name: 'other' });
  await svc.createDomainConfig({ projectId: other.id, domain: TAKEN_DOMAIN, sslEnabled: false });
  await svc.createDomainConfig({ projectId: other.id, domain: TAKEN_WILDCARD, sslEnabled: false });
  dir = await tempDir('tsync-hostile-');
});
afterAll(async () => {
  await t.drop();
});

/** The built CLI in a child process. */
function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, DATABASE_URL: t.url, LOG_LEVEL: 'warn' },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

it('the base spec is valid (each case below breaks exactly one thing)', async () => {
  const r = await svc.apply(baseSpec(), { baseDir: EXAMPLES, dryRun: true });
  expect(r.changes.length).toBeGreaterThan(5);
});

describe.each(HOSTILE)('$name', (c) => {
  const spec = () => {
    const s = baseSpec();
    c.mutate(s);
    return s;
  };

  it('is refused by the service API with an error naming the field; nothing written', async () => {
    const before = await rowCounts(t.db);
    const err = await svc.apply(spec(), { baseDir: EXAMPLES }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ValidationError);
    const issues = (err as ValidationError).issues;
    const hit = issues.find((i) => i.path.startsWith(c.field));
    expect(hit, JSON.stringify(issues)).toBeDefined();
    if (c.says) expect(hit!.message).toMatch(c.says);
    for (const i of issues) expect(i.message).not.toMatch(/\n|^\s+at /);
    expect(await rowCounts(t.db)).toEqual(before);
  });

  const check = async (run: (file: string) => Promise<{ code: number | null; stdout: string; stderr: string }>) => {
    const file = path.join(dir, `${c.name.replace(/[^a-z0-9]+/gi, '-')}.yaml`);
    // JSON is YAML: NUL bytes and lone surrogates survive as \u escapes.
    await writeFile(file, JSON.stringify(spec(), null, 1));
    const before = await rowCounts(t.db);
    const r = await run(file);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^\d+ problem\(s\); nothing was written$/);
    for (const line of lines.slice(0, -1)) expect(line.startsWith(`${file}`), line).toBe(true);
    expect(r.stderr).toContain(c.field);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toContain('PRIVATE KEY');
    expect(await rowCounts(t.db)).toEqual(before);
  };

  it('is refused by `apply -f` with one line per error and no stack', () =>
    check((file) => inProcess(['apply', '-f', file], { DATABASE_URL: t.url, LOG_LEVEL: 'warn' })));

  // The spawned-process variant needs `npm run build` (npm test builds first).
  if (SPAWNED.has(c.name)) {
    builtCli().it('is refused by the built `traefik-sync apply -f` process the same way', () =>
      check(async (file) => cli(['apply', '-f', file])),
    );
  }
});
