/**
 * Private keys stay where they belong (the certificates.key_pem column and the 0600 key file):
 * traefik_configs keeps a key file's checksum, never its text; a key pasted into cert_pem is
 * refused by the database and by the config service, in every PEM flavour; migration 005 clears
 * what earlier versions copied, and drift of key files is still found and repaired.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ValidationError } from '../../src/config-service/errors.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { sql } from '../../src/db/connect.js';
import { SQL_DIR, listMigrations, migrate } from '../../src/db/migrate.js';
import { silentLogger } from '../../src/log.js';
import { TraefikSyncService } from '../../src/reconcile/sync-service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { CERT_PEM, KEY_PEM, seedSample } from '../helpers/seed.js';
import { tempDir } from '../helpers/temp-dir.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const dsa = generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 }).privateKey;

/** One key of every PEM flavour a user could paste. */
export const KEY_FLAVOURS: ReadonlyArray<[string, string]> = [
  ['PKCS#8', rsa.export({ type: 'pkcs8', format: 'pem' }).toString()],
  ['RSA (PKCS#1)', rsa.export({ type: 'pkcs1', format: 'pem' }).toString()],
  ['RSA, legacy encrypted', rsa.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'pw' }).toString()],
  ['EC (SEC1)', ec.export({ type: 'sec1', format: 'pem' }).toString()],
  ['ENCRYPTED PKCS#8', ec.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString()],
  [
    'DSA',
    dsa
      .export({ type: 'pkcs8', format: 'pem' })
      .toString()
      .replace(/ PRIVATE KEY/g, ' DSA PRIVATE KEY'),
  ],
  [
    'OPENSSH',
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n',
  ],
  ['PGP', '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF4AAAABCAC7xYz\n-----END PGP PRIVATE KEY BLOCK-----\n'],
  ['lower-case armour', '-----begin private key-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----end private key-----\n'],
  ['without its END line', '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n'],
];

let t: TestDatabase;
let root: string;

beforeAll(async () => {
  t = await createTestDatabase();
  await seedSample(t.db);
  root = await tempDir('tsync-keys-');
});
afterAll(async () => {
  await t?.drop();
});

let service: TraefikSyncService;
const sync = () =>
  (service ??= new TraefikSyncService({ db: t.db, root, driftMode: 'repair', maxDeleteFraction: 1, log: silentLogger })).syncAllProjects();
const sha = (text: string | Buffer) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

describe('traefik_configs keeps the checksum of a key file, not the key', () => {
  it('after a sync, the key row has the file checksum and no key text; drift of the key is still repaired', async () => {
    await sync();
    const keyPath = 'ssl/keys/secure.shop.example.key';
    const onDisk = await readFile(path.join(root, keyPath));
    const [row] = await t.db.query(sql`SELECT content, checksum, config_type FROM traefik_configs WHERE file_path = ${keyPath}`);
    expect(row).toMatchObject({ config_type: 'key', checksum: sha(onDisk) });
    expect(row!.content).not.toMatch(/PRIVATE KEY/i);
    const all = await t.db.query(sql`SELECT file_path FROM traefik_configs WHERE content ~* 'PRIVATE KEY'`);
    expect(all).toEqual([]);

    // Hand-edited, header kept: drift (a file without our header would be someone else's).
    await writeFile(path.join(root, keyPath), onDisk.toString().replace(/[A-Za-z0-9+/]{20}/, 'A'.repeat(20)));
    const report = await sync();
    expect(report.results.find((r) => r.projectName === 'shop')?.drift.map((d) => [d.path, d.kind])).toContainEqual([keyPath, 'modified']);
    expect(await readFile(path.join(root, keyPath))).toEqual(onDisk);
  });

  it('the database refuses a traefik_configs row holding a private key', async () => {
    const err = await t.db
      .query(
        sql`INSERT INTO traefik_configs (config_type, file_path, content, checksum) VALUES ('key', 'ssl/keys/x.key', ${KEY_PEM}, ${sha(KEY_PEM)})`,
      )
      .then(
        () => null,
        (e: { code?: string }) => e,
      );
    expect(err?.code).toBe('23514');
  });
});

