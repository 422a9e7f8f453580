/**
 * The fleet settings (README "Configuration"): clear one-line errors naming the setting, never the
 * password of a URL; defaults that bound what each replica costs the database.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig, sessionDatabaseUrl } from '../../src/config.js';

const load =
  (flags: Record<string, string>, env: Record<string, string> = {}) =>
  () =>
    loadConfig(flags, env);

describe('fleet settings', () => {
  it('defaults: the session URL is DATABASE_URL, a pool of 4, every shard, a 30 s drain, a 10 min handoff timeout', () => {
    const c = loadConfig({}, { DATABASE_URL: 'postgres://u:pw@db:5432/x' });
    expect(c).toMatchObject({
      dbPoolSize: 4,
      shard: null,
      shardDrainMs: 30_000,
      shardHandoffTimeoutMs: 600_000,
      listenDatabaseUrl: undefined,
    });
    expect(sessionDatabaseUrl(c)).toBe('postgres://u:pw@db:5432/x');
    const d = loadConfig(
      { 'listen-database-url': 'postgres://u:pw@primary:5432/x' },
      { DATABASE_URL: 'postgres://u:pw@bouncer:6432/x', SHARD: 'eu-1' },
    );
    expect(sessionDatabaseUrl(d)).toBe('postgres://u:pw@primary:5432/x');
    expect(d.shard).toBe('eu-1');
  });

  it.each([
    [
      { 'listen-database-url': 'mysql://u:s3cret@db/x' },
      '--listen-database-url (LISTEN_DATABASE_URL): expected a postgres:// or postgresql:// URL',
    ],
    [{ 'db-pool-size': '0' }, '--db-pool-size (DB_POOL_SIZE): expected a whole number from 1 to 100, got "0"'],
    [{ 'db-pool-size': 'many' }, '--db-pool-size (DB_POOL_SIZE): expected a whole number from 1 to 100, got "many"'],
    [{ shard: 'EU_1' }, '--shard (SHARD): expected a shard name'],
    [{ shard: 'x'.repeat(51) }, '--shard (SHARD): expected a shard name'],
    [{ 'shard-drain': '5x' }, '--shard-drain (SHARD_DRAIN): expected a duration'],
    [{ 'shard-handoff-timeout': '10ms' }, '--shard-handoff-timeout (SHARD_HANDOFF_TIMEOUT): must be at least 1s, got "10ms"'],
  ])('refuses %j with one line naming the setting', (flags, message) => {
    expect(load(flags)).toThrow(message);
    try {
      load(flags)();
    } catch (err) {
      expect(String(err)).not.toContain('s3cret');
      expect(String(err).split('\n')).toHaveLength(1);
    }
  });
});
