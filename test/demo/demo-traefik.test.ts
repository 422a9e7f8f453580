/**
 * `traefik-sync demo` with a real Traefik (src/demo/with-traefik.ts): the banner's curl reaches the
 * sample backend through Traefik, applying the changed sample spec moves it to the other backend,
 * and Traefik stops with the demo. Without Traefik (`--traefik off`) the banner says so and shows
 * no curl. Skipped with the reason printed when no Traefik binary is found; fails in CI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/demo/embedded-postgres.js';
import { demoBanner } from '../../src/demo/banner.js';
import { stopChild } from '../helpers/child.js';
import { tempDir } from '../helpers/temp-dir.js';
import { traefikForSuite } from '../helpers/traefik.js';
import { BANNER, BIN, startDemo, stopLeftoverPostgres } from './run-demo.js';

const binary = traefikForSuite();

/** The banner's curl, run: `curl -H 'Host: H' http://127.0.0.1:PORT/` → the body, or the error's code. */
function curl(banner: string): Promise<string> {
  const m = /curl -H 'Host: ([^']+)' http:\/\/127\.0\.0\.1:(\d+)\//.exec(banner);
  if (!m) throw new Error(`no curl line in the banner:\n${banner}`);
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: Number(m[2]), path: '/', headers: { host: m[1] }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}

describe.skipIf(!binary)('traefik-sync demo with Traefik', () => {
  let home: string;
  beforeAll(async () => {
    home = await tempDir('tsync-demo-traefik-');
    await chmod(home, 0o755);
  });
  afterAll(async () => {
    await stopLeftoverPostgres(home);
  });

  it("the banner's curl reaches the sample backend; a changed spec applied changes its answer within a second; Traefik stops with the demo", async () => {
    const demo = startDemo(home, ['--traefik', binary!.path, '--http-addr', `127.0.0.1:${await freePort()}`], {}, true);
    try {
      await demo.until(new RegExp(BANNER));
      const banner = demo.out();
      expect(banner).toContain(`traefik    ${binary!.version}: http://127.0.0.1:`);
      // Traefik started with the generated static config serves the sample project (it loads at once, or moments later).
      const deadline = Date.now() + 10_000;
      let body = await curl(banner);
      while (!body.startsWith('blue') && Date.now() < deadline) body = await curl(banner);
      expect(body).toBe('blue backend: GET / (Host: hello.localhost)\n');

      // As the banner says: the green port into the sample spec, then `apply` with the exported settings.
      const green = /set targetPort: (\d+) in (\S+), then/.exec(banner)!;
      const spec = path.resolve(home, green[2]!);
      await writeFile(spec, (await readFile(spec, 'utf8')).replace(/targetPort: \d+/, `targetPort: ${green[1]}`));
      const exported = Object.fromEntries(
        [...banner.matchAll(/\b(DATABASE_URL|TRAEFIK_CONFIG_DIR|ALLOWED_INTERNAL_TARGETS)=(\S+)/g)].map((m) => [m[1]!, m[2]!]),
      );
      expect(exported.ALLOWED_INTERNAL_TARGETS).toBe('127.0.0.1');
      await promisify(execFile)(process.execPath, [BIN, 'apply', '-f', spec], { cwd: home, env: { PATH: process.env.PATH!, ...exported } });
      const applied = Date.now();
      while (!(body = await curl(banner)).startsWith('green') && Date.now() - applied < 10_000) await new Promise((r) => setTimeout(r, 20));
      const tookMs = Date.now() - applied;
      expect(body).toBe('green backend: GET / (Host: hello.localhost)\n');
      // "Within a second" on a quiet machine; the bound leaves room for a loaded CI runner.
      expect(tookMs).toBeLessThan(3_000);

      demo.child.kill('SIGTERM'); // what `kill` (or a service manager) sends; Ctrl-C is tested in demo.test.ts
      expect(await demo.exited).toEqual({ code: 143, signal: null });
      expect(await curl(banner)).toBe('ECONNREFUSED');
      expect(await readFile(path.join(home, '.traefik-sync-demo/traefik.log'), 'utf8')).toContain(
        '"message":"Starting provider *file.Provider"',
      );
    } finally {
      await stopChild(demo.child, 'SIGINT', 30_000);
    }
  }, 120_000);

  it('a second start reuses the sample backends and keeps the applied spec (green stays green)', async () => {
    const demo = startDemo(home, ['--traefik', binary!.path, '--http-addr', `127.0.0.1:${await freePort()}`], {}, true);
    try {
      await demo.until(new RegExp(BANNER));
      expect(demo.err()).not.toContain('the sample project, on the blue backend');
      const deadline = Date.now() + 10_000;
      let body = await curl(demo.out());
      while (!body.startsWith('green') && Date.now() < deadline) body = await curl(demo.out());
      expect(body).toBe('green backend: GET / (Host: hello.localhost)\n');
      demo.child.kill('SIGINT');
      expect(await demo.exited).toEqual({ code: 130, signal: null });
      expect(await curl(demo.out())).toBe('ECONNREFUSED');
    } finally {
      await stopChild(demo.child, 'SIGINT', 30_000);
    }
  }, 120_000);
});

describe('traefik-sync demo without Traefik', () => {
  it('the banner says Traefik is off and shows no curl', async () => {
    const home = await tempDir('tsync-demo-notraefik-');
    await chmod(home, 0o755);
    const demo = startDemo(home, ['--http-addr', `127.0.0.1:${await freePort()}`]); // --traefik off
    try {
      await demo.until(new RegExp(BANNER));
      expect(demo.out()).toContain('traefik    off (--traefik off)');
      expect(demo.out()).not.toContain('curl');
      expect(demo.out()).not.toContain('ALLOWED_INTERNAL_TARGETS');
    } finally {
      await stopChild(demo.child, 'SIGINT', 30_000);
      await stopLeftoverPostgres(home);
    }
  }, 120_000);

  it('when none is found, the banner says how to get one', () => {
    const text = demoBanner({
      base: 'http://127.0.0.1:9090',
      databaseUrl: 'postgres://postgres:demo@127.0.0.1:5432/postgres',
      configDir: { shown: './traefik-configs', absolute: '/x/traefik-configs' },
      dataDir: './.traefik-sync-demo',
      examplesDir: './examples',
      applied: null,
      driftMode: 'repair',
      traefik: { missing: 'not found (TRAEFIK_BIN, .tools/, PATH); scripts/install-test-tools.sh traefik installs it' },
    });
    expect(text).toContain('scripts/install-test-tools.sh traefik');
    expect(text).not.toContain('curl');
  });
});
