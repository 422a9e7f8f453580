/**
 * Audit and rollback: apply v1, apply v2, roll back to v1 (by audit id or by time) → the files
 * the sync service writes are byte-identical to those of v1. Certificates come back only when
 * their key is still known; the rollback is itself audited; history never shows key material.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { copyFile, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { inProcess } from '../helpers/in-process.js';
import { sql } from '../../src/db/connect.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { silentLogger } from '../../src/log.js';
import { TraefikSyncService } from '../../src/reconcile/sync-service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { tempDir } from '../helpers/temp-dir.js';
import { auditCount, reset } from './helpers.js';

let t: TestDatabase;
let svc: TraefikConfigService;
let certDir: string;

const SHOP = parse(await readFile(new URL('../../examples/shop.yaml', import.meta.url), 'utf8'));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** v1: the sample shop plus a custom-certificate domain. */
function v1(): any {
  const s = structuredClone(SHOP);
  s.domains.push({
    domain: 'shop.example',
    subdomain: 'secure',
    provider: 'custom',
    certificate: { certFile: 'secure.crt', keyFile: 'secure.key' },
    routes: [{ path: '/', service: 'web', targetPort: 8443 }],
  });
  return s;
}

/** v2: many kinds of change at once. */
function v2(): any {
  const s = v1();
  s.services.find((x: any) => x.name === 'api').host = 'api-v2.internal';
  s.services = s.services.filter((x: any) => x.name !== 'admin');
  s.services.push({ name: 'search' });
  const main = s.domains[0];
  main.routes = main.routes.filter((r: any) => r.service !== 'admin');
  main.routes[1].targetPort = 3001;
  main.routes[1].middleware = [{ stripPrefix: { prefixes: ['/api'] } }];
  main.routes.push({ path: '/search', service: 'search', targetPort: 7700, priority: 3 });
  s.domains[1].active = false;
  s.domains.push({ domain: 'shop-v2.example', ssl: false, routes: [{ path: '/', service: 'web', targetPort: 80 }] });
  return s;
}

async function render(root: string): Promise<Map<string, string>> {
  const sync = new TraefikSyncService({ db: t.db, root, driftMode: 'repair', maxDeleteFraction: 1, log: silentLogger });
  await sync.syncAllProjects();
  const out = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(root, rel), { withFileTypes: true }).catch(() => [])) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (!e.name.startsWith('.')) out.set(r, await readFile(path.join(root, r), 'utf8'));
    }
  };
  await walk('');
  return out;
}

const lastAuditId = async () => Number((await t.db.query(sql`SELECT max(id) AS id FROM audit_log`))[0]!.id);

beforeAll(async () => {
  t = await createTestDatabase();
  svc = new TraefikConfigService(t.db, { actor: 'ops' });
  certDir = await tempDir('tsync-rb-');
  await copyFile(fixture('secure.shop.example.crt'), path.join(certDir, 'secure.crt'));
  await copyFile(fixture('secure.shop.example.key'), path.join(certDir, 'secure.key'));
  await copyFile(fixture('config-service/rotated.crt'), path.join(certDir, 'rotated.crt'));
  await copyFile(fixture('config-service/rotated.key'), path.join(certDir, 'rotated.key'));
});
afterAll(async () => {
  await t.drop();
});
beforeEach(async () => {
  await reset(t.db);
});

