/**
 * The last check before a write: render the would-be project with the real renderer and turn
 * its problems into field-level issues. Whatever passes renders schema-valid files, because it is
 * exactly what the controller will render.
 */
import { quote } from '../errors.js';
import type { ProjectState } from '../model.js';
import { routeRuleOf } from '../render/matchers.js';
import { renderProject, ruleOf, type RenderedProject, type RenderOptions } from '../render/project.js';
import { l4Field } from './l4-fields-map.js';
import { l4Describe } from '../render/l4.js';
import { sharedMiddlewareName } from '../render/shared.js';
import { joinPath, type ValidationIssue } from './errors.js';

/** Where a row (by id) appears in the caller's input: a path prefix, or undefined when it is not part of it. */
export type Locator = (rowId: string) => string | undefined;

/** Field names in the caller's input for fields the renderer's messages refer to. */
export interface FieldNames {
  readonly provider: string;
  readonly certificate: string;
  /** More names on the certificate (`sans` in a spec, `tlsSans` in the API). */
  readonly sans?: string;
  /** A route's path (`path` in a spec, `pathRule` in the API). */
  readonly path?: string;
}

const SPEC_FIELDS: FieldNames = { provider: 'provider', certificate: 'certificate', sans: 'sans', path: 'path' };
/** Route fields the renderer's messages name, as both the API and spec files call them. */
const FIELDS = { targetUrl: 'targetUrl' } as const;

interface Target {
  readonly rowId: string;
  readonly describe: string;
  readonly field: (pointer: string[]) => string[];
}

function at(base: string | undefined, fields: string[]): string {
  return joinPath(
    fields.map((f) => (/^\d+$/.test(f) ? Number(f) : f)),
    base ?? '',
  );
}

/**
 * Render `state` (as the controller would, with `render`) and report its problems as issues
 * located through `locate`. Rows that `locate` does not know are named in the message instead.
 */
