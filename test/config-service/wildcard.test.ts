/**
 * Wildcard domains through the config service, against the real database: the row API takes a
 * wildcard with certificate names (tlsSans) and refuses, field by field, a wildcard out of place,
 * a second active owner and a resolver TRAEFIK_STATIC_FILE does not define with a DNS challenge;
 * history names the change of certificate names and rollback restores them.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ValidationError, type ValidationIssue } from '../../src/config-service/errors.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { DNS_SETTINGS } from '../helpers/dns-resolver.js';
import { reset, rowCounts } from './helpers.js';

let t: TestDatabase;
let svc: TraefikConfigService;

beforeAll(async () => {
  t = await createTestDatabase();
  svc = new TraefikConfigService(t.db, { actor: 'wildcard-test', traefikStatic: DNS_SETTINGS });
});
afterAll(async () => {
  await t.drop();
});
beforeEach(async () => {
  await reset(t.db);
});

/** The issues of the ValidationError `run` throws (fails when it throws anything else or nothing). */
async function issuesOf(run: () => Promise<unknown>): Promise<ValidationIssue[]> {
  const err = await run().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  return [...(err as ValidationError).issues];
}

const spec = (name: string, domain: string, extra: Record<string, unknown> = {}) => ({
  name,
  services: [{ name: 'web', host: 'web.internal' }],
  domains: [{ domain, provider: 'dns', ...extra, routes: [{ path: '/', service: 'web', targetPort: 8080 }] }],
});

describe('wildcard domains in the row API', () => {
  it('a wildcard with certificate names is stored and read back; an exact host below it may belong to another project', async () => {
    const a = await svc.createProject({ name: 'a' });
    const d = await svc.createDomainConfig({ projectId: a.id, domain: '*.wild.example', sslProvider: 'dns', tlsSans: ['wild.example'] });
    expect(d).toMatchObject({ fullDomain: '*.wild.example', subdomain: null, sslProvider: 'dns', tlsSans: ['wild.example'] });
    const b = await svc.createProject({ name: 'b' });
    const www = await svc.createDomainConfig({ projectId: b.id, domain: 'wild.example', subdomain: 'www', sslProvider: 'le' });
    expect(www.fullDomain).toBe('www.wild.example');
    // The subdomain form of the same wildcard is the same name: one active owner.
    const issues = await issuesOf(() =>
      svc.createDomainConfig({ projectId: b.id, domain: 'wild.example', subdomain: '*', sslProvider: 'dns' }),
    );
    expect(issues).toEqual([expect.objectContaining({ path: 'domain', message: expect.stringMatching(/already active in project "a"/) })]);
    const cleared = await svc.updateDomainConfig(d.id, { tlsSans: null });
    expect(cleared.tlsSans).toBeNull();
  });

  it.each([
    ['a wildcard in the middle', { domain: 'a.*.wild.example' }, 'domain', /only be the whole leftmost label/],
    ['a wildcard inside a label', { domain: '*x.wild.example' }, 'domain', /only be the whole leftmost label/],
    ['a wildcard over one label', { domain: '*.example' }, 'domain', /at least two labels after/],
    ['a subdomain wildcard not leftmost', { domain: 'wild.example', subdomain: 'a.*' }, 'subdomain', /only be the whole leftmost label/],
    [
      'a certificate name with a wildcard in the middle',
      { domain: 'wild.example', tlsSans: ['a.*.wild.example'] },
      'tlsSans[0]',
      /leftmost/,
    ],
    ['a certificate name twice', { domain: 'wild.example', tlsSans: ['x.wild.example', 'x.wild.example'] }, 'tlsSans', /listed twice/],
    [
      'a resolver the static file does not define',
      { domain: '*.wild.example', sslProvider: 'letsencrypt' },
      'sslProvider',
      /needs a DNS-01 resolver, and TRAEFIK_STATIC_FILE \/etc\/traefik-sync\/static\.yml does not define it .*DNS-01 resolvers defined: dns/,
    ],
    [
      'an HTTP-01 resolver for a wildcard',
      { domain: '*.wild.example', sslProvider: 'le' },
      'sslProvider',
      /needs a DNS-01 resolver, .* defines it without a DNS challenge/,
    ],
    [
      'a wildcard certificate name on an HTTP-01 resolver',
      { domain: 'wild.example', sslProvider: 'le', tlsSans: ['*.wild.example'] },
      'sslProvider',
      /the wildcard "\*\.wild\.example" needs a DNS-01 resolver/,
    ],
  ])('%s is refused, naming the field, and nothing is written', async (_what, input, field, says) => {
    const p = await svc.createProject({ name: 'p' });
    const before = await rowCounts(t.db);
    const issues = await issuesOf(() => svc.createDomainConfig({ projectId: p.id, sslProvider: 'dns', ...input }));
    expect(issues.map((i) => [i.path, i.message])).toEqual([[field, expect.stringMatching(says)]]);
    expect(await rowCounts(t.db)).toEqual(before);
  });
});

describe('wildcard domains in specs, history and rollback', () => {
  it('two projects claiming one wildcard: the second is refused at domains[0].domain', async () => {
    await svc.apply(spec('first', '*.shared.example'));
    const issues = await issuesOf(() => svc.apply(spec('second', '*.shared.example')));
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ['domains[0].domain', expect.stringMatching(/"\*\.shared\.example" is already active in project "first"/)],
    ]);
  });

  it('history shows the change of certificate names, rollback restores them, export round-trips', async () => {
    await svc.apply(spec('wild', '*.wild.example', { sans: ['wild.example'] }));
    const point = (await svc.history('wild')).entries[0]!.id;
    await svc.apply(spec('wild', '*.wild.example', { sans: ['wild.example', '*.api.wild.example'] }));
    const { entries } = await svc.history('wild');
    expect(entries[0]!.summary).toMatch(/tls_sans/);
    expect(entries[0]!.summary).toContain('*.api.wild.example');
    const rb = await svc.rollback('wild', String(point));
    expect(rb.changes.length).toBe(1);
    const exported = parse((await svc.exportSpec('wild')).yaml) as { domains: Array<Record<string, unknown>> };
    expect(exported.domains[0]).toMatchObject({ domain: '*.wild.example', provider: 'dns', sans: ['wild.example'] });
    expect((await svc.apply(exported)).changes).toEqual([]);
  });
});
