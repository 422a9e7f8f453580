/**
 * The controller reads Traefik's API (TRAEFIK_API_URL) and reports what Traefik really serves,
 * against a real Traefik (the newest and the oldest tested) started with the generated static config: a change
 * goes live (metric, status), a `ref` to a provider Traefik does not run, a middleware Traefik
 * refuses, a file not ours that shadows a tenant's host, and Traefik stopped and started again.
 * Each shows in the metric, /api/v1/status and the alert expression (promtool on the scraped
 * metrics) and on the operator page (Chromium) within a few 1 s ticks, and clears once fixed. Drift
 * mode "report", so a hand edit stays.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ValidationError } from '../../src/config-service/errors.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { enabledProviders } from '../../src/render/providers.js';
import { waitFor } from '../helpers/sidecar.js';
import { startTraefik, stopAllTraefik, traefikForSuite, type RunningTraefik } from '../helpers/traefik.js';
import { alertState, havePromtool } from './alerts.js';
import type { Backend } from './backends.js';
import { haveChromium, openOperatorPage, type OperatorPage } from './live-page.js';
import { startStack, type Stack } from './stack.js';

const chromium = haveChromium();
const promtool = havePromtool();
if (!promtool && process.env.CI) throw new Error('promtool is required in CI');

/** What a test reads of /api/v1/status for one project. */
interface Live {
  lastSyncAt: string | null;
  live: boolean | null;
  liveDetail: string | null;
  traefikErrors: Array<{ kind: string; name: string; status: string; messages: string[] }>;
  shadowedBy: Array<{ router: string; host: string; source: string }>;
}

