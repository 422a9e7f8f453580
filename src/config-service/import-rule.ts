/**
 * The matchers of a Traefik rule beyond `Host` and `PathPrefix` that `import` maps to a route
 * (docs/spec-format.md "Matching requests"): ``Path``, ``PathRegexp``, ``Header`` and ``Method``
 * (several methods joined by `||`). One part of a rule at a time; values in backticks, or in
 * double quotes without escapes.
 */
import type { PathMatch } from '../model.js';

const Q = String.raw`(?:\x60([^\x60]*)\x60|"([^"\\]*)")`;
const PATH = new RegExp(String.raw`^(PathPrefix|Path|PathRegexp)\(\s*${Q}\s*\)$`);
const HEADER = new RegExp(String.raw`^Header\(\s*${Q}\s*,\s*${Q}\s*\)$`);
const METHOD = new RegExp(String.raw`^Method\(\s*${Q}\s*\)$`);

/** What one part of a rule matches, or null when it is none of the mapped matchers. */
export type RulePart =
  | { readonly kind: 'path'; readonly match: PathMatch; readonly path: string }
  | { readonly kind: 'header'; readonly name: string; readonly value: string }
  | { readonly kind: 'methods'; readonly methods: string[] };

const MATCH: Record<string, PathMatch> = { PathPrefix: 'prefix', Path: 'exact', PathRegexp: 'regex' };

/** One `&&` part of a rule (`alternatives`: the same part split at its top-level `||`, unwrapped). */
export function rulePart(part: string, alternatives: readonly string[]): RulePart | null {
  const p = PATH.exec(part);
  if (p) return { kind: 'path', match: MATCH[p[1]!]!, path: (p[2] ?? p[3])! };
  const h = HEADER.exec(part);
  if (h) return { kind: 'header', name: (h[1] ?? h[2])!, value: (h[3] ?? h[4])! };
  const methods: string[] = [];
  for (const alt of alternatives) {
    const m = METHOD.exec(alt);
    if (!m) return null;
    methods.push((m[1] ?? m[2])!.toUpperCase());
  }
  return methods.length ? { kind: 'methods', methods } : null;
}
