/**
 * The global Traefik static configuration (static/traefik.yml): entry points, the file provider
 * on `<configDir>/dynamic`, Prometheus metrics (routers, services, entry points), ping, and one
 * ACME resolver per `ssl_provider` in use. Pure.
 */
import { posix } from 'node:path';
import type { RenderedFile } from '../model.js';
import { renderedFile, layout } from './project.js';
import { yamlFile } from './serialize.js';
import { schemaProblemsStatic } from './validate.js';

export interface StaticOptions {
  readonly configDir: string;
  /** Distinct ssl_provider values in use, except "custom" (each becomes an ACME resolver). */
  readonly resolvers: readonly string[];
}

/** Where Traefik keeps ACME accounts and certificates (must be a writable volume in its container). */
export const ACME_STORAGE_DIR = '/var/lib/traefik';

/** The static configuration document. */
export function staticDocument(options: StaticOptions): Record<string, unknown> {
  const resolvers = [...new Set(options.resolvers)].filter((r) => r !== 'custom').sort();
  const doc: Record<string, unknown> = {
    global: { checkNewVersion: false, sendAnonymousUsage: false },
    entryPoints: {
      web: { address: ':80' },
      websecure: { address: ':443' },
      metrics: { address: ':8082' },
    },
    providers: {
      // Traefik forwards the first change at once, then at most one per this interval.
      providersThrottleDuration: '500ms',
      file: { directory: posix.join(options.configDir, 'dynamic'), watch: true },
    },
    metrics: {
      prometheus: { entryPoint: 'metrics', addEntryPointsLabels: true, addRoutersLabels: true, addServicesLabels: true },
    },
    ping: { entryPoint: 'metrics' },
    log: { level: 'INFO', format: 'json' },
    accessLog: { format: 'json' },
  };
  if (resolvers.length) {
    doc.certificatesResolvers = Object.fromEntries(
      resolvers.map((r) => [r, { acme: { storage: `${ACME_STORAGE_DIR}/acme-${r}.json`, httpChallenge: { entryPoint: 'web' } } }]),
    );
  }
  return doc;
}

/** The static file, validated; throws when the schema rejects it (a bug, not a user error). */
export function renderStatic(options: StaticOptions): RenderedFile {
  const doc = staticDocument(options);
  const problems = schemaProblemsStatic(doc);
  if (problems.length) throw new Error(`static configuration fails the Traefik schema: ${problems.join('; ')}`);
  return renderedFile(layout.static, yamlFile(null, doc), 'static', 0o644, null);
}
