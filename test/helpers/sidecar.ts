/** Start an in-process sidecar on a test database and a temp config root (removed after the test file). */
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { startSidecar, type Sidecar, type SidecarOptions } from '../../src/sidecar/sidecar.js';
import { tempDir } from './temp-dir.js';

export interface TestSidecar extends Sidecar {
  readonly root: string;
  readonly base: string;
  get(p: string): Promise<{ status: number; text: string; json: () => any }>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

export async function startTestSidecar(
  databaseUrl: string,
  flags: Record<string, string> = {},
  options: SidecarOptions = {},
): Promise<TestSidecar> {
  const root = flags['config-dir'] ?? (await tempDir('tsync-run-'));
  // The sample projects (helpers/seed.ts) use a middleware of Traefik's Kubernetes CRD provider.
  const config = loadConfig(
    {
      'http-addr': '127.0.0.1:0',
      interval: '1s',
      'traefik-extra-providers': 'kubernetescrd',
      ...flags,
      'config-dir': root,
      'database-url': databaseUrl,
    },
    {},
  );
  const sidecar = await startSidecar(config, { log: silentLogger, ...options });
  const base = `http://127.0.0.1:${sidecar.port}`;
  const get = async (p: string) => {
    const res = await fetch(base + p);
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) };
  };
  return Object.assign(sidecar, {
    root,
    base,
    get,
    async metric(name: string, labels: Record<string, string> = {}) {
      const text = (await get('/metrics')).text;
      const want = Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(',');
      for (const line of text.split('\n')) {
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const got = (m[2] ?? '').slice(1, -1);
        if (want === '' ? got === '' || Object.keys(labels).length === 0 : want.split(',').every((kv) => got.split(',').includes(kv)))
          return Number(m[3]);
      }
      return NaN;
    },
  });
}

/** Poll `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(fn: () => Promise<T> | T, timeoutMs = 15_000, stepMs = 20): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Passes a sidecar has finished, whatever their result (the sum of traefik_sync_reconcile_total). */
export async function reconciles(s: TestSidecar): Promise<number> {
  const text = (await s.get('/metrics')).text;
  return [...text.matchAll(/^traefik_sync_reconcile_total\{[^}]*\} (\S+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}
