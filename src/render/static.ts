/**
 * The global Traefik static configuration (static/traefik.yml): the entry points of
 * TRAEFIK_ENTRYPOINTS, Traefik's API on the loopback `traefik` entry point (TRAEFIK_API_ADDR), the
 * file provider on `<configDir>/dynamic` (throttle TRAEFIK_THROTTLE), Prometheus metrics and ping
 * on the `metrics` entry point, one ACME resolver per `ssl_provider` in use, and the operator's
 * TRAEFIK_STATIC_FILE merged over all of it. Pure.
 */
import { posix } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { UserError } from '../errors.js';
import type { RenderedFile } from '../model.js';
import { renderedFile, layout } from './project.js';
import { header, toYaml } from './serialize.js';
import { challengesOf } from './static-facts.js';
import { mergeOverlay } from './static-overlay.js';
import { API_ENTRY_POINT, DEFAULT_STATIC_SETTINGS, type StaticSettings } from './static-settings.js';
import { schemaProblemsStatic } from './validate.js';

export interface StaticOptions extends Partial<StaticSettings> {
  readonly configDir: string;
  /** Distinct ssl_provider values in use, except "custom" (each becomes an ACME resolver). */
  readonly resolvers: readonly string[];
}

/** Where Traefik keeps ACME accounts and certificates (must be a writable volume in its container). */
export const ACME_STORAGE_DIR = '/var/lib/traefik';

/** The entry point metrics and ping go on: `metrics` when defined, else the API's; null: neither exists. */
function observabilityEntryPoint(s: StaticSettings): string | null {
  if (s.entryPoints.some((e) => e.name === 'metrics')) return 'metrics';
  return s.apiAddress === null ? null : API_ENTRY_POINT;
}

/** The generated document, before the operator's overlay. */
function generatedDocument(options: StaticOptions): Record<string, unknown> {
  const s: StaticSettings = { ...DEFAULT_STATIC_SETTINGS, ...options };
  // The operator's resolvers (TRAEFIK_STATIC_FILE) get a storage file too, and keep the
  // challenge they define (a DNS-01 resolver must not also get the generated HTTP challenge).
  const given = s.overlay?.doc.certificatesResolvers;
  const defined = (typeof given === 'object' && given !== null && !Array.isArray(given) ? given : {}) as Record<string, unknown>;
  const resolvers = [...new Set([...options.resolvers, ...Object.keys(defined).filter((r) => defined[r] !== null)])]
    .filter((r) => r !== 'custom')
    .sort();
  const entryPoints: Record<string, unknown> = Object.fromEntries(s.entryPoints.map((e) => [e.name, { address: e.address }]));
  const doc: Record<string, unknown> = {
    global: { checkNewVersion: false, sendAnonymousUsage: false },
    entryPoints,
    providers: {
      // Traefik forwards the first change at once, then at most one per this interval.
      providersThrottleDuration: s.throttle,
      file: { directory: posix.join(options.configDir, 'dynamic'), watch: true },
    },
    log: { level: 'INFO', format: 'json' },
    accessLog: { format: 'json' },
  };
  if (s.apiAddress !== null) {
    // "insecure" serves the API on the `traefik` entry point, which listens on loopback only.
    entryPoints[API_ENTRY_POINT] = { address: s.apiAddress };
    doc.api = { insecure: true };
  }
  const observability = observabilityEntryPoint(s);
  if (observability !== null) {
    doc.metrics = {
      prometheus: { entryPoint: observability, addEntryPointsLabels: true, addRoutersLabels: true, addServicesLabels: true },
    };
    // Kubernetes probes /ping here (deploy/base): on `metrics` it is reachable from the node.
    doc.ping = { entryPoint: observability };
  }
  if (resolvers.length) {
    doc.certificatesResolvers = Object.fromEntries(
      resolvers.map((r) => {
        const storage = `${ACME_STORAGE_DIR}/acme-${r}.json`;
        return [r, { acme: challengesOf(defined[r]).length ? { storage } : { storage, httpChallenge: { entryPoint: 'web' } } }];
      }),
    );
  }
  return doc;
}

/** The static configuration document: the generated one with the operator's overlay merged over it. */
export function staticDocument(options: StaticOptions): Record<string, unknown> {
  const doc = generatedDocument(options);
  return options.overlay ? mergeOverlay(doc, options.overlay.doc) : doc;
}

type Doc = Record<string, any>;

/** What the merged document breaks: keys the settings own, entry points it names, Traefik's schema. */
function problemsOf(generated: Doc, merged: Doc): string[] {
  const problems: string[] = [];
  if (!isDeepStrictEqual(merged.providers?.file, generated.providers.file)) {
    problems.push("providers.file: the file provider is traefik-sync's (the folder it writes); it cannot be changed here");
  }
  if (merged.providers?.providersThrottleDuration !== generated.providers.providersThrottleDuration) {
    problems.push('providers.providersThrottleDuration: set by --traefik-throttle (TRAEFIK_THROTTLE), not here');
  }
  for (const [name, ep] of Object.entries<Doc>(generated.entryPoints)) {
    if (merged.entryPoints?.[name]?.address !== ep.address) {
      const by = name === API_ENTRY_POINT ? '--traefik-api-addr (TRAEFIK_API_ADDR)' : '--traefik-entrypoints (TRAEFIK_ENTRYPOINTS)';
      problems.push(`entryPoints.${name}.address: set by ${by}, not here`);
    }
  }
  const defined = new Set(Object.keys(merged.entryPoints ?? {}));
  const refs: Array<[string, unknown]> = [
    ['ping.entryPoint', merged.ping?.entryPoint],
    ['metrics.prometheus.entryPoint', merged.metrics?.prometheus?.entryPoint],
    ...Object.entries<Doc>(merged.certificatesResolvers ?? {}).map(([r, v]): [string, unknown] => [
      `certificatesResolvers.${r}.acme.httpChallenge.entryPoint`,
      v?.acme?.httpChallenge?.entryPoint,
    ]),
  ];
  for (const [where, ref] of refs) {
    if (typeof ref === 'string' && !defined.has(ref))
      problems.push(`${where}: no entry point named "${ref}" (defined: ${[...defined].join(', ')})`);
  }
  for (const p of schemaProblemsStatic(merged)) {
    const m = /^(\/\S*): (.*)$/.exec(p);
    const key = m ? m[1]!.slice(1).replaceAll('/', '.') : '';
    problems.push(`${key || '(top level)'}: ${m ? m[2]! : p} (Traefik's static configuration schema)`);
  }
  return problems;
}

/**
 * Check settings once, at start: the overlay merged over the generated document must keep what
 * the settings decide and pass Traefik's static schema. Throws a UserError naming `setting`, the
 * file and the key.
 */
export function checkStaticSettings(settings: StaticSettings, setting: string): void {
  if (!settings.overlay) return;
  const options: StaticOptions = { ...settings, configDir: '/', resolvers: [] };
  const problems = problemsOf(generatedDocument(options), staticDocument(options));
  if (problems.length) throw new UserError(`${setting}: ${settings.overlay.file}: ${problems.join('; ')}`);
}

/**
 * The static file, validated; throws when it fails (the settings were checked at start, so a
 * failure here is a bug). Not escaped for Go templates: Traefik does not template its static file.
 */
export function renderStatic(options: StaticOptions): RenderedFile {
  const doc = staticDocument(options);
  const problems = problemsOf(generatedDocument(options), doc);
  if (problems.length) throw new Error(`static configuration: ${problems.join('; ')}`);
  const body = toYaml(doc);
  return renderedFile(layout.static, header(null, body) + body, 'static', 0o644, null);
}
