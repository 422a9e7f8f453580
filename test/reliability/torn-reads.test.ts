/**
 * Promise (docs/contract.md §2 "A reader never sees a partial file"), at scale and with the real controller:
 * while `traefik-sync run` (a child process) applies thousands of SQL changes — route ports,
 * middleware chains growing and shrinking (0–30 KB), routes added and removed, projects created
 * and deleted — reader threads parse every file in a loop as Traefik would (Go-template pass with
 * the escapes undone by src/render/serialize.ts unescapeGoTemplate, YAML with unique keys) and
 * check the header checksum against the body. Zero partial or invalid reads; afterwards the
 * volume equals the database state.
 *
 * test/reconcile/torn-reads.test.ts covers one project rewritten 200 times by in-process sync calls; this
 * one is the whole controller (NOTIFY, coalescing, concurrent passes) under a mixed load.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { seedBench } from '../../src/bench/seed.js';
import { sql } from '../../src/db/connect.js';
import { freePort } from '../../src/demo/embedded-postgres.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { waitFor } from '../helpers/sidecar.js';
import {
  SOAK,
  pendingChanges,
  randInt,
  report,
  requireBuiltCli,
  spawnCli,
  startReaders,
  treeProblems,
  type Child,
  type ReaderResult,
} from './support.js';

const PROJECTS = SOAK ? 200 : 40;
const CHANGES = SOAK ? 20_000 : 2_000;
const WRITERS = 4;

let t: TestDatabase;
let root: string;
let child: Child | undefined;

beforeAll(async () => {
  requireBuiltCli();
  t = await createTestDatabase();
  await t.db.tx((tx) => seedBench(tx, PROJECTS));
  root = await mkdtemp(path.join(tmpdir(), 'tsync-rel-torn-'));
});
afterAll(async () => {
  child?.proc.kill('SIGKILL');
  await child?.exited; // before its config root goes
  await t?.drop();
  if (root) await rm(root, { recursive: true, force: true });
});

/** A middleware chain of `n` elements, up to ~30 KB, with braces, quotes and backticks inside. */
function chain(n: number): unknown[] {
  return Array.from({ length: n }, (_, k) =>
    k % 3 === 2
      ? { stripPrefix: { prefixes: [`/p${k}`] } }
      : { headers: { customRequestHeaders: { [`X-Fill-${k}`]: `{{ .X }} \`y\` "z" }}{{ ${'w'.repeat(randInt(0, 5000))}` } } },
  );
}

