/**
 * Tests that need something this machine may lack (kubectl, promtool, Chromium, root, tmpfs
 * mounts, a built dist/): skipped here with the reason printed, but FAILED with that reason when
 * the environment variable CI is set, so a CI run can never pass by skipping them
 * (docs/testing.md, "Skips").
 *
 *   const kubectl = requirement('kubectl', findExecutable('kubectl') ? null : 'kubectl is not on PATH');
 *   kubectl.it('renders with kustomize', () => { … });       // or kubectl.describe('…', () => { … })
 *   beforeAll(() => { if (kubectl.missing) return; … });     // set-up that needs it
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, it, type TestContext } from 'vitest';

/** What a group of tests needs, and whether it is here. */
export interface Requirement {
  /** Why the tests cannot run here; null when they can. */
  readonly missing: string | null;
  /** True when the tests are to be skipped: something is missing and CI is not set. */
  readonly skip: boolean;
  /** Throw, naming what is missing and why, unless it is here. */
  assert(): void;
  /** `it`, skipped when {@link skip}; when missing in CI, the test fails with the reason. */
  it(name: string, fn: (context: TestContext) => unknown, timeout?: number): void;
  /** `describe`, skipped when {@link skip}; when missing in CI, every test in it fails with the reason. */
  describe(name: string, body: () => void): void;
}

/** Whether this run is a CI run (the CI environment variable set to anything but "" or "false"). */
export function inCI(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI !== undefined && env.CI !== '' && env.CI !== 'false';
}

/**
 * A requirement named `what` (e.g. "kubectl"), `missing` the reason it is not met (null: it
 * is). Prints the reason once: that the tests are skipped, or in CI that they fail.
 */
export function requirement(what: string, missing: string | null, env: NodeJS.ProcessEnv = process.env): Requirement {
  const ci = inCI(env);
  if (missing !== null) {
    console.warn(ci ? `${what}: required in CI (CI is set), so its tests FAIL: ${missing}` : `${what}: tests skipped: ${missing}`);
  }
  const skip = missing !== null && !ci;
  const assert = () => {
    if (missing !== null) throw new Error(`${what} is required${ci ? ' in CI (CI is set)' : ''}: ${missing}`);
  };
  return {
    missing,
    skip,
    assert,
    it(name, fn, timeout) {
      it.skipIf(skip)(
        name,
        (context) => {
          assert();
          return fn(context);
        },
        timeout,
      );
    },
    describe(name, body) {
      describe.skipIf(skip)(skip ? `${name} (skipped: ${missing})` : name, () => {
        beforeAll(assert);
        body();
      });
    },
  };
}

/** A requirement for an executable, with where it was found. */
export interface ToolRequirement extends Requirement {
  /** Full path of the executable; null when it is not on PATH. */
  readonly path: string | null;
}

/** The executable `name` on PATH; `install` tells how to get it (printed when it is missing). */
export function tool(name: string, install: string, env: NodeJS.ProcessEnv = process.env): ToolRequirement {
  const found = findExecutable(name, env);
  return { ...requirement(name, found ? null : `${name} is not on PATH (${install})`, env), path: found };
}

/** The full path of an executable on PATH, or null. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const full = path.join(dir, name);
    try {
      accessSync(full, constants.X_OK);
      if (statSync(full).isFile()) return full;
    } catch {
      /* not here */
    }
  }
  return null;
}

let cli: Requirement | undefined;

/** The CLI as installed: bin/traefik-sync.js runs dist/, so tests that spawn it need `npm run build`. */
export function builtCli(): Requirement {
  cli ??= requirement(
    'the built CLI (dist/)',
    existsSync(new URL('../../dist/index.js', import.meta.url))
      ? null
      : 'dist/ is not built: run `npm run build` (`npm test` builds first)',
  );
  return cli;
}
