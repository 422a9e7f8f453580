/**
 * One active owner per server name per entry point, and per UDP entry point, across projects
 * (sql/022: l4_routes_active_sni, l4_routes_active_udp): checked before writing, so the issue
 * names the project that holds the claim (the unique indexes stay the backstop).
 */
import { sql, type Queryable } from '../db/connect.js';
import { quote } from '../errors.js';
import { joinPath, type ValidationIssue } from './errors.js';
import type { Locator } from './render-check.js';
import type { ProjectRows } from './rows.js';

/** Active TCP/UDP routes of the target that another project holds on the same entry point. */
export async function l4ClaimIssues(q: Queryable, target: ProjectRows, locate: Locator): Promise<ValidationIssue[]> {
  const wanted = (target.l4Routes ?? []).filter((r) => r.is_active);
  if (!wanted.length) return [];
  // Only the exact claims, each through its partial unique index (sql/022), not every route of an entry point.
  const tcp = wanted.filter((r) => r.protocol === 'tcp');
  const udp = wanted.filter((r) => r.protocol === 'udp');
  const rows = await q.query(sql`
    SELECT 'tcp' AS protocol, l.entry_point, l.sni, p.name
      FROM l4_routes l JOIN projects p ON p.id = l.project_id
     WHERE l.is_active AND l.protocol = 'tcp' AND l.project_id <> ${target.project.id}
       AND (l.entry_point, l.sni) IN (SELECT * FROM unnest(${tcp.map((r) => r.entry_point)}::text[], ${tcp.map((r) => r.sni ?? '')}::text[]))
    UNION ALL
    SELECT 'udp', l.entry_point, '', p.name
      FROM l4_routes l JOIN projects p ON p.id = l.project_id
     WHERE l.is_active AND l.protocol = 'udp' AND l.project_id <> ${target.project.id}
       AND l.entry_point = ANY(${udp.map((r) => r.entry_point)}::text[])`);
  const owner = new Map(rows.map((r) => [`${String(r.protocol)} ${String(r.entry_point)} ${String(r.sni)}`, String(r.name)]));
  const out: ValidationIssue[] = [];
  for (const r of wanted) {
    const other = owner.get(`${r.protocol} ${r.entry_point} ${r.sni ?? ''}`);
    if (other === undefined) continue;
    out.push(
      r.protocol === 'udp'
        ? {
            path: joinPath(['entryPoint'], locate(r.id) ?? ''),
            message: `UDP entry point ${quote(r.entry_point)} is already taken by project ${quote(other)}; a UDP entry point has one active route`,
          }
        : {
            path: joinPath(['sni'], locate(r.id) ?? ''),
            message: `${quote(r.sni)} on entry point ${quote(r.entry_point)} is already active in project ${quote(other)}; a server name on an entry point belongs to one project`,
          },
    );
  }
  return out;
}