describe('rollback', () => {
  it('to an audit id: files are byte-identical to those of v1; rolling back again changes nothing', async () => {
    const root = await tempDir('tsync-rb-root-');
    await svc.apply(v1(), { baseDir: certDir });
    const point = await lastAuditId();
    const filesV1 = await render(root);
    expect(filesV1.has('ssl/keys/secure.shop.example.key')).toBe(true);
    const r2 = await svc.apply(v2(), { baseDir: certDir });
    expect(r2.changes.length).toBeGreaterThan(6);
    const filesV2 = await render(root);
    expect(filesV2).not.toEqual(filesV1);

    const dry = await svc.rollback('shop', String(point), { dryRun: true });
    expect(dry.changes.length).toBeGreaterThan(6);
    expect(await render(root)).toEqual(filesV2);

    const audit = await lastAuditId();
    const rb = await svc.rollback('shop', String(point));
    expect(rb.point.id).toBe(point);
    expect(rb.changes.map((c) => c.op).sort()).toEqual(dry.changes.map((c) => c.op).sort());
    expect(await render(root)).toEqual(filesV1);
    const actors = await t.db.query(sql`SELECT DISTINCT actor FROM audit_log WHERE id > ${audit}`);
    expect(actors.map((a) => a.actor)).toEqual(['rollback:ops']);

    const again = await svc.rollback('shop', String(point));
    expect(again.changes).toEqual([]);
    // and the spec of the rolled-back project is the spec of v1 again
    const exported = parse((await svc.exportSpec('shop')).yaml);
    expect((await svc.apply(exported, { baseDir: certDir })).changes).toEqual([]);
  });

  it('to a time, and restores a deleted project with its ids (without custom certificates: their keys died with it)', async () => {
    const root = await tempDir('tsync-rb-root-');
    const r1 = await svc.apply(structuredClone(SHOP));
    const filesV1 = await render(root);
    await new Promise((r) => setTimeout(r, 20));
    const at = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    const changed = v2();
    changed.domains = changed.domains.filter((d: any) => d.provider !== 'custom');
    await svc.apply(changed);
    await svc.deleteProject(r1.projectId);
    expect((await render(root)).has('dynamic/shop/domains.yml')).toBe(false);
    const rb = await svc.rollback('shop', at);
    expect(rb.projectCreated).toBe(true);
    expect(rb.projectId).toBe(r1.projectId);
    expect(await render(root)).toEqual(filesV1);
  });

  it('refuses to restore a certificate whose key is gone, unless told to keep the current one', async () => {
    await svc.apply(v1(), { baseDir: certDir });
    const point = await lastAuditId();
    const rotated = v1();
    rotated.domains.at(-1).certificate = { certFile: 'rotated.crt', keyFile: 'rotated.key' };
    rotated.domains[0].routes[0].targetPort = 8088;
    await svc.apply(rotated, { baseDir: certDir });
    const audit = await auditCount(t.db);
    const err = await svc.rollback('shop', String(point)).catch((e: Error) => e);
    expect((err as Error).message).toMatch(
      /cannot restore certificate of secure\.shop\.example \(sha256:[0-9a-f]{64}\): private keys are never stored/,
    );
    expect((err as Error).message).not.toContain('PRIVATE KEY');
    expect(await auditCount(t.db)).toBe(audit);
    const rb = await svc.rollback('shop', String(point), { skipCertificates: true });
    expect(rb.notes.join(' ')).toMatch(/not restored.*current certificate is kept/);
    expect(rb.changes.map((c) => c.label)).toEqual(['route shop.example.com/ → web']);
  });

  it('rejects a bad --to and an unknown project with one clear line', async () => {
    await svc.apply(v1(), { baseDir: certDir });
    await expect(svc.rollback('shop', 'yesterday')).rejects.toThrow(/--to: expected an audit entry id/);
    await expect(svc.rollback('shop', '999999999')).rejects.toThrow(/no audit entry 999999999/);
    await expect(svc.rollback('nope', '1')).rejects.toThrow(/no project named "nope"/);
    await expect(svc.rollback('shop', '1970-01-01T00:00:00Z')).rejects.toThrow(/no entry at or before/);
  });
});

describe('history', () => {
  it('lists who changed what, newest first, certificates by fingerprint, never keys (CLI)', async () => {
    await svc.apply(v1(), { baseDir: certDir });
    await svc.withActor('bob').apply(v2(), { baseDir: certDir });
    const { code, stdout, stderr } = await inProcess(['history', '--project', 'shop', '--limit', '100'], { DATABASE_URL: t.url });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\s*\d+ {2}\d{4}-\d\d-\d\dT.* {2}bob {2}(INSERT|UPDATE|DELETE) [a-z_]+ +(route|domain|service|certificate) /);
    expect(stdout).toMatch(
      /bob {2}UPDATE route_configs {2}route shop\.example\.com\/api → api:3001: middleware .*, target_port 3000 → 3001/,
    );
    expect(stdout).toMatch(/ops {2}INSERT certificates {3}certificate of secure\.shop\.example \(sha256:[0-9a-f]{64}\)/);
    expect(stdout).toMatch(/bob {2}DELETE services {7}service admin/);
    expect(stdout).not.toContain('PRIVATE KEY');
    expect(stdout).not.toContain('BEGIN CERTIFICATE');
  });
});