for (const which of ['newest', 'oldest'] as const) {
  const binary = traefikForSuite(which);
  describe.skipIf(!binary)(`what Traefik ${binary?.version ?? which} serves, read from its API`, () => {
    let stack: Stack;
    let backend: Backend;
    let traefik: RunningTraefik;
    let page: OperatorPage | undefined;
    const events: string[] = [];
    /** Check the operator page (skipped without Chromium, outside CI). */
    const onPage = async (check: (page: OperatorPage) => Promise<void>) => {
      if (page) await check(page);
    };
    const row = (name: string, state: string, live: string) => `tr[data-project="${name}"][data-state="${state}"][data-live="${live}"]`;

    const status = async () => (await stack.sidecar.get('/api/v1/status')).json();
    const project = async (name: string): Promise<Live> => {
      const s = await status();
      return Object.values(s.projects as Record<string, Live & { name: string }>).find((p) => p.name === name)!;
    };
    const metric = (name: string, labels: Record<string, string> = {}) => stack.sidecar.metric(name, labels);
    const alert = async (name: string) => (promtool ? alertState(name, (await stack.sidecar.get('/metrics')).text) : 'skipped');
    /** Apply `input` and wait until its pass shows in the status and Traefik is seen serving it. */
    const applyLive = async (input: ReturnType<typeof spec>, svc: TraefikConfigService = stack.config) => {
      const before = (await project(input.name))?.lastSyncAt;
      await svc.apply(input);
      await waitFor(
        async () => {
          const p = await project(input.name);
          return p && p.lastSyncAt !== before && p.live === true;
        },
        15_000,
        50,
      );
    };
    const spec = (name: string, middleware: unknown[] = []) => ({
      name,
      services: [{ name: 'web', host: '127.0.0.1' }],
      domains: [{ domain: `${name}.live.test`, ssl: false, routes: [{ path: '/', service: 'web', targetPort: backend.port, middleware }] }],
    });

    beforeAll(async () => {
      stack = await startStack(binary!, {
        readApi: true,
        // Traefik's REST provider stands for "another provider" (Kubernetes, Docker, …).
        overlay: { providers: { rest: { insecure: true } } },
        flags: { 'drift-mode': 'report' },
        sidecar: { events: { emit: (reason, message) => events.push(`${reason}: ${message}`) } },
      });
      traefik = stack.traefik;
      backend = await stack.backends.add('live');
      if (chromium) page = await openOperatorPage(stack.sidecar.base);
    }, 60_000);
    afterAll(async () => {
      await page?.close();
      await stack?.stop();
      await stopAllTraefik();
    });

    it('a change goes live: the status says so, change→live is recorded, nothing lags', async () => {
      await applyLive(spec('good'));
      expect(await metric('traefik_sync_traefik_up')).toBe(1);
      expect(await metric('traefik_sync_change_live_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(await metric('traefik_sync_traefik_config_lag_seconds')).toBe(0);
      expect((await stack.request({ host: 'good.live.test', path: '/' })).status).toBe(200);
      expect((await status()).traefik).toMatchObject({ apiRead: true, up: true, pending: 0, unownedFiles: [] });
      await onPage(async (p) => {
        await p.shows(row('good', 'in sync', 'true'));
        await p.health(/Traefik API\s+up; serving every change/);
      });
      // A route added (its objects looked up by name), then removed (Traefik must be seen without them).
      const two = spec('good');
      two.domains[0]!.routes.push({
        path: '/extra',
        service: 'web',
        targetPort: backend.port,
        middleware: [{ stripPrefix: { prefixes: ['/extra'] } }],
      });
      for (const next of [two, spec('good')]) {
        await applyLive(next);
        // When it says live, Traefik serves exactly the routes written: the removed one is gone.
        const routers = await traefik.api<Array<{ name: string }>>('/api/http/routers?search=good_');
        expect(routers).toHaveLength(next.domains[0]!.routes.length);
      }
    }, 60_000);

    it('a ref to a provider Traefik does not run: refused unless listed, then reported with Traefik’s own message', async () => {
      const err = await stack.config.apply(spec('badref', [{ ref: 'auth@kubernetescrd' }])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues[0]!.path).toBe('domains[0].routes[0].middleware[0].ref');
      // An operator who says Traefik runs the Kubernetes CRD provider (it does not).
      const crd = stack.configWith(enabledProviders(null, ['kubernetescrd']));
      await crd.apply(spec('badref', [{ ref: 'auth@kubernetescrd' }]));
      await waitFor(async () => (await project('badref'))?.traefikErrors.length > 0, 15_000, 100);
      const p = await project('badref');
      expect(p.live).toBe(false);
      expect(p.traefikErrors).toEqual([
        {
          kind: 'router',
          name: expect.stringMatching(/^badref_web_[0-9a-f]{12}@file$/),
          status: 'disabled',
          messages: ['middleware "auth@kubernetescrd" does not exist'],
        },
      ]);
      expect(await metric('traefik_sync_traefik_errors', { kind: 'router' })).toBe(1);
      expect(events.some((e) => e.startsWith('TraefikRejected: project badref: router badref_web_') && e.includes('does not exist'))).toBe(
        true,
      );
      expect(await alert('TraefikSyncTraefikErrors')).toMatch(/firing|skipped/);
      await onPage(async (p) => {
        await p.shows(row('badref', 'failed', 'false'));
        expect(await p.text(`${row('badref', 'failed', 'false')} [data-traefik-error]`)).toMatch(
          /^Traefik: badref_web_[0-9a-f]{12}@file disabled: middleware "auth@kubernetescrd" does not exist$/,
        );
      });
      // Fixed: the ref removed.
      await applyLive(spec('badref'));
      expect((await project('badref')).traefikErrors).toEqual([]);
      expect(await metric('traefik_sync_traefik_errors', { kind: 'router' })).toBe(0);
      expect(await alert('TraefikSyncTraefikErrors')).toMatch(/quiet|skipped/);
      await onPage(async (p) => {
        await p.shows(row('badref', 'in sync', 'true'));
        await p.lacks('tr[data-project="badref"] [data-traefik-error]');
      });
    }, 60_000);

    it('a middleware Traefik refuses (a hand edit left in report mode): errors and not live, until the database changes it', async () => {
      await applyLive(spec('mw', [{ headers: { frameDeny: true } }]));
      const file = path.join(stack.root, 'dynamic/mw/middleware.yml');
      await writeFile(file, (await readFile(file, 'utf8')).replace('frameDeny: true', 'frameDeny: false'));
      // Traefik re-reads nested files when the marker is renamed (as the controller does after a pass).
      const marker = path.join(stack.root, 'dynamic/.traefik-sync-reload');
      await writeFile(`${marker}.test-tmp`, String(Date.now()));
      await rename(`${marker}.test-tmp`, marker);
      await waitFor(async () => (await project('mw'))?.traefikErrors.some((e) => e.kind === 'middleware'), 15_000, 100).catch(
        async (err: Error) => {
          const served = await traefik.api<unknown>('/api/http/middlewares?search=mw_').catch((e: unknown) => String(e));
          throw new Error(`${err.message}; status: ${JSON.stringify(await project('mw'))}; Traefik: ${JSON.stringify(served)}`);
        },
      );
      const p = await project('mw');
      expect(p.live).toBe(false);
      expect(p.traefikErrors.map((e) => e.kind).sort()).toEqual(['middleware', 'router']);
      expect(await metric('traefik_sync_traefik_errors', { kind: 'middleware' })).toBe(1);
      expect(await alert('TraefikSyncTraefikErrors')).toMatch(/firing|skipped/);
      await onPage((p) => p.shows(`${row('mw', 'failed', 'false')} [data-traefik-error$="@file"]`));
      await applyLive(spec('mw', [{ headers: { frameDeny: true, browserXssFilter: true } }]));
      expect(await metric('traefik_sync_traefik_errors', { kind: 'middleware' })).toBe(0);
      expect(await alert('TraefikSyncTraefikErrors')).toMatch(/quiet|skipped/);
      await onPage(async (p) => {
        await p.shows(row('mw', 'in sync', 'true'));
        await p.lacks('tr[data-project="mw"] [data-traefik-error]');
      });
    }, 60_000);

    it('a file not ours under dynamic/ that shadows a tenant’s host: counted, reported on the project, cleared once removed', async () => {
      const other = await stack.backends.add('foreign');
      const file = path.join(stack.root, 'dynamic/zz-legacy.yml');
      await writeFile(
        file,
        stringify({
          http: {
            routers: { legacy: { rule: 'Host(`good.live.test`)', entryPoints: ['web'], priority: 1000000, service: 'legacy' } },
            services: { legacy: { loadBalancer: { servers: [{ url: other.url }] } } },
          },
        }),
      );
      await waitFor(async () => (await project('good'))?.shadowedBy.length > 0, 15_000, 100);
      expect((await project('good')).shadowedBy).toEqual([
        { router: 'legacy@file', rule: 'Host(`good.live.test`)', host: 'good.live.test', source: 'dynamic/zz-legacy.yml' },
      ]);
      expect(await metric('traefik_sync_unowned_files')).toBe(1);
      expect((await status()).traefik.unownedFiles).toEqual(['dynamic/zz-legacy.yml']);
      expect(events.some((e) => e.startsWith('TraefikShadowed: project good: legacy@file'))).toBe(true);
      expect(await alert('TraefikSyncUnownedFiles')).toMatch(/firing|skipped/);
      await onPage(async (p) => {
        await p.shows('tr[data-project="good"] [data-shadow="legacy@file"]');
        await p.health(/Traefik API\s+up; .*1 file\(s\) not ours under dynamic\//);
      });
      // It does take the host's traffic.
      expect(JSON.parse((await stack.request({ host: 'good.live.test', path: '/' })).body).backend).toBe('foreign');
      await rm(file);
      await waitFor(async () => (await project('good'))?.shadowedBy.length === 0, 15_000, 100);
      expect(await metric('traefik_sync_unowned_files')).toBe(0);
      expect(await alert('TraefikSyncUnownedFiles')).toMatch(/quiet|skipped/);
      await onPage(async (p) => {
        await p.lacks('[data-shadow="legacy@file"]');
        await p.health(/Traefik API\s+up; serving every change(?!; \d+ file)/);
      });
    }, 60_000);

    it('another provider: its middleware may be referred to (the overlay enables it); its router on a tenant’s host is reported', async () => {
      const rest = (config: object) =>
        fetch(`${traefik.apiUrl}/api/providers/rest`, { method: 'PUT', body: JSON.stringify(config) }).then((r) =>
          expect(r.status).toBe(200),
        );
      const other = await stack.backends.add('rest');
      await rest({
        http: {
          routers: { hijack: { rule: 'Host(`good.live.test`)', entryPoints: ['web'], service: 'hijack' } },
          services: { hijack: { loadBalancer: { servers: [{ url: other.url }] } } },
          middlewares: { auth: { headers: { customRequestHeaders: { 'X-Rest': 'yes' } } } },
        },
      });
      // The sidecar's settings enable `rest` (TRAEFIK_STATIC_FILE); so does this config service.
      const withRest = stack.configWith(enabledProviders({ providers: { rest: {} } }));
      await applyLive(spec('restref', [{ ref: 'auth@rest' }]), withRest);
      expect(JSON.parse((await stack.request({ host: 'restref.live.test', path: '/' })).body).headers['x-rest']).toBe('yes');
      // Other providers' routers are looked at every 10th tick (1 s here).
      await waitFor(async () => (await project('good'))?.shadowedBy.length > 0, 20_000, 200);
      expect((await project('good')).shadowedBy).toEqual([
        { router: 'hijack@rest', rule: 'Host(`good.live.test`)', host: 'good.live.test', source: 'provider rest' },
      ]);
      expect(
        events.some((e) => e.startsWith('TraefikShadowed: project good: hijack@rest (provider rest) matches host good.live.test')),
      ).toBe(true);
      await onPage((p) => p.shows('tr[data-project="good"] [data-shadow="hijack@rest"]'));
      await rest({ http: { middlewares: { auth: { headers: { customRequestHeaders: { 'X-Rest': 'yes' } } } } } });
      await waitFor(async () => (await project('good'))?.shadowedBy.length === 0, 20_000, 200);
      await onPage((p) => p.lacks('[data-shadow="hijack@rest"]'));
      // Traefik forgets the REST provider's configuration when it restarts (next test).
      await applyLive(spec('restref'));
    }, 60_000);

    it('Traefik stopped and started again: traefik_up 0 then 1, and nothing else changes', async () => {
      const before = await status();
      await traefik.stop();
      await waitFor(async () => (await metric('traefik_sync_traefik_up')) === 0, 15_000, 100);
      expect(await alert('TraefikSyncTraefikApiDown')).toMatch(/firing|skipped/);
      const down = await status();
      expect(down.traefik.up).toBe(false);
      await onPage((p) => p.health(/Traefik API\s+not answering/));
      expect((await stack.sidecar.get('/readyz')).status).toBe(200);
      for (const [id, p] of Object.entries(before.projects as Record<string, Live>))
        expect(down.projects[id].live, JSON.stringify([p, down.projects[id]])).toBe(p.live);
      expect(await metric('traefik_sync_traefik_config_lag_seconds')).toBe(0);
      traefik = await startTraefik(binary!, path.join(stack.root, 'static/traefik.yml'));
      await waitFor(async () => (await metric('traefik_sync_traefik_up')) === 1, 15_000, 100);
      // Every project compared again: the whole lists after Traefik's restart (slow on a loaded machine).
      const notLive = async () =>
        Object.values((await status()).projects as Record<string, Live & { name: string }>)
          .filter((p) => p.live !== true)
          .map((p) => `${p.name}: ${p.live} ${p.liveDetail ?? ''}`);
      await waitFor(async () => (await notLive()).length === 0, 30_000, 100).catch(async (err: Error) => {
        throw new Error(`${err.message}; not live: ${(await notLive()).join(' | ')}`);
      });
      expect(await alert('TraefikSyncTraefikApiDown')).toMatch(/quiet|skipped/);
      expect(await metric('traefik_sync_traefik_errors', { kind: 'router' })).toBe(0);
      await onPage((p) => p.health(/Traefik API\s+up; serving every change/));
    }, 60_000);
  });
}
