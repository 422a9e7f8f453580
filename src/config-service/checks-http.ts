/**
 * Checks of a spec's HTTP capabilities that span fields or rows (docs/spec-format.md): a route
 * with servers and a targetUrl, a domain that redirects to itself or has routes, … Each issue
 * names the field in the spec.
 */
import type { DesiredProject } from './desired.js';
import type { ValidationIssue } from './errors.js';

/** Problems across fields and rows of `d`'s HTTP capabilities. */
export function httpIssues(d: DesiredProject): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const names = new Set<string>();
  (d.middlewares ?? []).forEach((m, i) => {
    if (names.has(m.name)) out.push({ path: `middlewares[${i}].name`, message: `middleware ${JSON.stringify(m.name)} is listed twice` });
    names.add(m.name);
  });
  d.domains.forEach((dom, i) => {
    if (dom.redirect?.to === dom.fullDomain) {
      out.push({
        path: `domains[${i}].redirect.to`,
        message: `is the domain itself, so every request would be redirected to itself forever`,
      });
    }
    if (dom.redirect && dom.routes.length) {
      out.push({
        path: `domains[${i}].routes`,
        message: `a domain that redirects (to ${JSON.stringify(dom.redirect.to)}) has no routes: every request is redirected`,
      });
    }
    dom.routes.forEach((r, j) => {
      const at = `domains[${i}].routes[${j}]`;
      if (r.servers && r.targetUrl !== null) {
        out.push({ path: `${at}.servers`, message: 'cannot be combined with targetUrl: list that URL as one of the servers' });
      }
    });
  });
  return out;
}
