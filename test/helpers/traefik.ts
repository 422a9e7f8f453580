/**
 * A real Traefik for tests: the lookup and the process are src/demo/traefik.ts (the demo and the
 * benchmark start it the same way). Without a binary, a developer's run skips the Traefik suites
 * with the reason printed; with CI set it fails. Traefik is stopped by the test that started it
 * (SIGTERM, then SIGKILL), also when the test failed.
 */
import { findTraefik, type TraefikBinary } from '../../src/demo/traefik.js';

export {
  TRAEFIK_NEWEST,
  TRAEFIK_OLDEST,
  findTraefik,
  startTraefik,
  stopAllTraefik,
  traefikPorts,
  type RawData,
  type RawObject,
  type RunningTraefik,
  type TraefikBinary,
  type TraefikPorts,
} from '../../src/demo/traefik.js';
export { freePort } from '../../src/demo/embedded-postgres.js';

const inCI = Boolean(process.env.CI);

/**
 * The binary for a suite, or undefined (the suite skips, reason printed). With CI set a missing
 * binary throws, which fails the test file.
 */
export function traefikForSuite(which: 'newest' | 'oldest' = 'newest'): TraefikBinary | undefined {
  const found = findTraefik(which);
  if (!('missing' in found)) return found;
  if (inCI) throw new Error(`Traefik is required in CI: ${found.missing}`);
  console.warn(`Traefik tests skipped: ${found.missing}`);
  return undefined;
}
