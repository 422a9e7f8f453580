/** What a demo remembers in its data folder for the next run (`demo.json` beside the cluster). */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The remembered facts; every field optional (a first run, an older data folder). */
export interface DemoState {
  /** PostgreSQL's port, reused next run when free so an exported DATABASE_URL keeps working. */
  readonly postgresPort?: number;
  /**
   * false from initdb until the examples are in the new database; true after. Absent (a data folder
   * from before this file existed) counts as applied: the examples are never re-applied over data
   * the user may have changed.
   */
  readonly examplesApplied?: boolean;
  /** The sample backends' ports the sample project was applied with (with-traefik.ts), reused when free. */
  readonly sampleBackends?: { readonly blue: number; readonly green: number };
}

const FILE = 'demo.json';

/** The state saved in `dataDir`; empty when there is none or it cannot be read. */
export async function readDemoState(dataDir: string): Promise<DemoState> {
  try {
    const raw: unknown = JSON.parse(await readFile(path.join(dataDir, FILE), 'utf8'));
    const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const port = o.postgresPort;
    const isPort = (p: unknown): p is number => Number.isInteger(p) && (p as number) > 0 && (p as number) < 65536;
    const sample = (typeof o.sampleBackends === 'object' && o.sampleBackends !== null ? o.sampleBackends : {}) as Record<string, unknown>;
    return {
      ...(isPort(sample.blue) && isPort(sample.green) ? { sampleBackends: { blue: sample.blue, green: sample.green } } : {}),
      ...(Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536 ? { postgresPort: port as number } : {}),
      ...(typeof o.examplesApplied === 'boolean' ? { examplesApplied: o.examplesApplied } : {}),
    };
  } catch {
    return {};
  }
}

/** Save `state` in `dataDir`. */
export async function writeDemoState(dataDir: string, state: DemoState): Promise<void> {
  await writeFile(path.join(dataDir, FILE), `${JSON.stringify(state, null, 2)}\n`);
}