describe('torn reads at scale', () => {
  it(
    `readers parse every file in a loop while \`run\` applies ${CHANGES} mixed SQL changes: zero partial or invalid reads`,
    async () => {
      const webRoutes = (
        await t.db.query(sql`SELECT r.id FROM route_configs r JOIN services s ON s.id = r.service_id WHERE s.name = 'web'`)
      ).map((r) => r.id as string);
      const apiRoutes = (await t.db.query(sql`SELECT id FROM route_configs WHERE path_rule = '/api'`)).map((r) => r.id as string);
      const targets = (
        await t.db.query(sql`
      SELECT d.id AS domain, s.id AS service FROM domain_configs d JOIN services s ON s.project_id = d.project_id AND s.name = 'web'
       WHERE d.ssl_enabled`)
      ).map((r) => ({ domain: r.domain as string, service: r.service as string }));

      const port = await freePort();
      child = spawnCli(['run', '--http-addr', `127.0.0.1:${port}`, '--interval', '1s'], {
        DATABASE_URL: t.url,
        TRAEFIK_CONFIG_DIR: root,
        LOG_LEVEL: 'warn',
      });
      const get = async (p: string) => (await fetch(`http://127.0.0.1:${port}${p}`)).text();
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 30_000, 100);

      const readers = await startReaders(root, 2, 0);
      const added: string[] = [];
      const created: string[] = [];
      const mix = { port: 0, chain: 0, routeAdded: 0, routeRemoved: 0, projectCreated: 0, projectDeleted: 0 };
      let seq = 0;
      const started = Date.now();
      const writer = async () => {
        while (seq < CHANGES) {
          const n = ++seq;
          const roll = Math.random();
          if (roll < 0.4) {
            await t.db.query(
              sql`UPDATE route_configs SET target_port = ${randInt(1, 65535)} WHERE id = ${webRoutes[randInt(0, webRoutes.length - 1)]!}`,
            );
            mix.port++;
          } else if (roll < 0.6) {
            await t.db.query(
              sql`UPDATE route_configs SET middleware = ${JSON.stringify(chain(randInt(0, 6)))}::jsonb WHERE id = ${apiRoutes[randInt(0, apiRoutes.length - 1)]!}`,
            );
            mix.chain++;
          } else if (roll < 0.75 || (roll < 0.85 && added.length === 0)) {
            const at = targets[randInt(0, targets.length - 1)]!;
            const [row] = await t.db.query(sql`INSERT INTO route_configs (domain_config_id, service_id, path_rule, target_port, middleware)
            VALUES (${at.domain}, ${at.service}, ${`/r${n}`}, ${randInt(1, 65535)}, ${JSON.stringify(chain(randInt(0, 2)))}::jsonb) RETURNING id`);
            added.push(row!.id as string);
            mix.routeAdded++;
          } else if (roll < 0.85) {
            const id = added.splice(randInt(0, added.length - 1), 1)[0]!;
            await t.db.query(sql`DELETE FROM route_configs WHERE id = ${id}`);
            mix.routeRemoved++;
          } else if (roll < 0.93 || created.length === 0) {
            const name = `churn-${n}`;
            await t.db.tx(async (tx) => {
              const [p] = await tx.query(sql`INSERT INTO projects (name) VALUES (${name}) RETURNING id`);
              const [s] = await tx.query(sql`INSERT INTO services (project_id, name) VALUES (${p!.id}, 'app') RETURNING id`);
              const [d] = await tx.query(sql`INSERT INTO domain_configs (project_id, domain, full_domain, ssl_enabled, ssl_provider)
              VALUES (${p!.id}, ${`${name}.example`}, ${`${name}.example`}, true, 'letsencrypt') RETURNING id`);
              await tx.query(sql`INSERT INTO route_configs (domain_config_id, service_id, path_rule, target_port, middleware)
              VALUES (${d!.id}, ${s!.id}, '/', 8080, ${JSON.stringify(chain(randInt(0, 3)))}::jsonb)`);
            });
            created.push(name);
            mix.projectCreated++;
          } else {
            const name = created.splice(randInt(0, created.length - 1), 1)[0]!;
            await t.db.query(sql`DELETE FROM projects WHERE name = ${name}`);
            mix.projectDeleted++;
          }
        }
      };
      let converged = false;
      let sampled: ReaderResult;
      let committed = 0;
      let appliedMs = 0;
      try {
        await Promise.all(Array.from({ length: WRITERS }, writer));
        committed = Date.now() - started;
        // The controller catches up; the readers keep reading until the volume equals the database.
        converged = await waitFor(
          async () => {
            const p = await pendingChanges(t.db, root);
            return p.changes.length === 0 && p.failed.length === 0;
          },
          60_000,
          250,
        ).then(
          () => true,
          () => false,
        );
        appliedMs = Date.now() - started;
      } finally {
        sampled = await readers.stop();
      }
      const metrics = await get('/metrics');
      const value = (re: RegExp) => Number(re.exec(metrics)?.[1] ?? NaN);
      const passes = value(/^traefik_sync_reconcile_total\{result="success"\} (\S+)$/m);
      const written = ['create', 'update', 'delete'].reduce(
        (n, op) => n + value(new RegExp(`^traefik_sync_files_written_total\\{op="${op}"\\} (\\S+)$`, 'm')),
        0,
      );
      child.proc.kill('SIGTERM');
      const exit = await child.exited;

      report(
        `torn reads: ${CHANGES} SQL changes (${mix.port} port updates, ${mix.chain} chains resized, ${mix.routeAdded} routes added, ` +
          `${mix.routeRemoved} removed, ${mix.projectCreated} projects created, ${mix.projectDeleted} deleted) committed in ${committed} ms, ` +
          `volume equal to the database after ${appliedMs} ms; controller: ${passes} successful passes, ${written} files written; ` +
          `2 reader threads: ${sampled.reads} reads in ${sampled.sweeps} sweeps, ${sampled.parsed} distinct bodies parsed, ` +
          `${sampled.versions} distinct file versions seen, ${sampled.failures} partial or invalid`,
      );
      expect(sampled.examples).toEqual([]);
      expect(sampled.failures).toBe(0);
      expect(converged, JSON.stringify(await pendingChanges(t.db, root)).slice(0, 2000)).toBe(true);
      expect(await treeProblems(root)).toEqual([]);
      expect(sampled.reads).toBeGreaterThan(10_000);
      expect(sampled.versions).toBeGreaterThan(500); // the readers raced many rewrites, not one state
      expect(written).toBeGreaterThan(500);
      expect(exit.code).toBe(0);
    },
    SOAK ? 1_800_000 : 150_000,
  );
});
