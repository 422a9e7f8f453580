/**
 * A middleware `ref` may name only a provider Traefik runs (src/render/providers.ts): `internal`,
 * `file`, those the static overlay enables, and TRAEFIK_EXTRA_PROVIDERS. Anything else is refused
 * before writing — by the config service at the field, and by the renderer for rows written
 * another way (the project keeps its last good files).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ValidationError } from '../../src/config-service/errors.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { renderProject } from '../../src/render/project.js';
import { enabledProviders, parseExtraProviders, providersOfStatic } from '../../src/render/providers.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { tempDir } from '../helpers/temp-dir.js';
import { reset, rowCounts } from './helpers.js';

const spec = (ref: string) => ({
  name: 'shop',
  services: [{ name: 'api' }],
  domains: [
    {
      domain: 'shop.example',
      ssl: false,
      routes: [{ path: '/', service: 'api', targetPort: 80, middleware: [{ compress: {} }, { ref }] }],
    },
  ],
});

describe('providers a ref may name', () => {
  it('reads the providers the static overlay enables, with Traefik names', () => {
    expect(
      providersOfStatic({
        providers: {
          file: { directory: '/x' },
          kubernetesCRD: {},
          kubernetesIngress: null,
          docker: { exposedByDefault: false },
          consulCatalog: { namespaces: ['a', 'b'] },
          plugin: { mine: {} },
          providersThrottleDuration: '1s',
        },
      }).sort(),
    ).toEqual(['consulcatalog-a', 'consulcatalog-b', 'docker', 'file', 'kubernetescrd', 'plugin-mine']);
    expect([...enabledProviders(null)].sort()).toEqual(['file', 'internal']);
  });

  it('TRAEFIK_EXTRA_PROVIDERS and the overlay reach the settings; a bad name is refused naming the setting', async () => {
    const dir = await tempDir('tsync-ref-');
    const overlay = path.join(dir, 'overlay.yml');
    await writeFile(overlay, 'providers:\n  kubernetesGateway: {}\n');
    const config = loadConfig({ 'traefik-static-file': overlay }, { TRAEFIK_EXTRA_PROVIDERS: 'kubernetescrd, docker' });
    expect([...config.traefikProviders].sort()).toEqual(['docker', 'file', 'internal', 'kubernetescrd', 'kubernetesgateway']);
    expect([...loadConfig({}, {}).traefikProviders].sort()).toEqual(['file', 'internal']);
    expect(() => loadConfig({ 'traefik-extra-providers': 'Kubernetes CRD' }, {})).toThrow(
      '--traefik-extra-providers (TRAEFIK_EXTRA_PROVIDERS): expected provider names like "kubernetescrd,docker" (lower case, as after "@"), got "Kubernetes CRD"',
    );
    expect(parseExtraProviders('', 'x')).toEqual([]);
  });

  it('the renderer refuses a ref to a provider not enabled (raw rows), and takes it once listed', () => {
    const state = {
      id: '11111111-1111-4111-8111-111111111111',
      name: 'shop',
      version: 1,
      changedAt: null,
      services: [{ id: '21111111-1111-4111-8111-111111111111', name: 'api', host: null }],
      domains: [
        {
          id: '31111111-1111-4111-8111-111111111111',
          fullDomain: 'shop.example',
          sslEnabled: false,
          sslProvider: null,
          isActive: true,
          certificate: null,
          routes: [
            {
              id: '41111111-1111-4111-8111-111111111111',
              serviceId: '21111111-1111-4111-8111-111111111111',
              pathRule: '/',
              priority: 0,
              middleware: [{ ref: 'auth@kubernetescrd' }],
              targetPort: 80,
              targetUrl: null,
              healthCheck: null,
              isActive: true,
            },
          ],
        },
      ],
    } as unknown as Parameters<typeof renderProject>[0];
    const strict = renderProject(state, { configDir: '/c', providers: enabledProviders(null) });
    expect(strict.files).toEqual([]);
    expect(strict.problems).toEqual([
      expect.stringMatching(
        /^route "shop\.example\/": middleware\[0\]\.ref: "auth@kubernetescrd" names the provider "kubernetescrd", which Traefik does not run \(enabled: file, internal\)/,
      ),
    ]);
    expect(renderProject(state, { configDir: '/c', providers: enabledProviders(null, ['kubernetescrd']) }).problems).toEqual([]);
  });
});

describe('the config service', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t.drop());
  beforeEach(async () => reset(t.db));

  it('refuses the ref at its field and writes nothing; accepts it when the provider is listed', async () => {
    const svc = new TraefikConfigService(t.db, { actor: 'test' });
    const err = await svc.apply(spec('auth@kubernetescrd')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues).toEqual([
      {
        path: 'domains[0].routes[0].middleware[1].ref',
        message: expect.stringMatching(/^"auth@kubernetescrd" names the provider "kubernetescrd", which Traefik does not run/),
      },
    ]);
    expect((await rowCounts(t.db)).projects).toBe(0);
    await expect(svc.apply(spec('dashboard_redirect@internal'))).resolves.toMatchObject({ project: 'shop' });
    const crd = new TraefikConfigService(t.db, { actor: 'test', providers: enabledProviders(null, ['kubernetescrd']) });
    await expect(crd.apply(spec('auth@kubernetescrd'))).resolves.toMatchObject({ project: 'shop' });
    // Another actor keeps the providers: the same ref is still accepted.
    await expect(crd.withActor('bob').apply(spec('auth@kubernetescrd'))).resolves.toMatchObject({ project: 'shop' });
  });
});
