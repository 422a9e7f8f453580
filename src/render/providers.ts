/**
 * Which Traefik providers a `ref` (`name@provider`) may name: those the static configuration
 * enables. Traefik marks a router that uses a middleware of a provider it does not run as
 * disabled ("middleware … does not exist"), and its host answers 404, so such a ref is refused
 * before anything is written. `internal` and `file` are always there; the operator's
 * TRAEFIK_STATIC_FILE may enable more (read from its `providers` section), and
 * TRAEFIK_EXTRA_PROVIDERS names those of a Traefik whose static configuration is not ours.
 */
import { UserError, quote } from '../errors.js';

/** Providers every Traefik runs with the generated static config. */
export const BASE_PROVIDERS: readonly string[] = ['internal', 'file'];

/** A provider name as it appears after `@` (Traefik's own names, lower case). */
export const PROVIDER_NAME = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * The name each `providers.<key>` of Traefik's static configuration registers under (Traefik's
 * pkg/provider/*: the `ProviderName` constants). Providers with namespaces register as
 * `<name>-<namespace>` when namespaces are listed.
 */
const STATIC_KEYS: Readonly<Record<string, string>> = {
  docker: 'docker',
  swarm: 'swarm',
  file: 'file',
  kubernetesIngress: 'kubernetes',
  kubernetesIngressNGINX: 'kubernetesingressnginx',
  kubernetesCRD: 'kubernetescrd',
  kubernetesGateway: 'kubernetesgateway',
  knative: 'knative',
  rest: 'rest',
  consulCatalog: 'consulcatalog',
  nomad: 'nomad',
  ecs: 'ecs',
  consul: 'consul',
  etcd: 'etcd',
  zooKeeper: 'zookeeper',
  redis: 'redis',
  http: 'http',
};

const NAMESPACED = new Set(['consulCatalog', 'nomad', 'consul']);

/** Provider names a static configuration document enables (its `providers` section). */
export function providersOfStatic(doc: Readonly<Record<string, unknown>> | null | undefined): string[] {
  const providers = doc?.providers;
  if (typeof providers !== 'object' || providers === null) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(providers as Record<string, unknown>)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'plugin' && typeof value === 'object') {
      out.push(...Object.keys(value).map((name) => `plugin-${name}`));
      continue;
    }
    const name = STATIC_KEYS[key];
    if (!name) continue;
    const namespaces = NAMESPACED.has(key) ? (value as { namespaces?: unknown }).namespaces : undefined;
    if (Array.isArray(namespaces) && namespaces.length > 0) out.push(...namespaces.map((ns) => `${name}-${String(ns)}`));
    else out.push(name);
  }
  return out;
}

/**
 * Parse TRAEFIK_EXTRA_PROVIDERS (`kubernetescrd,docker`); throws a message naming `setting` and
 * quoting the bad name.
 */
export function parseExtraProviders(text: string, setting: string): string[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const name of names) {
    if (!PROVIDER_NAME.test(name)) {
      throw new UserError(`${setting}: expected provider names like "kubernetescrd,docker" (lower case, as after "@"), got ${quote(name)}`);
    }
  }
  return names;
}

/** The providers a ref may name: the base ones, the overlay's, and the extra ones. */
export function enabledProviders(
  staticDoc: Readonly<Record<string, unknown>> | null | undefined,
  extra: readonly string[] = [],
): ReadonlySet<string> {
  return new Set([...BASE_PROVIDERS, ...providersOfStatic(staticDoc), ...extra]);
}

/** Why a ref's provider is not allowed, or null when it is. */
export function refProviderProblem(ref: string, providers: ReadonlySet<string>): string | null {
  const provider = ref.slice(ref.lastIndexOf('@') + 1);
  if (providers.has(provider)) return null;
  return (
    `${quote(ref)} names the provider ${quote(provider)}, which Traefik does not run (enabled: ${[...providers].sort().join(', ')}); ` +
    `Traefik would disable the router and its host would answer 404. Enable it in TRAEFIK_STATIC_FILE, or list it in ` +
    `TRAEFIK_EXTRA_PROVIDERS when Traefik's static configuration is not traefik-sync's`
  );
}
