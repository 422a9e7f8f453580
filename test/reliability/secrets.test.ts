/**
 * Promise (docs/contract.md §3 "Secrets (database password, key PEM) never appear in logs, errors, diffs or
 * metrics"; README "the password never appears in logs, errors or metrics"): a representative run
 * of the other promises — the controller at debug level, a kill -9, connections killed, PostgreSQL
 * stopped and restarted, a hand-edited private key, `diff`, `sync --once`, `apply`/`export`/
 * `history`, wrong passwords and bad URLs — against a PostgreSQL whose password is
 * `Sup3r-S3cret-pw!`, with a custom certificate whose key is test/fixtures/secure.shop.example.key,
 * and a project whose routes carry credentials (header token, bearer, basicAuth hash, URL password,
 * forwardAuth token; errors quoting such values: test/file-service/masking.test.ts).
 * Everything that leaves the processes as text is captured (logs, stdout, stderr, /metrics,
 * /api/v1/status, the file API, the operator page); neither the password nor any key line appears.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { seedBench } from '../../src/bench/seed.js';
import { connect, sql, type ConnectionPool } from '../../src/db/connect.js';
import { freePort } from '../../src/demo/embedded-postgres.js';
import { migrate } from '../../src/db/migrate.js';
import { CERT_PEM, KEY_PEM, insertDomain, insertProject, insertRoute, insertService, seedSample } from '../helpers/seed.js';
import { reconciles, startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';
import { captureLog, cli, inProcess, report, requireBuiltCli, sleep, spawnCli, startOwnPostgres, type OwnPostgres } from './support.js';

const PASSWORD = 'Sup3r-S3cret-pw!';
const KEY_PATH = 'ssl/keys/secure.shop.example.key';
/** A second key (not matching the certificate), for `apply` errors about keys. */
const OTHER_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const keyLines = [KEY_PEM, OTHER_KEY].flatMap((k) => k.split('\n')).filter((l) => l.length >= 16 && !l.startsWith('-----'));
const needles = [PASSWORD, encodeURIComponent(PASSWORD), 'Sup3r-S3cret', ...keyLines];
/**
 * Credentials in route settings (docs/contract.md §9): written to the files Traefik reads, never
 * shown by the file API, the operator page, the status, the logs or `diff`. (`export`, `history`
 * and `apply` print the desired state for those who may write it, and are not searched for these.)
 */
const ROUTE_SECRETS = {
  header: 'hdr-t0ken-4d1f9a7c',
  bearer: 'eyJhbGciOiJub25lIn0.c2VjcmV0LWJlYXJlcg.sig',
  basicAuth: '$apr1$Hx9skkkW$IgXLP6ewTrSuBkTrqE8wj/',
  urlPassword: 'url-pa55-8c2e',
  forwardToken: 'fwd-t0ken-77aa',
};

let own: OwnPostgres;
let url: string;
let db: ConnectionPool;
let s: TestSidecar;
let work: string;
const logs = captureLog('trace');
/** Everything captured, by where it came from. */
const captured: Array<{ source: string; text: string }> = [];
const keep = (source: string, text: string) => captured.push({ source, text });

beforeAll(async () => {
  requireBuiltCli();
  own = await startOwnPostgres(PASSWORD);
  const boot = new pg.Client({ connectionString: own.server.url });
  await boot.connect();
  await boot.query('CREATE DATABASE secrets');
  await boot.end();
  url = own.server.urlFor('secrets');
  expect(url).toContain(PASSWORD);
  db = connect(url, { poolSize: 2, applicationName: 'secrets-test' });
  await migrate(db);
  await seedSample(db);
  await db.tx((tx) => seedBench(tx, 10));
  const vault = await insertProject(db, 'vault');
  const app = await insertService(db, vault, 'app');
  const vd = await insertDomain(db, vault, { domain: 'vault.example', ssl: false });
  await insertRoute(db, vd, app, {
    url: `http://admin:${ROUTE_SECRETS.urlPassword}@backend.example:8080`,
    middleware: [
      { basicAuth: { users: [`alice:${ROUTE_SECRETS.basicAuth}`] } },
      { headers: { customRequestHeaders: { 'X-Api-Key': ROUTE_SECRETS.header, Authorization: `Bearer ${ROUTE_SECRETS.bearer}` } } },
      { forwardAuth: { address: `https://auth.example/check?token=${ROUTE_SECRETS.forwardToken}` } },
    ],
  });
  work = await mkdtemp(path.join(tmpdir(), 'tsync-rel-secrets-'));
  s = await startTestSidecar(url, { interval: '1s', 'log-level': 'trace' }, { log: logs.log, replicaId: 'secrets-a' });
  await waitFor(async () => (await s.get('/readyz')).status === 200, 15_000);
}, 60_000);

