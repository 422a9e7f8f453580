/**
 * Domain redirects across projects (docs/spec-format.md "Domain redirects"): an active redirect
 * may not point at an active domain of another project that redirects too, nor may another
 * project's active redirect point at a domain of this one that now redirects (a loop or a chain
 * a client would follow hop by hop). Within one project the renderer checks the same
 * (render/redirect.ts); the database is the backstop (sql/008_domain_redirects.sql).
 */
import { sql, type Queryable } from '../db/connect.js';
import { quote } from '../errors.js';
import { joinPath, type ValidationIssue } from './errors.js';
import type { Locator } from './render-check.js';
import type { ProjectRows } from './rows.js';

/** Redirects of the target's active domains that would chain with another project's redirects. */
export async function redirectIssues(q: Queryable, target: ProjectRows, locate: Locator): Promise<ValidationIssue[]> {
  const redirecting = target.domains.filter((d) => d.is_active && d.redirect);
  if (!redirecting.length) return [];
  const names = redirecting.flatMap((d) => [d.full_domain, d.redirect!.to]);
  const rows = await q.query(sql`
    SELECT d.full_domain, d.redirect->>'to' AS "to", p.name FROM domain_configs d JOIN projects p ON p.id = d.project_id
     WHERE d.is_active AND d.redirect IS NOT NULL AND d.project_id <> ${target.project.id}
       AND (d.full_domain = ANY(${names}::text[]) OR d.redirect->>'to' = ANY(${names}::text[]))`);
  const issues: ValidationIssue[] = [];
  for (const d of redirecting) {
    const path = joinPath(['redirect', 'to'], locate(d.id) ?? '');
    const onward = rows.find((r) => r.full_domain === d.redirect!.to);
    if (onward) {
      issues.push({
        path,
        message: `${quote(d.redirect!.to)} redirects too (to ${quote(onward.to)}, in project ${quote(onward.name)}): a redirect loop or chain; redirect straight to the final host`,
      });
    }
    const inbound = rows.find((r) => r.to === d.full_domain);
    if (inbound) {
      issues.push({
        path,
        message: `${quote(inbound.full_domain)} in project ${quote(inbound.name)} redirects to ${quote(d.full_domain)}, so ${quote(d.full_domain)} cannot redirect too (a loop or a chain)`,
      });
    }
  }
  return issues;
}
