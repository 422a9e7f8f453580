/**
 * Whatever the config service accepts, Traefik builds; what Traefik refuses (or misreads), the
 * config service refuses. Each case of fidelity-cases.ts is applied as a project of its own; the
 * accepted ones must be loaded by Traefik with every router, service and middleware enabled. The
 * cases Traefik refuses are also handed to Traefik in a hand-written file, to show the refusal
 * is Traefik's, not a guess. Against the newest and the oldest Traefik tested.
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ValidationError } from '../../src/config-service/errors.js';
import { waitFor } from '../helpers/sidecar.js';
import { traefikForSuite } from '../helpers/traefik.js';
import { FIDELITY_CASES } from './fidelity-cases.js';
import { providerErrors, startStack, traefikErrors, waitForDisk, type Stack } from './stack.js';

for (const which of ['newest', 'oldest'] as const) {
  const binary = traefikForSuite(which);
  describe.skipIf(!binary)(`middleware options judged by Traefik ${binary?.version ?? which}`, () => {
    let stack: Stack;
    afterAll(async () => stack?.stop());

    it('the config service accepts exactly what Traefik builds as written', async () => {
      stack = await startStack(binary!);
      const backend = await stack.backends.add('fidelity');
      const failures: string[] = [];
      const accepted: Array<{ project: string; name: string }> = [];
      for (const [i, kase] of FIDELITY_CASES.entries()) {
        const project = `f${i}`;
        const spec = {
          name: project,
          services: [{ name: 'svc', host: '127.0.0.1' }],
          domains: [
            {
              domain: `${project}.fidelity.test`,
              ssl: false,
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
        };
        try {
          await stack.config.apply(spec);
          if (kase.verdict === 'accepts') accepted.push({ project, name: kase.name });
          else
            failures.push(
              `the config service accepts "${kase.name}", which Traefik ${kase.verdict === 'refuses' ? 'refuses' : 'misreads'}`,
            );
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          if (kase.verdict === 'accepts') failures.push(`the config service refuses "${kase.name}": ${err.message}`);
        }
      }
      const raw = await waitForDisk(stack);
      for (const { project, name } of accepted) {
        for (const e of traefikErrors(raw, `${project}_`))
          failures.push(`Traefik refuses "${name}", which the config service accepts: ${e}`);
      }
      expect(failures).toEqual([]);
    }, 120_000);

    it('Traefik itself refuses the cases the config service refuses as "refuses"', async () => {
      const version = stack.traefik.binary.version;
      const cases = FIDELITY_CASES.filter((k) => k.verdict === 'refuses' && (!k.only || version.startsWith(k.only)));
      const backend = await stack.backends.add('judge');
      const routers: Record<string, unknown> = {};
      const middlewares: Record<string, unknown> = {};
      cases.forEach((k, i) => {
        routers[`judge${i}`] = { rule: `Host(\`judge${i}.test\`)`, entryPoints: ['web'], service: 'judge', middlewares: [`judge${i}`] };
        middlewares[`judge${i}`] = k.mw;
      });
      // A hand-made file (no traefik-sync header): the controller reports it and leaves it alone.
      const file = path.join(stack.root, 'dynamic', 'zz-judge.yml');
      await writeFile(
        file,
        stringify({ http: { routers, middlewares, services: { judge: { loadBalancer: { servers: [{ url: backend.url }] } } } } }),
      );
      try {
        let raw = await stack.traefik.rawdata();
        const since = stack.traefik.logs().length;
        await waitFor(async () => {
          raw = await stack.traefik.rawdata();
          return cases.every((_k, i) => raw.routers?.[`judge${i}@file`]);
        }, 15_000).catch((err: unknown) => {
          throw new Error(`${String(err)}: ${providerErrors(stack.traefik, since).slice(-1).join('')}`);
        });
        const accepted = cases.filter((_k, i) => traefikErrors(raw, `judge${i}@`).length === 0).map((k) => k.name);
        expect(accepted, 'cases Traefik builds although they are listed as refused').toEqual([]);
      } finally {
        await rm(file, { force: true });
      }
    }, 60_000);
  });
}
