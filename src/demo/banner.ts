/** The box `traefik-sync demo` prints once it runs: where things are and what to try next. */
import type { DriftMode } from '../reconcile/plan.js';

export interface BannerInfo {
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:9090. */
  readonly base: string;
  readonly databaseUrl: string;
  /** The last run's PostgreSQL port, when it was taken and this run moved to another. */
  readonly movedFrom?: number;
  /** The config directory: `shown` relative to the working directory when inside it, `absolute` to export. */
  readonly configDir: { readonly shown: string; readonly absolute: string };
  /** The data folder as shown. */
  readonly dataDir: string;
  /** The examples folder as shown (relative when inside the working directory). */
  readonly examplesDir: string;
  /** Example files applied by this run (new database), or null when the database was reused. */
  readonly applied: readonly string[] | null;
  readonly driftMode: DriftMode;
  /** A generated file to hand-edit (shown), when there is one. */
  readonly handEdit?: string;
  /** Traefik as the demo runs it (with-traefik.ts), or why it runs without. */
  readonly traefik?: DemoTraefikInfo | { readonly missing: string };
}

/** The demo's Traefik, for the banner. */
export interface DemoTraefikInfo {
  readonly version: string;
  /** `127.0.0.1:PORT` of the `web` entry point. */
  readonly web: string;
  /** `http://127.0.0.1:PORT` of its API and dashboard. */
  readonly api: string;
  /** Its log file, as shown. */
  readonly log: string;
  /** The sample project: its host, its spec file (shown) and the green backend's port. */
  readonly sample: { readonly host: string; readonly file: string; readonly green: number };
  /** ALLOWED_INTERNAL_TARGETS as the demo runs with it (the CLI needs it to apply the sample). */
  readonly allowedInternalTargets: string | undefined;
}

function box(lines: string[]): string {
  const width = Math.max(...lines.map((l) => l.length));
  const bar = '─'.repeat(width + 2);
  return [`┌${bar}┐`, ...lines.map((l) => `│ ${l.padEnd(width)} │`), `└${bar}┘`].join('\n');
}

/** The banner's text (several lines). */
export function demoBanner(i: BannerInfo): string {
  const ex = (file: string) => `${i.examplesDir}/${file}`;
  const lines = [
    'traefik-sync demo is running',
    '',
    `files      ${i.configDir.shown}`,
    `operator   ${i.base}/`,
    `metrics    ${i.base}/metrics        status ${i.base}/api/v1/status`,
    `database   DATABASE_URL=${i.databaseUrl}`, // the demo's own throwaway password, printed on purpose
  ];
  const t = i.traefik && !('missing' in i.traefik) ? i.traefik : undefined;
  if (t) {
    lines.push(
      `traefik    ${t.version}: http://${t.web}  dashboard ${t.api}/dashboard/  log ${t.log}`,
      `           curl -H 'Host: ${t.sample.host}' http://${t.web}/`,
    );
  } else if (i.traefik && 'missing' in i.traefik) {
    lines.push(`traefik    ${i.traefik.missing}`);
  }
  if (i.movedFrom !== undefined) lines.push(`           a new port: the last run's (${i.movedFrom}) is taken; export DATABASE_URL again`);
  if (i.applied) {
    lines.push(`data       new, in ${i.dataDir}: applied ${i.applied.map(ex).join(', ')}`);
  } else {
    lines.push(
      `data       reused from ${i.dataDir}, with your changes; the examples were not applied again`,
      `           to apply one again: npx traefik-sync apply -f ${ex('<file>')}`,
    );
  }
  lines.push(
    '',
    'Try, in another terminal (same folder):',
    `  export DATABASE_URL=${i.databaseUrl} TRAEFIK_CONFIG_DIR=${i.configDir.absolute}${
      t?.allowedInternalTargets ? ` ALLOWED_INTERNAL_TARGETS=${t.allowedInternalTargets}` : ''
    }`,
    `  edit ${ex('shop.yaml')}, then: npx traefik-sync apply -f ${ex('shop.yaml')}`,
  );
  if (t) {
    lines.push(
      `  set targetPort: ${t.sample.green} in ${t.sample.file}, then: npx traefik-sync apply -f ${t.sample.file}`,
      `    and the curl above answers "green" instead of "blue" within a second`,
    );
  }
  if (i.handEdit) {
    const then = i.driftMode === 'repair' ? 'repaired within a second' : 'reported as drift within a second (--drift-mode report)';
    lines.push(`  hand-edit ${i.handEdit}: ${then}`);
  }
  lines.push(
    '  npx traefik-sync diff              npx traefik-sync history --project shop',
    '',
    'Ctrl-C stops everything (the database is kept for the next run).',
  );
  return box(lines);
}
