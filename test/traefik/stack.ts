/**
 * The end-to-end stack of one test file: a database of its own (on the run's embedded
 * PostgreSQL), the real controller (`traefik-sync run`, in process) writing a temp config root,
 * Traefik started with the static/traefik.yml that controller generated (file provider, watch),
 * and loopback backends. One stack per test file; `stop()` in afterAll stops everything.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { listFiles } from '../../src/fs/scan.js';
import { unescapeGoTemplate } from '../../src/render/serialize.js';
import { parseInternalTargets } from '../../src/address.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { enabledProviders } from '../../src/render/providers.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startTestSidecar, waitFor, type TestSidecar } from '../helpers/sidecar.js';
import type { SidecarOptions } from '../../src/sidecar/sidecar.js';
import { tempDir } from '../helpers/temp-dir.js';
import { startTraefik, traefikPorts, type RawData, type RawObject, type RunningTraefik, type TraefikBinary } from '../helpers/traefik.js';
import { Backends, request, type Reply, type RequestOptions } from './backends.js';

/** ACME resolvers the tests use; defined at Traefik's start by the test overlay (no network needed). */
export const TEST_RESOLVERS = ['letsencrypt', 'zerossl'] as const;

export interface Stack {
  readonly t: TestDatabase;
  readonly root: string;
  readonly sidecar: TestSidecar;
  readonly traefik: RunningTraefik;
  readonly config: TraefikConfigService;
  /** A config service like `config` (same root, loopback backends allowed) that allows the refs to `providers` instead. */
  configWith(providers: ReadonlySet<string>): TraefikConfigService;
  readonly backends: Backends;
  /** The flags the controller was started with (to restart it the same way). */
  readonly flags: Record<string, string>;
  /** A request through the `web` entry point, or `websecure` with `tls`. */
  request(o: RequestOptions): Promise<Reply>;
  /** Restart the controller with the same settings on the same volume (`between`: while it is stopped). */
  restartSidecar(between?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Overlay merged into the test's TRAEFIK_STATIC_FILE (which already sets up TEST_RESOLVERS). */
  readonly overlay?: Record<string, unknown>;
  /** The database URL the controller uses (e.g. through a proxy the test can cut); default the test database's. */
  readonly controllerDatabaseUrl?: (url: string) => string;
  /** Before Traefik starts (after the controller's first sync): e.g. create projects it must load at start. */
  readonly beforeTraefik?: (config: TraefikConfigService, backends: Backends) => Promise<void>;
  /** The controller reads Traefik's API (TRAEFIK_API_URL = the API entry point). */
  readonly readApi?: boolean;
  /** More controller flags. */
  readonly flags?: Record<string, string>;
  /** Options of the in-process sidecar (e.g. an Event sink). */
  readonly sidecar?: SidecarOptions;
}

/** Internal targets the stack's controller and config service allow: the loopback backends. */
export const STACK_INTERNAL_TARGETS = '127.0.0.1';

/** Start the stack with `binary`. */
export async function startStack(binary: TraefikBinary, options: StackOptions = {}): Promise<Stack> {
  const t = await createTestDatabase();
  const root = await tempDir('tsync-traefik-');
  const acme = await tempDir('tsync-acme-');
  const { flags: portFlags } = await traefikPorts();
  // ACME accounts go to a temp folder, and the CA is a closed loopback port: Traefik starts
  // without network, and no test ever asks a real CA for a certificate.
  const resolvers = Object.fromEntries(
    TEST_RESOLVERS.map((r) => [
      r,
      { acme: { storage: path.join(acme, `${r}.json`), caServer: 'https://127.0.0.1:9/directory', httpChallenge: { entryPoint: 'web' } } },
    ]),
  );
  const overlayFile = path.join(acme, 'static-overlay.yml');
  const overlay = { certificatesResolvers: resolvers, ...options.overlay };
  await writeFile(overlayFile, stringify(overlay));
  const apiUrl: Record<string, string> = options.readApi ? { 'traefik-api-url': `http://${portFlags['traefik-api-addr']}` } : {};
  // The backends listen on loopback, which a route may name only when the operator allows it.
  const flags = {
    ...portFlags,
    ...apiUrl,
    ...options.flags,
    'traefik-static-file': overlayFile,
    'config-dir': root,
    'allowed-internal-targets': STACK_INTERNAL_TARGETS,
  };
  const backends = new Backends();
  // The config service allows what the controller allows: loopback backends, the providers the overlay enables.
  const configWith = (providers: ReadonlySet<string>) =>
    new TraefikConfigService(t.db, {
      actor: 'traefik-e2e',
      configDir: root,
      allowedInternalTargets: parseInternalTargets(STACK_INTERNAL_TARGETS),
      providers,
    });
  const config = configWith(enabledProviders(overlay));
  const controllerUrl = options.controllerDatabaseUrl?.(t.url) ?? t.url;
  let sidecar = await startTestSidecar(controllerUrl, flags, options.sidecar);
  let traefik: RunningTraefik | undefined;
  const stop = async () => {
    await traefik?.stop();
    await sidecar.stop().catch(() => {});
    await backends.close();
    await t.drop();
  };
  try {
    await waitFor(async () => (await sidecar.get('/readyz')).status === 200, 20_000);
    if (options.beforeTraefik) await options.beforeTraefik(config, backends);
    traefik = await startTraefik(binary, path.join(root, 'static/traefik.yml'));
  } catch (err) {
    await stop();
    throw err;
  }
  const running = traefik;
  return {
    t,
    root,
    get sidecar() {
      return sidecar;
    },
    traefik: running,
    config,
    configWith,
    backends,
    flags,
    request: (o) => request(o.tls ? running.entryPoints.websecure! : running.entryPoints.web!, o),
    async restartSidecar(between) {
      await sidecar.stop();
      await between?.();
      sidecar = await startTestSidecar(controllerUrl, flags, options.sidecar);
    },
    stop,
  };
}

/** Objects of our file provider in Traefik's view, with their kind and name. */
export function ourObjects(raw: RawData, prefix = ''): Array<{ kind: string; name: string; obj: RawObject }> {
  const out: Array<{ kind: string; name: string; obj: RawObject }> = [];
  for (const kind of ['routers', 'services', 'middlewares'] as const) {
    for (const [name, obj] of Object.entries(raw[kind] ?? {})) {
      if (name.endsWith('@file') && name.startsWith(prefix)) out.push({ kind, name, obj });
    }
  }
  return out;
}

/** Every object Traefik reports in error (or not enabled), as readable lines. */
export function traefikErrors(raw: RawData, prefix = ''): string[] {
  return ourObjects(raw, prefix)
    .filter(({ obj }) => obj.status !== 'enabled' || (obj.err ?? obj.error ?? []).length > 0)
    .map(({ kind, name, obj }) => `${kind} ${name}: ${obj.status ?? '?'} ${JSON.stringify(obj.err ?? obj.error ?? [])}`);
}

/** The routers, services and middlewares the YAML files under dynamic/ define (`name@file`, sorted). */
export async function objectsOnDisk(root: string): Promise<Record<'routers' | 'services' | 'middlewares', string[]>> {
  const out = { routers: [] as string[], services: [] as string[], middlewares: [] as string[] };
  for (const rel of await listFiles(root, 'dynamic')) {
    if (!/\.ya?ml$/.test(rel)) continue;
    const doc = parse(unescapeGoTemplate(await readFile(path.join(root, rel), 'utf8'))) as { http?: Record<string, object> } | null;
    for (const kind of ['routers', 'services', 'middlewares'] as const) {
      out[kind].push(...Object.keys(doc?.http?.[kind] ?? {}).map((n) => `${n}@file`));
    }
  }
  for (const kind of ['routers', 'services', 'middlewares'] as const) out[kind].sort();
  return out;
}

/**
 * Wait until Traefik serves exactly what is on disk: every router, service and middleware of the
 * files under dynamic/, and none of the file provider's besides. Returns its view.
 */
export async function waitForDisk(stack: Pick<Stack, 'root' | 'traefik'>, timeoutMs = 15_000): Promise<RawData> {
  let want = await objectsOnDisk(stack.root);
  let raw: RawData = {};
  const have = (kind: 'routers' | 'services' | 'middlewares') =>
    Object.keys(raw[kind] ?? {})
      .filter((n) => n.endsWith('@file'))
      .sort();
  const same = () => (['routers', 'services', 'middlewares'] as const).every((k) => JSON.stringify(have(k)) === JSON.stringify(want[k]));
  try {
    await waitFor(
      async () => {
        want = await objectsOnDisk(stack.root);
        raw = await stack.traefik.rawdata();
        return same();
      },
      timeoutMs,
      100,
    );
  } catch {
    const diff = (['routers', 'services', 'middlewares'] as const).map((k) => {
      const h = new Set(have(k));
      const w = new Set(want[k]);
      return `${k}: missing ${want[k].filter((n) => !h.has(n)).join(' ') || '-'}; extra ${
        have(k)
          .filter((n) => !w.has(n))
          .join(' ') || '-'
      }`;
    });
    throw new Error(
      `Traefik does not serve what is on disk:\n${diff.join('\n')}\nrecent log:\n${stack.traefik.logs().slice(-10).join('\n')}`,
    );
  }
  return raw;
}

/** Wait until Traefik serves the routers named (`name@file`), or throw with what it reports. */
export async function waitForRouters(traefik: RunningTraefik, names: readonly string[], timeoutMs = 10_000): Promise<RawData> {
  let raw: RawData = {};
  try {
    await waitFor(
      async () => {
        raw = await traefik.rawdata();
        return names.every((n) => raw.routers?.[n.includes('@') ? n : `${n}@file`]);
      },
      timeoutMs,
      50,
    );
  } catch {
    const missing = names.filter((n) => !raw.routers?.[n.includes('@') ? n : `${n}@file`]);
    throw new Error(`Traefik does not serve ${missing.join(', ')}; recent log:\n${traefik.logs().slice(-10).join('\n')}`);
  }
  return raw;
}

/** Lines Traefik logged at level error that concern the file provider's configuration. */
export function providerErrors(traefik: RunningTraefik, since = 0): string[] {
  return traefik
    .logs()
    .slice(since)
    .filter((l) => /"level":"error"/.test(l) && /providerName":"file"|watcher callback|building configuration|field not found/.test(l));
}

/** Apply `spec`, wait until the controller wrote it and Traefik loaded it; what Traefik reports wrong with it (none expected). */
export async function applyLoaded(stack: Stack, spec: unknown): Promise<string[]> {
  const applied = await stack.config.apply(spec);
  await stack.config.waitForSync(applied.projectId);
  return [...traefikErrors(await waitForDisk(stack)), ...providerErrors(stack.traefik)];
}

/**
 * Wait until the controller reports project `name` live (it reads Traefik's API and finds every
 * object it wrote served as written); fails with the project's status.
 */
export async function waitForLive(stack: Pick<Stack, 'sidecar'>, name: string, timeoutMs = 15_000): Promise<void> {
  const status = async () => {
    const s = (await (await stack.sidecar.get('/api/v1/status')).json()) as {
      projects: Record<string, { name: string; live: boolean | null; traefikErrors: unknown[] }>;
    };
    return Object.values(s.projects).find((p) => p.name === name);
  };
  await waitFor(async () => (await status())?.live === true, timeoutMs, 100).catch(async () => {
    throw new Error(`project ${name} not live: ${JSON.stringify(await status())}`);
  });
}
