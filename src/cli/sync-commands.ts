/**
 * The commands of the sync service itself: `migrate`, `sync --once` (init container, cron) and
 * `diff` (database-desired vs disk, key material masked).
 */
import { hostname } from 'node:os';
import type { Config } from '../config.js';
import type { ConnectionPool } from '../db/connect.js';
import { migrate } from '../db/migrate.js';
import { createRoles, roleNames, rolesSql } from '../db/roles.js';
import { UserError } from '../errors.js';
import type { Logger } from '../log.js';
import { unifiedDiff } from '../reconcile/diff.js';
import { TraefikSyncService, totals, type SyncReport } from '../reconcile/sync-service.js';
import { layout } from '../render/project.js';
import { syncServiceSettings } from '../sidecar/sidecar.js';
import { commandLogger, projectIdByName, withDatabase, type Command } from './command.js';
import { progressLine } from './progress.js';

function syncService(config: Config, db: ConnectionPool, log: Logger): TraefikSyncService {
  return new TraefikSyncService({
    db,
    // With SHARD, only that shard's projects (the init container of a shard's Traefik).
    ...syncServiceSettings(config, config.podName ?? `${hostname()}-${process.pid}`),
    log,
  });
}

/** Who a result is about: a project, or the static files (projectId null). */
export function unitLabel(r: { readonly projectId: string | null; readonly projectName: string | null }): string {
  return r.projectId === null ? `static files (${layout.static})` : `project ${r.projectName ?? r.projectId}`;
}

/** Human summary of a pass: counts of projects (the static files are not one), then one line per problem. */
export function describeReport(report: SyncReport): string[] {
  const t = totals(report.results);
  const failed = report.results.filter((r) => r.status === 'failed');
  const drift = report.results.flatMap((r) => r.drift);
  const projects = report.results.filter((r) => r.projectId !== null).length;
  const failedProjects = failed.filter((r) => r.projectId !== null).length;
  const lines = [
    `${projects} project(s): ${t.created} file(s) created, ${t.updated} updated, ${t.deleted} deleted; ` +
      `${failedProjects} failed; ${drift.length} drifted file(s); ${report.durationMs} ms`,
  ];
  if (report.blocked) {
    lines.push(
      `delete guard: the pass would delete ${report.blocked.deletes} of ${report.blocked.managed} managed files (limit ${report.blocked.limit}); nothing was written. Raise --max-delete-fraction (MAX_DELETE_FRACTION) if this is intended.`,
    );
  }
  for (const r of failed) for (const p of r.problems.length ? r.problems : ['failed']) lines.push(`${unitLabel(r)}: ${p}`);
  for (const d of drift) lines.push(`drift: ${d.path} ${d.kind}${d.repaired ? ' (repaired)' : ' (reported only)'}`);
  for (const u of [...report.unowned, ...report.results.flatMap((r) => r.unowned)])
    lines.push(`not managed by traefik-sync (left alone): ${u}`);
  return lines;
}

/** `migrate`: apply the sql/ migrations; create the database roles (db/roles.ts) or print their SQL. */
export const migrateCommand: Command = {
  summary:
    'apply the sql/ migrations to DATABASE_URL; --create-roles also creates the owner, writer and sidecar roles (--roles-sql prints their SQL)',
  usage: 'traefik-sync migrate [--database-url URL] [--create-roles | --roles-sql] [--role-prefix traefik_sync]',
  options: { 'create-roles': { type: 'boolean' }, 'roles-sql': { type: 'boolean' }, 'role-prefix': { type: 'string' } },
  async run({ config, values, out }) {
    const prefix = values['role-prefix'] as string | undefined;
    let names;
    try {
      names = roleNames(prefix);
    } catch (err) {
      throw new UserError((err as Error).message);
    }
    if (values['roles-sql']) {
      out(rolesSql(names));
      return 0;
    }
    const applied = await withDatabase(config, async (db) => {
      const done = await migrate(db, undefined, { rolePrefix: prefix });
      if (values['create-roles']) await createRoles(db, { prefix });
      return done;
    });
    out(applied.length ? `applied ${applied.join(', ')}` : 'schema is up to date');
    if (values['create-roles'])
      out(`roles ${names.owner}, ${names.writer}, ${names.sidecar} are set up (logins: CREATE ROLE … LOGIN IN ROLE …)`);
    return 0;
  },
};

/** `sync --once`: one full reconcile, then exit. */
export const syncCommand: Command = {
  summary: 'one full reconcile, then exit (init container, cron)',
  usage: 'traefik-sync sync --once [--project NAME] [--config-dir DIR]',
  options: { once: { type: 'boolean' }, project: { type: 'string' } },
  async run({ values, config, out }) {
    if (!values.once) throw new UserError('--once is required (the long-running controller is `traefik-sync run`)', 2);
    const log = commandLogger(config);
    return withDatabase(config, async (db) => {
      const service = syncService(config, db, log);
      let report;
      if (typeof values.project === 'string') {
        report = await service.syncProjectConfigs(await projectIdByName(db, config.configDir, values.project));
      } else {
        const progress = progressLine(process.stderr, 'projects');
        try {
          report = await service.syncAllProjects({ onProgress: (done, total) => progress.update(done, total) });
        } finally {
          progress.end();
        }
      }
      for (const line of describeReport(report)) out(line);
      const ok = !report.blocked && report.results.every((r) => r.status !== 'failed');
      return ok ? 0 : 1;
    });
  },
};

/** `diff`: what a pass would change, as a unified diff. */
export const diffCommand: Command = {
  summary: 'unified diff of database-desired vs disk (keys masked); exit 0 none, 1 differences, 2 error',
  usage: 'traefik-sync diff [--project NAME] [--config-dir DIR]',
  options: { project: { type: 'string' } },
  errorExitCode: 2,
  async run({ values, config, out, err }) {
    const log = commandLogger(config);
    return withDatabase(config, async (db) => {
      const service = syncService(config, db, log);
      const name = typeof values.project === 'string' ? values.project : undefined;
      if (name !== undefined) await projectIdByName(db, config.configDir, name);
      const { changes, failed } = await service.preview();
      const mine =
        name === undefined ? changes : changes.filter((c) => c.projectName === name || c.path.startsWith(`${layout.projectDir(name)}/`));
      for (const c of mine) out(unifiedDiff(c).trimEnd());
      const failing = failed.filter((f) => name === undefined || f.projectName === name);
      for (const f of failing) for (const p of f.problems) err(`${unitLabel(f)}: ${p}`);
      if (failing.length) return 2;
      return mine.length ? 1 : 0;
    });
  },
};
