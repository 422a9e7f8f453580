/**
 * No false "not live": for every middleware kind and health check the config service accepts
 * (the `accepts` cases of fidelity-cases.ts), the comparison of src/traefik-api/views.ts finds
 * Traefik serving exactly what was written — against the newest and the oldest Traefik tested.
 * A false "not live" would page people (TraefikSyncChangeNotLive).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/sidecar.js';
import { traefikForSuite } from '../helpers/traefik.js';
import { FIDELITY_CASES } from './fidelity-cases.js';
import { startStack, type Stack } from './stack.js';

for (const which of ['newest', 'oldest'] as const) {
  const binary = traefikForSuite(which);
  describe.skipIf(!binary)(`live, as judged from the API of Traefik ${binary?.version ?? which}`, () => {
    let stack: Stack;
    afterAll(async () => stack?.stop());

    it('every accepted middleware and health check is seen live once Traefik loads it', async () => {
      stack = await startStack(binary!, { readApi: true });
      const backend = await stack.backends.add('fidelity');
      const cases = FIDELITY_CASES.filter((k) => k.verdict === 'accepts');
      for (const [i, kase] of cases.entries()) {
        await stack.config.apply({
          name: `l${i}`,
          services: [{ name: 'svc', host: '127.0.0.1' }],
          domains: [
            {
              domain: `l${i}.fidelity.test`,
              ssl: i % 2 === 0,
              provider: i % 2 === 0 ? 'letsencrypt' : undefined,
              routes: [
                {
                  path: '/',
                  service: 'svc',
                  targetPort: backend.port,
                  ...(kase.healthCheck ? { healthCheck: kase.healthCheck } : { middleware: [kase.mw] }),
                },
              ],
            },
          ],
        });
      }
      type P = { name: string; live: boolean | null; liveDetail: string | null };
      let projects: P[] = [];
      await waitFor(
        async () => {
          projects = Object.values((await stack.sidecar.get('/api/v1/status')).json().projects as Record<string, P>);
          return projects.length === cases.length && projects.every((p) => p.live === true);
        },
        30_000,
        200,
      ).catch(() => {});
      const notLive = projects
        .filter((p) => p.live !== true)
        .map((p) => `${cases[Number(p.name.slice(1))]!.name}: ${p.live} (${p.liveDetail})`);
      expect(notLive).toEqual([]);
      expect(await stack.sidecar.metric('traefik_sync_traefik_config_lag_seconds')).toBe(0);
      expect(await stack.sidecar.metric('traefik_sync_change_live_seconds_count')).toBeGreaterThanOrEqual(cases.length);
    }, 120_000);
  });
}
