/**
 * Property: whatever the config service accepts renders schema-valid files. Random specs mix
 * valid values with hostile and malformed ones (anything in middleware options, nasty strings,
 * numbers out of range); each is applied for real. Accepted → the controller's loader and
 * renderer produce files without problems, every YAML file passes Traefik's schema and carries no
 * template delimiter from the data; refused → a ValidationError, and nothing was written.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from 'yaml';
import { ValidationError } from '../../src/config-service/errors.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { loadProjects } from '../../src/db/load.js';
import { renderProject } from '../../src/render/project.js';
import { unescapeGoTemplate } from '../../src/render/serialize.js';
import { schemaProblemsDynamic } from '../../src/render/validate.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { rowCounts } from './helpers.js';

const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 120);
const CONFIG_DIR = '/app/traefik-configs';

let t: TestDatabase;
let svc: TraefikConfigService;

beforeAll(async () => {
  t = await createTestDatabase();
  svc = new TraefikConfigService(t.db, { actor: 'property', configDir: CONFIG_DIR });
});
afterAll(async () => {
  await t.drop();
});

const NASTY = [
  '{',
  '}',
  '{{',
  '}}',
  '`',
  '"',
  "'",
  '\\',
  ':',
  '#',
  ' ',
  '-',
  '$',
  '\n',
  '\t',
  '\u0000',
  '\u0085',
  '\u2028',
  '\uffff',
  '\ud800',
  'é',
  '║',
  'A',
  'a',
  '0',
  '/',
  '.',
  '..',
  '*',
];
/** Mostly `good`, sometimes hostile: each field is broken in about one spec in ~15. */
const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 14, arbitrary: good as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: bad });
const nasty = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.array(fc.constantFrom(...NASTY), { maxLength: 12 }).map((cs) => cs.join('')),
  fc.constantFrom('{{ env "DATABASE_URL" }}', '`) || Host(`evil`', 'ÄÖÜ.example', 'xn--bcher-kva.example', '../x'),
);
/** Printable strings YAML and templates find awkward, but that are fine as header values. */
const text = fc.oneof(
  fc.string({ maxLength: 16 }).filter((v) => !/[\u0000-\u001f\u007f{}║]/.test(v) && !/\p{Cs}/u.test(v)),
  fc.constantFrom(
    '',
    ' ',
    '#',
    ': x',
    '- a',
    "it's",
    '"q"',
    'a{b}c',
    '`x`',
    '$1',
    '*',
    '&a',
    '!tag',
    '%',
    '@',
    'yes',
    'null',
    '0x1F',
    '1e3',
  ),
);
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?$/);
const host = mostly(
  fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => `${l.join('.')}.test`),
  nasty,
);
const name = mostly(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/), nasty);
const path = mostly(fc.stringMatching(/^\/[a-z0-9/_.~!$&()*+,;=:@-]{0,12}$/), nasty);
const port = mostly(fc.integer({ min: 1, max: 65535 }), fc.constantFrom(0, 65536, -1, 1.5, '80'));
const value = mostly(text, fc.oneof(nasty, fc.anything({ maxDepth: 2 })));
const middleware = fc.oneof(
  { weight: 3, arbitrary: fc.record({ stripPrefix: fc.record({ prefixes: fc.array(path, { minLength: 1, maxLength: 2 }) }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      headers: fc.record(
        {
          customRequestHeaders: fc.dictionary(fc.stringMatching(/^X-[A-Za-z]{1,6}$/), value, { maxKeys: 3 }),
          customResponseHeaders: fc.dictionary(fc.stringMatching(/^X-[A-Za-z]{1,6}$/), value, { maxKeys: 2 }),
          frameDeny: mostly(fc.boolean(), value),
        },
        { requiredKeys: [] },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      rateLimit: fc.record(
        { average: mostly(fc.nat(1000), value), burst: fc.nat(1000), period: fc.constantFrom('1s', '1m') },
        { requiredKeys: ['average'] },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      ipAllowList: fc.record({
        sourceRange: fc.array(mostly(fc.constantFrom('10.0.0.0/8', '192.168.1.0/24', '::1/128'), nasty), { minLength: 1, maxLength: 2 }),
      }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      redirectScheme: fc.record(
        { scheme: fc.constantFrom('https', 'http'), permanent: fc.boolean(), port: mostly(fc.constant('443'), fc.constant(443)) },
        { requiredKeys: ['scheme'] },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      basicAuth: fc.record(
        {
          users: fc.array(mostly(fc.stringMatching(/^[a-z]{1,5}:\$apr1\$[A-Za-z0-9./]{8}\$[A-Za-z0-9./]{22}$/), nasty), { maxLength: 2 }),
          realm: text,
        },
        { requiredKeys: ['users'] },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ compress: {} }) },
  { weight: 2, arbitrary: fc.record({ ref: mostly(fc.constantFrom('auth@kubernetescrd', 'sso@docker'), nasty) }) },
  {
    weight: 1,
    arbitrary: fc.dictionary(
      fc.oneof(fc.constantFrom('ipWhiteList', 'plugin', 'chain', 'headers', 'retry'), fc.string({ maxLength: 8 })),
      fc.anything({ maxDepth: 2 }),
      { minKeys: 1, maxKeys: 2 },
    ),
  },
);
const healthCheck = fc.record(
  {
    path,
    interval: mostly(fc.constantFrom('10s', '1m'), value),
    timeout: fc.constantFrom('3s'),
    scheme: fc.constantFrom('http', 'https'),
    port,
    hostname: host,
    headers: fc.dictionary(fc.stringMatching(/^X-[a-z]{1,5}$/), value, { maxKeys: 2 }),
    followRedirects: mostly(fc.boolean(), value),
  },
  { requiredKeys: [] },
);
const route = (services: string[]) =>
  fc.record(
    {
      path,
      service: mostly(fc.constantFrom(...services), name),
      targetPort: port,
      targetUrl: fc.option(
        mostly(
          fc.tuple(fc.constantFrom('http', 'https', 'h2c'), host, port).map(([sc, h, p]) => `${sc}://${String(h)}:${String(p)}`),
          nasty,
        ),
        { nil: undefined },
      ),
      priority: fc.option(mostly(fc.integer({ min: 0, max: 1_000_000 }), fc.constant(-1)), { nil: undefined }),
      middleware: fc.option(fc.array(middleware, { maxLength: 3 }), { nil: undefined, freq: 3 }),
      healthCheck: fc.option(mostly(healthCheck, fc.record({ bogus: value })), { nil: undefined, freq: 3 }),
      active: fc.option(fc.boolean(), { nil: undefined }),
    },
    { requiredKeys: ['service', 'targetPort'] },
  );
const spec = fc.uniqueArray(fc.stringMatching(/^[a-z]{1,6}$/), { minLength: 1, maxLength: 3 }).chain((services) =>
  fc.record({
    name,
    services: fc.constant(services.map((sv) => ({ name: sv }))),
    domains: fc.array(
      fc.record(
        {
          domain: host,
          subdomain: fc.option(mostly(label, nasty), { nil: undefined }),
          ssl: fc.option(fc.boolean(), { nil: undefined }),
          provider: fc.option(mostly(fc.constantFrom('letsencrypt', 'zerossl'), fc.oneof(fc.constant('custom'), nasty)), {
            nil: undefined,
          }),
          routes: fc.uniqueArray(route(services), { maxLength: 3, selector: (r) => r.path }),
        },
        { requiredKeys: ['domain', 'routes'] },
      ),
      { minLength: 1, maxLength: 3 },
    ),
  }),
);

it('whatever the service accepts renders schema-valid files; whatever it refuses writes nothing', async () => {
  let accepted = 0;
  let refused = 0;
  let withMiddleware = 0;
  await fc.assert(
    fc.asyncProperty(spec, async (s) => {
      const before = await rowCounts(t.db);
      let result;
      try {
        result = await svc.apply(s);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        expect(err.issues.length).toBeGreaterThan(0);
        expect(await rowCounts(t.db)).toEqual(before);
        refused++;
        return;
      }
      accepted++;
      if (s.domains.some((d: any) => d.routes.some((r: any) => r.middleware?.length))) withMiddleware++;
      const [state] = await loadProjects(t.db, [result.projectId]);
      const rendered = renderProject(state!, { configDir: CONFIG_DIR });
      expect(rendered.problems).toEqual([]);
      for (const f of rendered.files) {
        if (!f.path.endsWith('.yml')) continue;
        const body = f.content
          .split('\n')
          .filter((l) => !l.startsWith('#'))
          .join('\n');
        expect(body.includes('{{'), f.path).toBe(false);
        expect(body.includes('}}'), f.path).toBe(false);
        expect(schemaProblemsDynamic(parse(unescapeGoTemplate(f.content)) ?? {}), f.path).toEqual([]);
      }
      await svc.deleteProject(result.projectId);
    }),
    { numRuns: NUM_RUNS },
  );
  // Both sides of the property were exercised (expected about 1/4 accepted, 1/4 of those with a chain).
  expect(accepted).toBeGreaterThan(NUM_RUNS / 20);
  expect(refused).toBeGreaterThan(NUM_RUNS / 20);
  expect(withMiddleware).toBeGreaterThan(0);
}, 300_000);
