/**
 * The examples/ projects, applied through the config service, are loaded by a real Traefik with
 * no error: every router, service and middleware traefik-sync writes is `enabled`, and Traefik
 * logs no error about the file provider. Against the newest and the oldest Traefik tested.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { traefikForSuite } from '../helpers/traefik.js';
import { ourObjects, providerErrors, startStack, traefikErrors, waitForDisk, type Stack } from './stack.js';

const EXAMPLES = new URL('../../examples/', import.meta.url);
const specs = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => parse(readFileSync(new URL(f, EXAMPLES), 'utf8')) as { name: string });

for (const which of ['newest', 'oldest'] as const) {
  const binary = traefikForSuite(which);
  describe.skipIf(!binary)(`examples/ in Traefik ${binary?.version ?? which}`, () => {
    let stack: Stack;
    afterAll(async () => stack?.stop());

    it('loads every router, service and middleware of the examples without an error', async () => {
      stack = await startStack(binary!, {
        beforeTraefik: async (config) => {
          for (const spec of specs) await config.waitForSync((await config.apply(spec)).projectId);
        },
      });
      const all = await waitForDisk(stack);
      for (const spec of specs) expect(ourObjects(all, `${spec.name}_`).length, spec.name).toBeGreaterThan(5);
      expect(traefikErrors(all)).toEqual([]);
      expect(providerErrors(stack.traefik)).toEqual([]);
    }, 60_000);
  });
}
