/**
 * The one write path of the config service: inside a transaction, with the actor set, lock the
 * project, compute its target rows, check them (claims on active domains by other projects, the
 * renderer), then write only the rows that differ. Every CRUD call, apply, import and rollback
 * goes through {@link writeProject}.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Queryable } from '../db/connect.js';
import { quote } from '../errors.js';
import { diffRows, writeChanges, type RowChange } from './diff.js';
import { dedupe, joinPath, throwIfAny, type ValidationIssue } from './errors.js';
import type { RenderOptions } from '../render/types.js';
import { defaultCertificateIssues } from './default-certificate-check.js';
import { l4ClaimIssues } from './l4-claims.js';
import { redirectIssues } from './redirect-check.js';
import { renderIssues, type FieldNames, type Locator } from './render-check.js';
import { emptyRows, loadRows, lockProject, toState, type ProjectRow, type ProjectRows } from './rows.js';

/** The shard of a project created without one (the column's default, sql/006_shards.sql). */
export const DEFAULT_SHARD = 'default';

/** Attribute the transaction's changes to `actor` (audit_log.actor), until it ends. */
export async function setActor(q: Queryable, actor: string): Promise<void> {
  await q.query(sql`SELECT set_config('traefik_sync.actor', ${actor}, true)`);
}

/** What a caller computes from the current rows: the target rows and where they sit in its input. */
export interface RowPlan {
  readonly target: ProjectRows;
  readonly locate: Locator;
  /** Problems found while computing the target (reported with everything else). */
  readonly issues?: readonly ValidationIssue[];
}

/** Options of {@link writeProject}. */
export interface WriteOptions {
  /** How the controller renders (config root as Traefik sees it, allowed internal targets). */
  readonly render: RenderOptions;
  /** Compute, check and return the changes, but write nothing. */
  readonly dryRun?: boolean;
  /** Names of the caller's fields that the renderer's messages refer to. */
  readonly fieldNames?: FieldNames;
  /** Field (relative to a domain's path) that an active-domain claim is reported on. */
  readonly domainField?: string;
}

/** Result of {@link writeProject}. */
export interface WriteResult {
  readonly project: ProjectRow;
  readonly projectCreated: boolean;
  readonly changes: RowChange[];
  readonly target: ProjectRows;
}

/** Active domains of the target that another project holds active, as issues naming that project. */
export async function claimIssues(q: Queryable, target: ProjectRows, locate: Locator, field = 'domain'): Promise<ValidationIssue[]> {
  const wanted = target.domains.filter((d) => d.is_active);
  if (!wanted.length) return [];
  const rows = await q.query(sql`
    SELECT d.full_domain, p.name FROM domain_configs d JOIN projects p ON p.id = d.project_id
     WHERE d.is_active AND d.project_id <> ${target.project.id} AND d.full_domain = ANY(${wanted.map((d) => d.full_domain)}::text[])`);
  const owner = new Map(rows.map((r) => [r.full_domain as string, r.name as string]));
  return wanted
    .filter((d) => owner.has(d.full_domain))
    .map((d) => ({
      path: joinPath([field], locate(d.id) ?? ''),
      message: `${quote(d.full_domain)} is already active in project ${quote(owner.get(d.full_domain))}; an active domain belongs to one project (deactivate or remove it there first)`,
    }));
}

/**
 * Lock the project (by name or id; a missing project by name is created when `create` is set),
 * plan its target rows, check them, and write the difference. Throws a ValidationError with every
 * problem before anything is written.
 */
export async function writeProject(
  tx: Queryable,
  by: { name: string; create?: boolean; id?: string } | { id: string },
  plan: (current: ProjectRows) => RowPlan | Promise<RowPlan>,
  options: WriteOptions,
): Promise<WriteResult> {
  // Two writers creating the same new project: the second waits for the first and then updates
  // what it created (else its INSERT failed as if the name were taken by the user's mistake).
  if ('name' in by && by.create) await tx.query(sql`SELECT pg_advisory_xact_lock(hashtext(${`traefik_sync.project:${by.name}`}))`);
  const existing = await lockProject(tx, 'name' in by ? { name: by.name } : { id: by.id });
  let project: ProjectRow;
  if (existing) project = existing;
  else if ('name' in by && by.create) project = { id: by.id ?? randomUUID(), name: by.name };
  else throw new Error(`project ${'name' in by ? by.name : by.id} does not exist`);
  const current = existing ? await loadRows(tx, existing) : emptyRows(project);
  const p = await plan(current);
  const issues: ValidationIssue[] = [...(p.issues ?? [])];
  issues.push(...(await claimIssues(tx, p.target, p.locate, options.domainField)));
  issues.push(...(await redirectIssues(tx, p.target, p.locate)));
  issues.push(...(await defaultCertificateIssues(tx, p.target, p.locate)));
  issues.push(...(await l4ClaimIssues(tx, p.target, p.locate)));
  issues.push(...renderIssues(toState(p.target), p.locate, options.render, options.fieldNames).issues);
  throwIfAny(dedupe(issues));
  const changes = diffRows(current, p.target);
  const shard = p.target.project.shard ?? project.shard ?? DEFAULT_SHARD;
  const projectFields = [
    ...(p.target.project.name !== project.name ? [{ column: 'name', before: project.name, after: p.target.project.name }] : []),
    // A move to another shard: its sidecars write the project, then the old shard's remove it (sql/006_shards.sql).
    ...(existing && shard !== (project.shard ?? DEFAULT_SHARD)
      ? [{ column: 'shard', before: project.shard ?? DEFAULT_SHARD, after: shard }]
      : []),
  ];
  if (!existing)
    changes.unshift({
      op: 'create',
      table: 'projects',
      id: project.id,
      label: `project ${project.name}`,
      row: { ...project, shard },
      fields: shard === DEFAULT_SHARD ? [] : [{ column: 'shard', before: null, after: shard }],
    });
  else if (projectFields.length) {
    changes.unshift({
      op: 'update',
      table: 'projects',
      id: project.id,
      label: `project ${p.target.project.name}`,
      row: { ...p.target.project, shard },
      fields: projectFields,
    });
  }
  if (!options.dryRun) {
    if (!existing) await tx.query(sql`INSERT INTO projects (id, name, shard) VALUES (${project.id}, ${project.name}, ${shard})`);
    else if (projectFields.length) {
      await tx.query(sql`UPDATE projects SET name = ${p.target.project.name}, shard = ${shard} WHERE id = ${project.id}`);
    }
    await writeChanges(tx, changes, current);
  }
  return { project, projectCreated: !existing, changes, target: p.target };
}
