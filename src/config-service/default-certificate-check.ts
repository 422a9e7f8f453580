/**
 * Traefik's default certificate (docs/spec-format.md "Default certificate") is global: one
 * `tls.stores.default` for the whole file provider. So one active domain of all projects holds
 * it; a second claim is refused naming the project that holds it (the database's unique index,
 * sql/015_tls_options.sql, is the backstop for concurrent writers).
 */
import { sql, type Queryable } from '../db/connect.js';
import { quote } from '../errors.js';
import { joinPath, type ValidationIssue } from './errors.js';
import type { Locator } from './render-check.js';
import type { ProjectRows } from './rows.js';

/** The target's claims on the default certificate that another project (or a second domain) holds. */
export async function defaultCertificateIssues(q: Queryable, target: ProjectRows, locate: Locator): Promise<ValidationIssue[]> {
  const claims = target.domains.filter((d) => d.is_active && d.default_certificate);
  if (!claims.length) return [];
  const issues: ValidationIssue[] = [];
  const at = (id: string) => joinPath(['defaultCertificate'], locate(id) ?? '');
  for (const extra of claims.slice(1)) {
    issues.push({
      path: at(extra.id),
      message: `only one domain can hold the default certificate; ${quote(claims[0]!.full_domain)} already does`,
    });
  }
  const [holder] = await q.query(sql`
    SELECT d.full_domain, p.name FROM domain_configs d JOIN projects p ON p.id = d.project_id
     WHERE d.is_active AND d.default_certificate AND d.project_id <> ${target.project.id} LIMIT 1`);
  if (holder) {
    issues.push({
      path: at(claims[0]!.id),
      message: `Traefik's default certificate is global and held by ${quote(holder.full_domain)} in project ${quote(holder.name)}; unset it there first`,
    });
  }
  return issues;
}
