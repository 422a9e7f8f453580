/**
 * The operator page's script: the ES modules compiled from src/ui/browser/ by `npm run build`
 * (tsconfig.browser.json) into dist/ui/browser/, which the package, the image and a built
 * checkout all have. The path is the same from this file compiled (dist/ui/) and from its
 * source (src/ui/, under vitest).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BUILT = new URL('../../dist/ui/browser/', import.meta.url);

/** The page's entry module; it imports the others by relative URL. */
export const ENTRY_MODULE = 'app.js';

/** The compiled modules' text by file name (`app.js`, `dom.js`, …); throws, saying what to run, when they are not built. */
export function browserModules(): Map<string, string> {
  let names: string[] = [];
  try {
    names = readdirSync(BUILT).filter((name) => name.endsWith('.js'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!names.includes(ENTRY_MODULE)) {
    throw new Error(`the operator page's script is not built (no ${ENTRY_MODULE} in ${fileURLToPath(BUILT)}): run npm run build`);
  }
  return new Map(names.map((name) => [name, readFileSync(new URL(name, BUILT), 'utf8')]));
}