export function renderIssues(
  state: ProjectState,
  locate: Locator,
  render: RenderOptions,
  names: FieldNames = SPEC_FIELDS,
): { rendered: RenderedProject; issues: ValidationIssue[] } {
  const rendered = renderProject(state, render);
  if (!rendered.problems.length) return { rendered, issues: [] };
  // Map every rendered object back to its row through the rendered documents (rule → route).
  const routesByRule = new Map<string, { rowId: string; describe: string }>();
  const domainsByRule = new Map<string, { rowId: string; describe: string }>();
  const objects = new Map<string, Target>();
  const prefixes: Array<{ match: string; strip: string; rowId: string; field: string[]; inner?: typeof innerField }> = [];
  for (const m of state.middlewares ?? []) {
    const mName = `middleware ${quote(m.name)}: `;
    prefixes.push({ match: mName, strip: mName, rowId: m.id, field: [], inner: sharedField });
    objects.set(sharedMiddlewareName(state.name, m.name), { rowId: m.id, describe: mName.slice(0, -2), field: (ptr) => ptr });
  }
  for (const r of state.l4Routes ?? []) {
    const lName = `${l4Describe(r)}: `;
    prefixes.push({ match: lName, strip: lName, rowId: r.id, field: [], inner: l4Field });
  }
  for (const sv of state.services) {
    const sName = `service ${quote(sv.name)}: host`;
    prefixes.push({ match: `${sName} `, strip: `${sName} `, rowId: sv.id, field: ['host'] });
  }
  for (const d of state.domains) {
    const dName = `domain ${quote(d.fullDomain)}`;
    domainsByRule.set(ruleOf(d.fullDomain, '/'), { rowId: d.id, describe: dName });
    prefixes.push({ match: `${dName}: ssl_provider is "custom"`, strip: `${dName}: `, rowId: d.id, field: [names.certificate] });
    prefixes.push({ match: `${dName}: ssl_provider: `, strip: `${dName}: ssl_provider: `, rowId: d.id, field: [names.provider] });
    prefixes.push({ match: `${dName}: tls_sans: `, strip: `${dName}: tls_sans: `, rowId: d.id, field: [names.sans ?? 'sans'] });
    prefixes.push({ match: `${dName}: full_domain: `, strip: `${dName}: full_domain: `, rowId: d.id, field: ['domain'] });
    prefixes.push({ match: `${dName}: entry_points`, strip: `${dName}: `, rowId: d.id, field: [], inner: l4Field });
    prefixes.push({ match: `${dName}: `, strip: `${dName}: `, rowId: d.id, field: [] });
    for (const r of d.routes) {
      const rName = `route ${quote(d.fullDomain + r.pathRule)}`;
      prefixes.push({ match: `${rName}: target_url `, strip: `${rName}: target_url `, rowId: r.id, field: [FIELDS.targetUrl] });
      prefixes.push({ match: `${rName}: priority `, strip: `${rName}: `, rowId: r.id, field: ['priority'] });
      prefixes.push({ match: `${rName}: path_rule `, strip: `${rName}: path_rule `, rowId: r.id, field: [names.path ?? 'path'] });
      prefixes.push({ match: `${rName}: entry_points`, strip: `${rName}: `, rowId: r.id, field: [], inner: l4Field });
      prefixes.push({ match: `${rName}: `, strip: `${rName}: `, rowId: r.id, field: [] });
      if (r.isActive && d.isActive) routesByRule.set(routeRuleOf(d.fullDomain, r), { rowId: r.id, describe: rName });
    }
  }
  for (const [path, doc] of rendered.documents) {
    for (const [name, router] of Object.entries(doc.http?.routers ?? {})) {
      const rule = String(router.rule);
      if (path.endsWith('/domains.yml')) {
        const d = domainsByRule.get(rule);
        if (d) objects.set(name, { ...d, field: (ptr) => (ptr[0] === 'tls' ? [names.provider] : []) });
        continue;
      }
      const r = routesByRule.get(rule);
      if (!r) continue;
      objects.set(name, { ...r, field: (ptr) => (ptr[0] === 'priority' ? ['priority'] : ptr[0] === 'tls' ? [] : []) });
      objects.set(String(router.service), {
        ...r,
        field: (ptr) =>
          ptr[0] === 'loadBalancer' && ptr[1] === 'healthCheck'
            ? ['healthCheck', ...ptr.slice(2)]
            : ptr[0] === 'loadBalancer' && ptr[1] === 'servers'
              ? ['targetUrl']
              : [],
      });
      ((router.middlewares as string[] | undefined) ?? []).forEach((mw, i) => {
        if (!mw.includes('@')) objects.set(mw, { ...r, field: (ptr) => ['middleware', String(i), ...ptr] });
      });
    }
  }
  const issues: ValidationIssue[] = [];
  for (const problem of rendered.problems) {
    const schema = /^\S+: schema: \/http\/(?:routers|services|middlewares)\/([^/:]+)((?:\/[^/:]*)*): (.*)$/.exec(problem);
    if (schema) {
      const name = decode(schema[1]!);
      const target = objects.get(name);
      const ptr = schema[2]!.split('/').slice(1).map(decode);
      if (target) {
        const base = locate(target.rowId);
        const message = `${schema[3]} (Traefik schema, at ${ptr.join('.') || name})`;
        issues.push(
          base === undefined ? { path: '', message: `${target.describe}: ${message}` } : { path: at(base, target.field(ptr)), message },
        );
        continue;
      }
    }
    const pre = prefixes.find((x) => problem.startsWith(x.match));
    if (pre) {
      const base = locate(pre.rowId);
      const inner = pre.field.length === 0 ? (pre.inner ?? innerField)(problem.slice(pre.strip.length)) : null;
      const field = inner ? inner.field : pre.field;
      const message = inner ? inner.message : problem.slice(pre.strip.length);
      issues.push(base === undefined ? { path: '', message: problem } : { path: at(base, field), message });
      continue;
    }
    issues.push({ path: '', message: problem });
  }
  // The schema's oneOf over middleware types also reports the branches that were not meant;
  // keep the most specific issue of each object.
  const specific = issues.filter(
    (i) => !(i.path && issues.some((o) => o !== i && (o.path.startsWith(`${i.path}.`) || o.path.startsWith(`${i.path}[`)))),
  );
  return { rendered, issues: specific };
}

/**
 * A message about a field inside a row's value: "middleware[1].forwardAuth.address points at …",
 * "servers[0].url: …", "redirect.to: …" → that field and the rest of the message.
 */
function innerField(text: string): { field: string[]; message: string } | null {
  const m =
    /^((?:middleware|servers|split)\[\d+\]|redirect|failover|transport|tls_options)((?:\.[A-Za-z0-9_-]+|\[\d+\])*):? ([\s\S]*)$/.exec(text);
  if (!m) return null;
  const field = (m[1]! + m[2]!).match(/[A-Za-z0-9_-]+|\d+/g)!;
  return {
    field: field.map((f) => (f === 'tls_options' ? 'tlsOptions' : f === 'default_certificate' ? 'defaultCertificate' : f)),
    message: m[3]!,
  };
}

/** A message about a shared middleware's field: "forwardAuth.address: …", "errors.status[0]: …", "name: …". */
function sharedField(text: string): { field: string[]; message: string } | null {
  const m = /^([A-Za-z][A-Za-z0-9]*)((?:\.[A-Za-z0-9_-]+|\[\d+\])*):? ([\s\S]*)$/.exec(text);
  if (!m || (/^[a-z]+$/.test(m[1]!) && m[1] !== 'name' && !m[2])) return null;
  return { field: (m[1]! + m[2]!).match(/[A-Za-z0-9_-]+|\d+/g)!, message: m[3]! };
}

function decode(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