afterAll(async () => {
  await s?.stop();
  await db?.dispose();
  await own?.destroy();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Every HTTP answer an operator or scraper can get. */
async function scrape(label: string): Promise<void> {
  const answers: Promise<void>[] = [];
  for (const p of [
    '/metrics',
    '/api/v1/status',
    '/api/v1/projects',
    '/api/v1/files?depth=10',
    '/api/v1/drift',
    `/api/v1/files/content?path=${KEY_PATH}`,
    `/api/v1/files/download?path=${KEY_PATH}`,
    `/api/v1/diff?path=${KEY_PATH}`,
    '/api/v1/files/content?path=ssl/certs/secure.shop.example.crt',
    '/api/v1/diff?path=dynamic/shop/domains.yml',
    '/api/v1/files/content?path=static/traefik.yml',
    '/api/v1/files/content?path=dynamic/vault/middleware.yml',
    '/api/v1/files/content?path=dynamic/vault/services/app.yml',
    '/api/v1/files/download?path=dynamic/vault/middleware.yml',
    '/api/v1/files/download?path=dynamic/vault/services/app.yml',
    '/api/v1/diff?path=dynamic/vault/middleware.yml',
    '/api/v1/openapi.json',
    '/',
    '/ui/app.js',
    '/healthz',
    '/readyz',
  ]) {
    answers.push(
      s
        .get(p)
        .catch((err: Error) => ({ status: 0, text: String(err) }))
        .then((r) => {
          keep(`${label} GET ${p} (${r.status})`, r.text);
        }),
    );
  }
  await Promise.all(answers);
}

/** The built CLI in a fresh process (nothing registered as secret yet: the honest case). */
function run(label: string, args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = cli(args, { DATABASE_URL: url, LOG_LEVEL: 'trace', ...env });
  keep(`${label}: stdout`, r.stdout);
  keep(`${label}: stderr`, r.stderr);
  return r;
}

/** The CLI in this process: for commands whose output does not depend on process state. */
async function local(
  label: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await inProcess(args, { DATABASE_URL: url, LOG_LEVEL: 'trace', ...env });
  keep(`${label}: stdout`, r.stdout);
  keep(`${label}: stderr`, r.stderr);
  return r;
}

describe('secrets never leave as text', () => {
  it('through the controller, faults, the CLI and the APIs: neither the database password nor a key line appears anywhere', async () => {
    await scrape('healthy');

    // A hand edit of the private key on the controller's volume: drift found, logged, repaired.
    const keyFile = path.join(s.root, KEY_PATH);
    const original = await readFile(keyFile, 'utf8');
    await writeFile(keyFile, original.replace(keyLines[1]!, keyLines[2]!));
    await waitFor(async () => (await readFile(keyFile, 'utf8')) === original, 5000);
    await scrape('after key drift');

    // The CLI on a volume of its own: sync, then a hand-edited key, then diff (exit 1, masked).
    const root = path.join(work, 'cli-volume');
    const env = { TRAEFIK_CONFIG_DIR: root };
    expect(run('sync --once', ['sync', '--once'], env).code).toBe(0);
    const cliKey = path.join(root, KEY_PATH);
    await writeFile(cliKey, (await readFile(cliKey, 'utf8')).replace(keyLines[3]!, OTHER_KEY.split('\n')[1]!));
    const diff = run('diff with an edited key', ['diff'], env);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain(KEY_PATH);
    await local('diff --project shop', ['diff', '--project', 'shop'], env);

    // Config service: export (fingerprint), apply with a key that does not match, dry run, history.
    expect((await local('export', ['export', '--project', 'shop'], env)).code).toBe(0);
    const certs = path.join(work, 'certs');
    await local('export --cert-dir', ['export', '--project', 'shop', '--cert-dir', certs, '-o', path.join(work, 'shop.yaml')], env);
    await writeFile(path.join(work, 'cert.pem'), CERT_PEM);
    await writeFile(path.join(work, 'other.key'), OTHER_KEY);
    await writeFile(
      path.join(work, 'mismatch.yaml'),
      JSON.stringify({
        name: 'shop2',
        services: [{ name: 'web' }],
        domains: [
          {
            domain: 'secure.shop2.example',
            provider: 'custom',
            certificate: { certFile: 'cert.pem', keyFile: 'other.key' },
            routes: [{ path: '/', service: 'web', targetPort: 80 }],
          },
        ],
      }),
    );
    expect(
      (await local('apply with a key not matching its certificate', ['apply', '-f', path.join(work, 'mismatch.yaml')], env)).code,
    ).not.toBe(0);
    await writeFile(
      path.join(work, 'key-as-cert.yaml'),
      JSON.stringify({
        name: 'shop3',
        services: [{ name: 'web' }],
        domains: [
          { domain: 'x.shop3.example', provider: 'custom', certificate: { certFile: 'other.key', keyFile: 'other.key' }, routes: [] },
        ],
      }),
    );
    expect(
      (await local('apply with a key given as the certificate', ['apply', '-f', path.join(work, 'key-as-cert.yaml')], env)).code,
    ).not.toBe(0);
    await local('apply --dry-run of the exported spec', ['apply', '-f', path.join(work, 'shop.yaml'), '--dry-run'], env);
    await local('history', ['history', '--project', 'shop'], env);

    // Wrong password, bad URLs, unreachable hosts: fresh processes, side by side.
    const wrong = url.replace(encodeURIComponent(PASSWORD), encodeURIComponent(`${PASSWORD}-wrong`));
    const failing: Array<[string, string[]]> = [
      ['sync with a wrong password', ['sync', '--once', '--database-url', wrong]],
      ['bad port in the URL', ['sync', '--once', '--database-url', `postgres://postgres:${PASSWORD}@127.0.0.1:notaport/secrets`]],
      ['unresolvable host', ['sync', '--once', '--database-url', `postgres://postgres:${PASSWORD}@no-such-host.invalid:5432/secrets`]],
      [
        'password in a query parameter',
        ['sync', '--once', '--database-url', `postgres://127.0.0.1:1/secrets?password=${encodeURIComponent(PASSWORD)}&user=postgres`],
      ],
    ];
    const codes = await Promise.all(
      failing.map(async ([label, args]) => {
        const c = spawnCli(args, { DATABASE_URL: url, LOG_LEVEL: 'trace', ...env });
        const exit = await c.exited;
        keep(`${label}: stdout`, c.output().stdout);
        keep(`${label}: stderr`, c.output().stderr);
        return exit.code;
      }),
    );
    expect(codes.every((c) => c !== 0)).toBe(true);

    // `run` at trace level, killed with SIGKILL in the middle of its first pass.
    const port = await freePort();
    const child = spawnCli(['run', '--http-addr', `127.0.0.1:${port}`, '--config-dir', path.join(work, 'run-volume')], {
      DATABASE_URL: url,
      LOG_LEVEL: 'trace',
    });
    await waitFor(() => child.output().stdout.includes('file written'), 15_000, 20);
    child.proc.kill('SIGKILL');
    await child.exited;
    keep('run (killed): stdout', child.output().stdout);
    keep('run (killed): stderr', child.output().stderr);

    // Connections killed, then PostgreSQL stopped and restarted under the running controller.
    const admin = new pg.Client({ connectionString: url, application_name: 'fault-injector' });
    await admin.connect();
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name IN ('traefik-sync', 'traefik-sync-listen')`,
    );
    await admin.end();
    const passed = await reconciles(s);
    await db.query(sql`UPDATE route_configs SET target_port = target_port % 60000 + 1`).catch(() => {});
    await waitFor(async () => (await reconciles(s)) >= passed + 2, 30_000); // passes over new connections, logged
    await own.server.stop();
    await waitFor(async () => (await s.metric('traefik_sync_db_up')) === 0, 10_000);
    const downCli = spawnCli(['sync', '--once'], { DATABASE_URL: url, LOG_LEVEL: 'trace', ...env });
    await Promise.all([scrape('database down'), local('diff while the database is down', ['diff'], env), downCli.exited]);
    keep('sync --once while the database is down: stdout', downCli.output().stdout);
    keep('sync --once while the database is down: stderr', downCli.output().stderr);
    await own.restart();
    await waitFor(async () => (await s.metric('traefik_sync_listen_connected')) === 1, 30_000, 100);
    await scrape('recovered');
    keep('controller log (trace)', logs.text());

    const leaks: string[] = [];
    let bytes = 0;
    const desiredStateTools = /^(export|history|apply)/;
    for (const { source, text } of captured) {
      if (!desiredStateTools.test(source))
        for (const [what, v] of Object.entries(ROUTE_SECRETS)) if (text.includes(v)) leaks.push(`${source}: contains the route's ${what}`);
      bytes += text.length;
      for (const n of needles)
        if (text.includes(n))
          leaks.push(
            `${source}: contains ${n === PASSWORD || n.startsWith('Sup3r') ? 'the database password' : `key line ${n.slice(0, 12)}…`}`,
          );
    }
    const logLines = logs.text().split('\n').length;
    report(
      `secrets: ${captured.length} outputs captured (${bytes} bytes, ${logLines} controller log lines at trace level, ${captured.filter((c) => c.source.includes('GET')).length} HTTP answers, ` +
        `${captured.filter((c) => c.source.includes('stdout')).length} CLI runs); password, ${keyLines.length} key lines and ${Object.keys(ROUTE_SECRETS).length} route credentials searched: ${leaks.length} leaks`,
    );
    expect(leaks).toEqual([]);
    // The checks had something to look at: the key is on disk, the logs talk about it, diff shows its path.
    expect(await readFile(path.join(s.root, KEY_PATH), 'utf8')).toContain(keyLines[0]!);
    expect(logs.text()).toContain(KEY_PATH);
    expect(await readFile(path.join(s.root, 'dynamic/vault/middleware.yml'), 'utf8')).toContain(ROUTE_SECRETS.header);
    expect(captured.some((c) => c.source.includes('dynamic/vault/middleware.yml') && c.text.includes('***'))).toBe(true);
    expect(logLines).toBeGreaterThan(100);
  }, 150_000);
});
