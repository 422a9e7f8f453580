/**
 * A Traefik router that only redirects its host to another (`redirectRegex` as its one
 * middleware, on the whole host) → a domain redirect (docs/spec-format.md "Domain redirects"),
 * for `import`. The regex and replacement are not parsed but tried: on URLs of the router's host
 * with either scheme, with and without a port, and a path with a query. When every result is
 * that URL on one other host, with the path and query kept, it is a redirect traefik-sync can
 * express (scheme and port kept, or one fixed scheme); anything else is not, and stays unmapped.
 */
import type { DomainRedirect } from '../model.js';
import { redirectProblems } from '../render/redirect.js';

type Obj = Record<string, unknown>;

const TAIL = '/p/a%20b?x=1&y=two';

/** Go regexp syntax → JavaScript (named groups); null where it differs in ways not handled. */
function jsRegex(go: string): RegExp | null {
  try {
    return new RegExp(go.replace(/\(\?P</g, '(?<'));
  } catch {
    return null;
  }
}

/** Go's Regexp.Expand template (`$1`, `${1}`, `${name}`, `$$`) → JavaScript's replace template. */
function jsReplacement(go: string): string {
  return go.replace(/\$\$|\$\{(\w+)\}|\$(\w+)/g, (m, braced: string | undefined, bare: string | undefined) => {
    if (m === '$$') return '$$';
    const g = braced ?? bare!;
    return /^\d+$/.test(g) ? `$${g}` : `$<${g}>`;
  });
}

/** The domain redirect a router's `redirectRegex` options on `host` amount to, or null. */
export function importedRedirect(host: string, options: unknown): DomainRedirect | null {
  if (typeof options !== 'object' || options === null) return null;
  const o = options as Obj;
  if (typeof o.regex !== 'string' || typeof o.replacement !== 'string') return null;
  const re = jsRegex(o.regex);
  if (!re) return null;
  const replacement = jsReplacement(o.replacement);
  const results: Array<{ scheme: string; port: string; got: RegExpExecArray }> = [];
  for (const scheme of ['http', 'https']) {
    for (const port of ['', ':8443']) {
      const url = `${scheme}://${host}${port}${TAIL}`;
      if (!re.test(url)) return null;
      const got = /^(https?):\/\/([a-z0-9.-]+)(:\d+)?(\/.*)$/.exec(url.replace(re, replacement));
      if (!got || got[4] !== TAIL) return null;
      results.push({ scheme, port, got });
    }
  }
  const to = results[0]!.got[2]!;
  if (results.some((r) => r.got[2] !== to)) return null;
  // Either scheme and port both follow the request, or one scheme is fixed and the port dropped.
  const follows = results.every((r) => r.got[1] === r.scheme && (r.got[3] ?? '') === r.port);
  const pinned = results[0]!.got[1]!;
  if (!follows && !results.every((r) => r.got[1] === pinned && r.got[3] === undefined)) return null;
  const fixed = follows ? null : pinned;
  const redirect: DomainRedirect = {
    to: to!,
    ...(fixed ? { scheme: fixed as 'http' | 'https' } : {}),
    ...(o.permanent === true ? {} : { permanent: false }),
  };
  return redirectProblems(redirect, host).length ? null : redirect;
}