describe('a private key in cert_pem is refused', () => {
  it.each(KEY_FLAVOURS)('%s: by the database (check_violation)', async (_name, key) => {
    const [d] = await t.db.query(sql`SELECT id FROM domain_configs WHERE full_domain = 'secure.shop.example'`);
    for (const certPem of [CERT_PEM + key, key + CERT_PEM]) {
      const err = await t.db.query(sql`UPDATE certificates SET cert_pem = ${certPem} WHERE domain_config_id = ${d!.id}`).then(
        () => null,
        (e: { code?: string }) => e,
      );
      expect(err?.code).toBe('23514');
    }
  });

  it.each(KEY_FLAVOURS)('%s: by the config service, naming certPem and not quoting the key', async (_name, key) => {
    const svc = new TraefikConfigService(t.db, { actor: 'test' });
    const [d] = await t.db.query(sql`SELECT id FROM domain_configs WHERE full_domain = 'secure.shop.example'`);
    const [c] = await t.db.query(sql`SELECT id FROM certificates WHERE domain_config_id = ${d!.id}`);
    const err = await svc.updateCertificate(c!.id, { certPem: CERT_PEM + key, keyPem: KEY_PEM }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ValidationError);
    const lines = (err as ValidationError).issues.map((i) => `${i.path}: ${i.message}`);
    expect(lines.join('\n')).toMatch(/certPem: .*private key/);
    const body = key.split('\n').find((l) => l.length > 16 && !l.startsWith('-----'))!;
    expect(lines.join('\n')).not.toContain(body);
  });
});

describe('migration 005 clears what earlier versions stored', () => {
  it('key rows lose their text (checksum kept), a key in cert_pem is cut out of the row and the audit log', async () => {
    const old = await createTestDatabase({ migrate: false });
    try {
      const dir = await tempDir('tsync-sql-');
      for (const m of (await listMigrations()).filter((m) => m.version <= 4)) await copyFile(m.file, path.join(dir, m.name));
      await migrate(old.db, dir);
      const pid = (await old.db.query(sql`INSERT INTO projects (name) VALUES ('p') RETURNING id`))[0]!.id;
      const did = (
        await old.db.query(
          sql`INSERT INTO domain_configs (project_id, domain, full_domain, ssl_provider) VALUES (${pid}, 'secure.shop.example', 'secure.shop.example', 'custom') RETURNING id`,
        )
      )[0]!.id;
      const pasted = `${CERT_PEM}${KEY_PEM}`;
      await old.db.query(sql`INSERT INTO certificates (domain_config_id, cert_pem, key_pem) VALUES (${did}, ${pasted}, ${KEY_PEM})`);
      await old.db.query(sql`INSERT INTO traefik_configs (project_id, config_type, file_path, content, checksum)
                             VALUES (${pid}, 'key', 'ssl/keys/secure.shop.example.key', ${KEY_PEM}, ${sha(KEY_PEM)}),
                                    (${pid}, 'certificate', 'ssl/certs/secure.shop.example.crt', ${pasted}, ${sha(pasted)})`);
      expect((await old.db.query(sql`SELECT count(*)::int AS n FROM audit_log WHERE new_row::text ~ 'PRIVATE KEY'`))[0]!.n).toBe(1);

      expect(await migrate(old.db)).toContain('005_private_keys.sql');
      const [cert] = await old.db.query(sql`SELECT cert_pem FROM certificates`);
      expect(cert!.cert_pem).not.toMatch(/PRIVATE KEY/);
      expect(cert!.cert_pem.trim()).toBe(CERT_PEM.trim());
      const rows = await old.db.query(sql`SELECT file_path, content, checksum FROM traefik_configs ORDER BY file_path`);
      expect(rows.map((r) => r.checksum)).toEqual([sha(pasted), sha(KEY_PEM)]);
      for (const r of rows) expect(r.content).not.toMatch(/PRIVATE KEY/);
      expect(
        (
          await old.db.query(
            sql`SELECT count(*)::int AS n FROM audit_log WHERE old_row::text ~ 'PRIVATE KEY' OR new_row::text ~ 'PRIVATE KEY'`,
          )
        )[0]!.n,
      ).toBe(0);
    } finally {
      await old.drop();
    }
  });

  it('the migrations folder holds 005', async () => {
    expect((await listMigrations(SQL_DIR)).map((m) => m.name)).toContain('005_private_keys.sql');
    await mkdir(root, { recursive: true });
  });
});
