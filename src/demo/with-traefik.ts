/**
 * The demo with a real Traefik (README "Demo"): when a binary is found (`--traefik PATH`, else
 * TRAEFIK_BIN, `.tools/`, PATH: traefik.ts), the demo puts Traefik's entry points and API on free
 * loopback ports (unless TRAEFIK_ENTRYPOINTS / TRAEFIK_API_ADDR are set), allows loopback upstreams
 * (ALLOWED_INTERNAL_TARGETS=127.0.0.1 unless set), keeps ACME offline through a static overlay in
 * the data folder (unless TRAEFIK_STATIC_FILE is set), runs two sample backends, and points the
 * sample project `hello` at one of them. Traefik starts with exactly the generated static config.
 */
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { stringify } from 'yaml';
import { SETTINGS } from '../config.js';
import { UserError } from '../errors.js';
import { findTraefik, startTraefik, traefikPorts, type RunningTraefik, type TraefikBinary } from './traefik.js';

type Values = Readonly<Record<string, string | boolean | string[] | undefined>>;
type Env = Readonly<Record<string, string | undefined>>;

/** The sample project's name, host and spec file (in the data folder). */
export const SAMPLE = { project: 'hello', host: 'hello.localhost', file: 'hello.yaml' } as const;

/** The binary the demo runs, or why it runs without Traefik. */
export function demoTraefikBinary(values: Values, env: Env): TraefikBinary | { missing: string } {
  const chosen = values.traefik;
  if (chosen === 'off') return { missing: 'off (--traefik off)' };
  if (typeof chosen === 'string' && chosen !== '') {
    const found = findTraefik('newest', { TRAEFIK_BIN: chosen });
    if ('missing' in found) throw new UserError(`--traefik: ${JSON.stringify(chosen)} is not a Traefik binary that runs (or "off")`, 2);
    return found;
  }
  const found = findTraefik('newest', env);
  return 'missing' in found
    ? { missing: 'not found (TRAEFIK_BIN, .tools/, PATH); scripts/install-test-tools.sh traefik installs it, and the demo then starts it' }
    : found;
}

/** Whether the user set `key` (flag or environment). */
function isSet(values: Values, env: Env, key: keyof typeof SETTINGS): boolean {
  const s = SETTINGS[key];
  const flag = values[s.flag];
  return (typeof flag === 'string' && flag !== '') || ('env' in s && !!env[s.env]);
}

/**
 * The flags the demo adds for Traefik (only settings the user left unset), and the static overlay
 * it writes to `dataDir` (ACME accounts there, and a CA on a closed port: the demo never asks a CA).
 */
export async function demoTraefikFlags(values: Values, env: Env, dataDir: string): Promise<Record<string, string>> {
  const flags: Record<string, string> = {};
  if (!isSet(values, env, 'traefikEntryPoints') || !isSet(values, env, 'traefikApiAddr')) {
    const { flags: ports } = await traefikPorts();
    if (!isSet(values, env, 'traefikEntryPoints')) flags[SETTINGS.traefikEntryPoints.flag] = ports['traefik-entrypoints'];
    if (!isSet(values, env, 'traefikApiAddr')) flags[SETTINGS.traefikApiAddr.flag] = ports['traefik-api-addr'];
  }
  if (!isSet(values, env, 'allowedInternalTargets')) flags[SETTINGS.allowedInternalTargets.flag] = '127.0.0.1';
  if (!isSet(values, env, 'traefikStaticFile')) {
    const overlay = path.join(dataDir, 'traefik-static.yml');
    const acme = { caServer: 'https://127.0.0.1:9/directory', httpChallenge: { entryPoint: 'web' } };
    const doc = {
      certificatesResolvers: {
        letsencrypt: { acme: { ...acme, storage: path.join(dataDir, 'acme-letsencrypt.json') } },
      },
    };
    await writeFile(overlay, `# Written by traefik-sync demo: ACME stays offline in the demo.\n${stringify(doc)}`);
    flags[SETTINGS.traefikStaticFile.flag] = overlay;
  }
  return flags;
}

/** The two sample backends: each answers every request with its name, the host and the path. */
export interface SampleBackends {
  readonly blue: number;
  readonly green: number;
  close(): Promise<void>;
}

async function listen(name: string, preferred: number | undefined): Promise<Server> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`${name} backend: ${req.method} ${req.url} (Host: ${req.headers.host})\n`);
  });
  const on = (port: number) =>
    new Promise<boolean>((resolve) => {
      const failed = () => resolve(false);
      server.once('error', failed);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', failed);
        resolve(true);
      });
    });
  // Last run's port when it is free (a spec the user edited keeps working), else any free one.
  if (!(preferred !== undefined && (await on(preferred))) && !(await on(0))) throw new Error(`demo: no port for the ${name} backend`);
  return server;
}

/** Start the sample backends, on last run's ports when they are free. */
export async function startSampleBackends(last?: { blue?: number; green?: number }): Promise<SampleBackends> {
  const blue = await listen('blue', last?.blue);
  const green = await listen('green', last?.green);
  const portOf = (s: Server) => (s.address() as { port: number }).port;
  return {
    blue: portOf(blue),
    green: portOf(green),
    async close() {
      for (const s of [blue, green]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}

/** The sample project's spec, pointing at the blue backend (the comment says how to switch). */
export function sampleSpec(backends: Pick<SampleBackends, 'blue' | 'green'>): string {
  return [
    "# The demo's sample project (written by traefik-sync demo). Switch it to the green backend:",
    `# set targetPort to ${backends.green}, then: npx traefik-sync apply -f <this file>`,
    'apiVersion: traefik-sync/v1',
    `name: ${SAMPLE.project}`,
    'services:',
    '  - name: app',
    '    host: 127.0.0.1',
    'domains:',
    `  - domain: ${SAMPLE.host}`,
    '    ssl: false',
    '    routes:',
    '      - path: /',
    '        service: app',
    `        targetPort: ${backends.blue}`,
    '',
  ].join('\n');
}

/** Start Traefik with the generated `staticFile`; its log goes to `logFile`. */
export async function startDemoTraefik(binary: TraefikBinary, staticFile: string, logFile: string): Promise<RunningTraefik> {
  const log = createWriteStream(logFile, { flags: 'a' });
  try {
    const traefik = await startTraefik(binary, staticFile, { onLine: (l) => log.write(`${l}\n`) });
    traefik.child.once('exit', () => log.end());
    return traefik;
  } catch (err) {
    log.end();
    throw err;
  }
}
