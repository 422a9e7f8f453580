/**
 * Rollback: restore a project's rows (services, domains, routes, certificates, its name) as of an
 * audit entry or a time, in one transaction, through the same checked write path as apply. Rows
 * come back with their original ids, so the generated files are byte-identical to those of that
 * point. Private keys are not in the audit log: a certificate is restored only when the stored
 * one has the same certificate text (its key is reused); otherwise the rollback is refused
 * (or, with `skipCertificates`, that certificate is left as it is now).
 */
import type { Queryable } from '../db/connect.js';
import { UserError, quote } from '../errors.js';
import type { RenderOptions } from '../render/types.js';
import { loadEntries, projectIdByName, resolvePoint, rowsAt, type AuditPoint } from './audit.js';
import { restoreTransportKeys } from './transport-match.js';
import { fingerprintOf } from './pem.js';
import type { CertificateRow, ProjectRows } from './rows.js';
import { writeProject, type WriteResult } from './write.js';

/** Options of {@link rollbackProject}. */
export interface RollbackOptions {
  /** How the controller renders (config root, allowed internal targets). */
  readonly render: RenderOptions;
  readonly dryRun?: boolean;
  /** Leave certificates that cannot be restored as they are now instead of refusing. */
  readonly skipCertificates?: boolean;
}

/** What a rollback did (or would do). */
export interface RollbackOutcome extends WriteResult {
  /** The audit entry the rows were restored to, and its time. */
  readonly point: { readonly id: number; readonly at: Date };
  /** Things the caller should know (certificates left alone, TRUNCATEs). */
  readonly notes: string[];
}

/** Restore the rows of project `name` as of `point` (inside the caller's transaction). */
export async function rollbackProject(tx: Queryable, name: string, to: AuditPoint, options: RollbackOptions): Promise<RollbackOutcome> {
  const { id: projectId, live } = await projectIdByName(tx, name);
  const point = await resolvePoint(tx, to);
  const entries = await loadEntries(tx, projectId);
  const notes: string[] = [];
  const result = await writeProject(
    tx,
    { name, create: true, id: projectId },
    async (current) => {
      const target = rowsAt(entries, point.id, live ? current : null);
      if (!target) {
        throw new UserError(
          `project ${quote(name)} did not exist at audit entry ${point.id} (${point.at.toISOString()}); nothing to roll back to`,
        );
      }
      const certificates = restoreKeys(target, current, options.skipCertificates ?? false, notes);
      const transports = restoreTransportKeys(target, current, options.skipCertificates ?? false, notes);
      if (transports.refused.length) {
        throw new UserError(
          `cannot restore ${transports.refused.join(', ')}: private keys are never stored in the audit log and the stored client certificate differs. ` +
            'Apply a spec with clientCertificate certFile/keyFile first, or pass --skip-certificates to keep the current transports.',
        );
      }
      return { target: { ...target, certificates, routes: transports.routes }, locate: () => undefined };
    },
    { render: options.render, dryRun: options.dryRun },
  );
  const truncated = entries.some((e) => e.op === 'TRUNCATE' && e.id > point.id);
  if (truncated) notes.push('a TRUNCATE after that point cannot be replayed row by row; check the result');
  return { ...result, point, notes };
}

/**
 * Give each certificate to restore its private key: from the stored certificate of the same
 * domain when the certificate text is the same. Otherwise refuse, or keep the stored one.
 */
function restoreKeys(target: ProjectRows, current: ProjectRows, skip: boolean, notes: string[]): CertificateRow[] {
  const stored = new Map(current.certificates.map((c) => [c.domain_config_id, c]));
  const domains = new Map(target.domains.map((d) => [d.id, d.full_domain]));
  const out: CertificateRow[] = [];
  const refused: string[] = [];
  for (const c of target.certificates) {
    const now = stored.get(c.domain_config_id);
    if (now && now.cert_pem === c.cert_pem && now.key_pem) {
      out.push({ ...c, key_pem: now.key_pem, not_after: c.not_after ?? now.not_after });
      continue;
    }
    const what = `certificate of ${domains.get(c.domain_config_id) ?? c.domain_config_id} (${fingerprintOf(c.cert_pem) ?? 'unparseable'})`;
    if (!skip) {
      refused.push(what);
      continue;
    }
    if (now) out.push(now);
    notes.push(
      `${what} was not restored: its private key is not in the audit log; ${now ? 'the current certificate is kept' : 'the domain stays without a certificate'}`,
    );
  }
  if (refused.length) {
    throw new UserError(
      `cannot restore ${refused.join(', ')}: private keys are never stored in the audit log and the stored certificate differs. ` +
        'Apply a spec with certFile/keyFile for it first, or pass --skip-certificates to keep the current certificates.',
    );
  }
  // Stored certificates of domains that keep existing but had none at that point are dropped by the diff.
  return out;
}
