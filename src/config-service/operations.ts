/**
 * The declarative side of TraefikConfigService: apply a spec (one or several projects, one
 * transaction), export, preview, wait until synced, history and rollback.
 */
import { sql } from '../db/connect.js';
import { UserError, quote } from '../errors.js';
import { parsePoint, type AuditPoint } from './audit.js';
import { ServiceBase } from './base.js';
import type { DesiredProject } from './desired.js';
import { insecureTransportWarnings } from './tls-spec.js';
import { viewChange, type ApplyOptions, type ApplyResult, type ChangeView, type RollbackResult } from './describe.js';
import { ValidationError, prefixIssues, type ValidationIssue } from './errors.js';
import { exportSpec, type ExportOptions, type Exported } from './export.js';
import { projectHistory, type HistoryEntry } from './history.js';
import { importDirectory, type ImportOptions, type ImportOutcome } from './import.js';
import { matchSpec } from './match.js';
import { renderIssues } from './render-check.js';
import { rollbackProject } from './rollback.js';
import { emptyRows, loadRows, toState } from './rows.js';
import { resolveSpec } from './spec.js';
import { currentFiles, previewOf, waitForSync, writtenFiles, type PreviewResult, type WaitOptions } from './sync-check.js';
import { claimIssues, writeProject } from './write.js';

export type { ApplyOptions, ApplyResult, RollbackResult } from './describe.js';

const specField = (_table: string, column: string) => column;

/** Apply/export/preview/sync/history/rollback; TraefikConfigService adds the row-level CRUD. */
export abstract class SpecOperations extends ServiceBase {
  /**
   * Apply a spec (docs/spec-format.md) to its project in one transaction: create, update, and
   * remove the rows it no longer lists. `baseDir` is where certFile/keyFile are relative to.
   * Throws a ValidationError listing every problem; then nothing is written.
   */
  async apply(spec: unknown, options: { baseDir?: string; dryRun?: boolean } = {}): Promise<ApplyResult> {
    const desired = await resolveSpec(spec, { baseDir: options.baseDir ?? '.' });
    const [result] = await this.applyProjects([desired], options);
    return result!;
  }

  /** Apply resolved projects together: all or nothing, in one transaction. */
  async applyProjects(projects: readonly DesiredProject[], options: ApplyOptions = {}): Promise<ApplyResult[]> {
    return this.transaction(
      async (tx) => {
        const results: ApplyResult[] = [];
        const issues: ValidationIssue[] = [];
        for (const [done, desired] of projects.entries()) {
          options.onProgress?.(done, projects.length);
          try {
            const r = await writeProject(tx, { name: desired.name, create: true }, (current) => matchSpec(current, desired), {
              render: this.render,
              dryRun: options.dryRun,
            });
            results.push({
              project: desired.name,
              projectId: r.project.id,
              projectCreated: r.projectCreated,
              dryRun: options.dryRun ?? false,
              changes: r.changes.map(viewChange),
              warnings: insecureTransportWarnings(desired),
            });
          } catch (err) {
            if (!(err instanceof ValidationError) || projects.length === 1) throw err;
            issues.push(...prefixIssues(`[${desired.name}]`, err.issues));
          }
        }
        if (issues.length) throw new ValidationError(issues);
        options.onProgress?.(projects.length, projects.length);
        return results;
      },
      { fieldOf: specField },
    );
  }

  /** The project named `name`, or null. */
  async findProject(name: string): Promise<{ id: string; name: string } | null> {
    const [p] = await this.db.query(sql`SELECT id, name FROM projects WHERE name = ${name}`);
    return p ? { id: p.id as string, name: p.name as string } : null;
  }

  /** The spec of project `name` (see ExportOptions for certificates). */
  async exportSpec(name: string, options: ExportOptions = {}): Promise<Exported> {
    const [p] = await this.db.query(sql`SELECT id, name, shard FROM projects WHERE name = ${name}`);
    if (!p) throw new UserError(`--project: no project named ${quote(name)}`);
    return exportSpec(await loadRows(this.db, { id: p.id, name: p.name, shard: p.shard }), options);
  }

  /**
   * The files project `name` would generate: as it is now, or with `change` (a spec) applied.
   * Writes nothing. Problems are returned, not thrown. Rows the change would create get
   * placeholder ids, so their object names differ from those `apply` will generate.
   */
  async preview(name: string, change?: unknown, options: { baseDir?: string } = {}): Promise<PreviewResult> {
    const [p] = await this.db.query(sql`SELECT id, name FROM projects WHERE name = ${name}`);
    if (!p && change === undefined) throw new UserError(`no project named ${quote(name)}`);
    const before = p ? await writtenFiles(this.db, p.id) : new Map<string, string>();
    if (change === undefined) {
      const now = (await currentFiles(this.db, p.id, this.render))!;
      return previewOf(
        name,
        now.files,
        before,
        now.problems.map((m) => ({ path: '', message: m })),
      );
    }
    let desired: DesiredProject;
    try {
      desired = await resolveSpec(change, { baseDir: options.baseDir ?? '.' });
    } catch (err) {
      if (err instanceof ValidationError) return previewOf(name, [], before, [...err.issues]);
      throw err;
    }
    if (desired.name !== name)
      return previewOf(name, [], before, [{ path: 'name', message: `expected ${quote(name)}, got ${quote(desired.name)}` }]);
    const current = p ? await loadRows(this.db, { id: p.id, name }) : emptyRows({ id: '00000000-0000-4000-8000-000000000000', name });
    const m = matchSpec(current, desired);
    const checked = renderIssues(toState(m.target), m.locate, this.render);
    const issues = [...m.issues, ...(await claimIssues(this.db, m.target, m.locate)), ...checked.issues];
    return previewOf(name, checked.rendered.files, before, issues);
  }

  /**
   * Import a directory of Traefik dynamic YAML files into new projects (one transaction);
   * everything that could not be mapped is in the outcome's notes.
   */
  async importDirectory(dir: string, options: ImportOptions = {}): Promise<ImportOutcome> {
    return importDirectory(this, dir, options);
  }

  /** Resolve once the controller has written the project's current state (see sync-check.ts). */
  async waitForSync(projectId: string, options: WaitOptions = {}): Promise<void> {
    return waitForSync(this.db, projectId, this.render, options);
  }

  /** Who changed what in project `name`, newest first. Key material is never in the log. */
  async history(name: string, options: { limit?: number } = {}): Promise<{ projectId: string; entries: HistoryEntry[] }> {
    return projectHistory(this.db, name, options.limit ?? 50);
  }

  /**
   * Restore project `name`'s rows as of an audit entry id or a time (ISO-8601 string, Date or
   * AuditPoint), in one transaction attributed to `rollback:<actor>`.
   */
  async rollback(
    name: string,
    to: string | Date | AuditPoint,
    options: { dryRun?: boolean; skipCertificates?: boolean } = {},
  ): Promise<RollbackResult> {
    const point: AuditPoint = typeof to === 'string' ? parsePoint(to) : to instanceof Date ? { time: to } : to;
    return this.transaction(
      async (tx) => {
        const r = await rollbackProject(tx, name, point, { render: this.render, ...options });
        return {
          project: r.target.project.name,
          projectId: r.project.id,
          projectCreated: r.projectCreated,
          dryRun: options.dryRun ?? false,
          changes: r.changes.map(viewChange),
          point: r.point,
          notes: r.notes,
        };
      },
      { actor: `rollback:${this.actor}`, fieldOf: specField },
    );
  }
}
