/**
 * The shape of src/: no import circles, and imports only go down the data path —
 * sources (controller/) → queue/ → pass (reconcile/) → render/ → write (fs/) → record (db/) —
 * with the composition roots (sidecar/, demo/, cli/) on top. README "Architecture" names the
 * same folders; a new folder must be given its place here.
 */
import { fileURLToPath } from 'node:url';
import madge from 'madge';
import { beforeAll, describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const TSCONFIG = fileURLToPath(new URL('../tsconfig.json', import.meta.url));

/**
 * Each part of src/ and its layer: a module may import its own part and parts of a lower layer,
 * never one of its own layer or above. Layer 0 is the shared base (its modules import each other).
 */
const LAYERS: Readonly<Record<string, number>> = {
  errors: 0,
  util: 0,
  model: 0,
  redact: 0,
  address: 0,
  log: 0,
  memory: 0, // heap settings of the long-running process
  render: 1, // pure: rows in, bytes out
  queue: 1,
  observability: 1, // metrics registry, the HTTP server
  config: 2, // settings: flags + environment → one frozen object (parses with render's static-settings)
  fs: 2, // atomic writes, scans, watches (reads our headers: render/serialize)
  db: 2, // queries, LISTEN, migrations, records
  reconcile: 3, // a pass: load → render → validate → plan → write → record
  'config-service': 4,
  'file-service': 4,
  'traefik-api': 4, // reads Traefik's API after passes: live, errors, shadows
  controller: 5, // sources → queue → passes → replica state
  k8s: 6, // Lease and Events, for the controller
  ui: 6,
  sidecar: 7, // composition root of `run`
  demo: 8,
  bench: 9, // starts PostgreSQL as the demo does (demo/embedded-postgres.ts)
  cli: 10,
  index: 10, // the library's public API
};

/** `controller/intake.ts` → `controller`; `config.ts` → `config`. */
const partOf = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : file.replace(/\.ts$/, ''));

describe('architecture of src/', () => {
  let graph: Record<string, string[]>;
  let circular: string[][];
  beforeAll(async () => {
    const result = await madge(SRC, { fileExtensions: ['ts'], tsConfig: TSCONFIG });
    graph = result.obj();
    circular = result.circular();
  }, 60_000);

  it('has no import circles', () => {
    expect(circular).toEqual([]);
  });

  it('every module belongs to a part with a layer', () => {
    const unplaced = Object.keys(graph).filter((f) => LAYERS[partOf(f)] === undefined);
    expect(unplaced).toEqual([]);
  });

  it('imports go down the layers, never up or sideways', () => {
    const wrong: string[] = [];
    for (const [file, deps] of Object.entries(graph)) {
      const from = partOf(file);
      for (const dep of deps) {
        const to = partOf(dep);
        if (from === to) continue;
        const [a, b] = [LAYERS[from] ?? -1, LAYERS[to] ?? Infinity];
        if (a === 0 && b === 0) continue;
        if (b >= a) wrong.push(`${file} → ${dep} (layer ${a} → ${b})`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
