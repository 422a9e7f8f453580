/**
 * Values Traefik parses with Go libraries when it builds a middleware, checked here the way Go
 * would read them (a value Go refuses disables the router; docs/traefik-facts.md §2): regular
 * expressions (RE2 via regexp.Compile), IP addresses and CIDRs (net.ParseIP, net.ParseCIDR),
 * media types (mime.ParseMediaType), header names (HTTP tokens), status codes (http.StatusText),
 * durations (time.ParseDuration, int64 nanoseconds) and oxy's predicate expressions. Each
 * returns a problem or null; when in doubt they refuse.
 */
import { isIPv6 } from 'node:net';

/** Go's RE2 accepts what JavaScript does, minus these (and JavaScript refuses Go's `(?P<`, `(?i)`, `\z`, `\Q…\E`). */
const NOT_RE2 = [
  [/\(\?<?[=!]/, 'lookahead and lookbehind'],
  [/\(\?>/, 'atomic groups'],
  [/\\[1-9]|\\k</, 'backreferences'],
  [/(?:[*+?}])[+]/, 'possessive quantifiers'],
  // Go reads `]` right after `[` or `[^` as a literal (JavaScript: an empty class).
  [/(^|[^\\])\[\^?\]/, 'empty classes [] or [^] (write a literal ] as \\])'],
  [/\[[^\]]*-\\[dDsSwWpP]/, 'class ranges ending in a class such as \\d'],
] as const;

/** The letters Go accepts after a backslash (regexp/syntax); \E only closes a \Q. */
const GO_ESCAPES = new Set('abdfnprstvwxzABDPSWQ');

/** The problem with a regular expression as Go's regexp.Compile reads it, or null. */
export function goRegexProblem(re: string): string | null {
  const plain = re.replace(/\\\\/g, '');
  for (const [pattern, what] of NOT_RE2) if (pattern.test(plain)) return `Go regular expressions have no ${what}`;
  for (const m of plain.replace(/\\Q(?:(?!\\E)[\s\S])*(?:\\E|$)/g, '').matchAll(/\\([A-Za-z])/g)) {
    if (!GO_ESCAPES.has(m[1]!)) return `Go regular expressions have no escape \\${m[1]}`;
  }
  for (const m of plain.matchAll(/\{(\d+)(?:,(\d*))?\}/g)) {
    if (Number(m[1]) > 1000 || (m[2] !== undefined && m[2] !== '' && Number(m[2]) > 1000)) return 'Go allows repeat counts up to 1000';
  }
  // What JavaScript cannot read but Go can: named groups (?P<n>…), flag groups (?i) and (?i:…), \z, \A, \Q…\E.
  const js = re
    .replace(/\\Q((?:(?!\\E).)*)(?:\\E|$)/g, (_m, lit: string) => lit.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))
    .replace(/\(\?P</g, '(?<')
    .replace(/\(\?[imsU]*(?:-[imsU]*)?\)/g, '')
    .replace(/\(\?[imsU]*(?:-[imsU]*)?:/g, '(?:')
    .replace(/\\[Az]/g, '');
  try {
    new RegExp(js);
  } catch (err) {
    return `not a valid regular expression (${(err as Error).message.replace(/^Invalid regular expression: /, '')})`;
  }
  return null;
}

const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

/** An IP address as Go's net.ParseIP reads it (no zone, no leading zeros in IPv4). */
export function isGoIP(v: string): boolean {
  return IPV4.test(v) || (isIPv6(v) && !v.includes('%'));
}

/** The problem with an IP address or CIDR (`10.0.0.0/8`, `::1`), or null. */
export function ipOrCidrProblem(v: string): string | null {
  if (isGoIP(v)) return null;
  const m = /^([^/]+)\/(0|[1-9][0-9]{0,2})$/.exec(v);
  if (!m || !isGoIP(m[1]!) || Number(m[2]) > (IPV4.test(m[1]!) ? 32 : 128)) {
    return 'expected an IP address or CIDR like "10.0.0.0/8" or "2001:db8::/32"';
  }
  return null;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Whether `v` is an HTTP token (a valid header name). */
export function isToken(v: string): boolean {
  return TOKEN.test(v);
}

/** The problem with a media type as mime.ParseMediaType reads it (`text/html; charset=utf-8`), or null. */
export function mediaTypeProblem(v: string): string | null {
  const param = `;\\s*[!#$%&'*+.^_\`|~0-9A-Za-z-]+=(?:[!#$%&'*+.^_\`|~0-9A-Za-z-]+|"[^"\\\\]*")\\s*`;
  return new RegExp(`^\\s*[!#$%&'*+.^_\`|~0-9A-Za-z-]+(?:/[!#$%&'*+.^_\`|~0-9A-Za-z-]+)?\\s*(?:${param})*;?\\s*$`).test(v)
    ? null
    : 'expected a media type like "text/html"';
}

/** Status codes Go's http.StatusText names (Traefik refuses others where it checks). */
export const GO_STATUS_CODES: ReadonlySet<number> = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404,
  405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502,
  503, 504, 505, 506, 507, 508, 510, 511,
]);

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const MAX_NS = 2 ** 63 - 1;

/**
 * A duration as Traefik decodes one: whole seconds (a number or digits), or a Go duration
 * ("1m30s"). Returns nanoseconds, or null when Go would refuse it or it does not fit int64.
 */
export function goDurationNs(v: unknown): number | null {
  if (typeof v === 'number' || (typeof v === 'string' && /^[-+]?[0-9]{1,18}$/.test(v))) {
    const n = Number(v);
    return Number.isSafeInteger(n) && Math.abs(n) * 1e9 <= MAX_NS ? n * 1e9 : null;
  }
  if (typeof v !== 'string') return null;
  const m = /^([-+]?)((?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(v);
  if (!m) return v === '0' ? 0 : null;
  let total = 0;
  for (const part of m[2]!.matchAll(/([0-9]*\.?[0-9]*)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(part[1]) * UNIT_NS[part[2]!]!;
  return total <= MAX_NS ? (m[1] === '-' ? -total : total) : null;
}

/** Typed operands of an oxy predicate: a function's result type, or a literal's. */
type Kind = 'int' | 'float' | 'string' | 'predicate';

/** A predicate language (oxy's circuit breaker and buffering retry): functions and their argument and result kinds. */
export interface PredicateLanguage {
  readonly functions: Readonly<Record<string, { readonly args: readonly Kind[]; readonly result: Kind }>>;
  /** Comparisons allowed per result kind. */
  readonly compare: Readonly<Partial<Record<Kind, readonly string[]>>>;
}

const ALL_COMPARISONS = ['==', '!=', '<', '<=', '>', '>='];

/** circuitBreaker.expression (oxy cbreaker). */
export const CIRCUIT_BREAKER_LANGUAGE: PredicateLanguage = {
  functions: {
    NetworkErrorRatio: { args: [], result: 'float' },
    LatencyAtQuantileMS: { args: ['float'], result: 'int' },
    ResponseCodeRatio: { args: ['int', 'int', 'int', 'int'], result: 'float' },
  },
  compare: { int: ALL_COMPARISONS, float: ALL_COMPARISONS },
};

/** buffering.retryExpression (oxy buffer). */
export const BUFFERING_RETRY_LANGUAGE: PredicateLanguage = {
  functions: {
    IsNetworkError: { args: [], result: 'predicate' },
    Attempts: { args: [], result: 'int' },
    ResponseCode: { args: [], result: 'int' },
    RequestMethod: { args: [], result: 'string' },
  },
  compare: { int: ALL_COMPARISONS, string: ['==', '!='] },
};

const LEX =
  /\s*(?:(\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)|(0|[1-9]\d{0,17})(?![\w.])|("(?:[^"\\]|\\.)*")|([A-Za-z_]\w*)|(&&|\|\||==|!=|<=|>=|<|>|\(|\)|,))/y;

/**
 * The problem with an oxy predicate expression (`NetworkErrorRatio() > 0.5`), or null. What
 * vulcand/predicate accepts: comparisons of a function's result with a literal of its type
 * (function on the left), joined by && and || with parentheses; no `!`, no negative literals.
 */
export function predicateProblem(text: string, lang: PredicateLanguage): string | null {
  const tokens: Array<{ kind: 'float' | 'int' | 'string' | 'ident' | 'op'; text: string }> = [];
  LEX.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    LEX.lastIndex = at;
    const m = LEX.exec(text);
    if (!m) return `cannot read the expression at ${JSON.stringify(text.slice(at, at + 10))}`;
    at = LEX.lastIndex;
    const kind = m[1] ? 'float' : m[2] ? 'int' : m[3] ? 'string' : m[4] ? 'ident' : 'op';
    tokens.push({ kind, text: (m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5])! });
  }
  let i = 0;
  const peek = () => tokens[i]?.text;
  const fail = (what: string): never => {
    throw new Error(what);
  };
  const expect = (t: string) => (tokens[i]?.text === t ? i++ : fail(`expected "${t}"${peek() ? ` before "${peek()}"` : ' at the end'}`));
  const literal = (kind: Kind) => {
    const tok = tokens[i++];
    if (!tok || tok.kind !== kind)
      fail(`expected a${kind === 'int' ? 'n int' : ` ${kind}`} literal, got ${tok ? JSON.stringify(tok.text) : 'the end'}`);
  };
  const term = (): void => {
    if (peek() === '(') {
      i++;
      disjunction();
      expect(')');
      return;
    }
    const tok = tokens[i++];
    const fn = tok?.kind === 'ident' ? lang.functions[tok.text] : undefined;
    if (!fn) fail(`unknown function ${JSON.stringify(tok?.text ?? '')} (known: ${Object.keys(lang.functions).join(', ')})`);
    expect('(');
    fn!.args.forEach((kind, n) => {
      if (n > 0) expect(',');
      literal(kind);
    });
    expect(')');
    if (fn!.result === 'predicate') return;
    const op = peek() ?? '';
    if (!(lang.compare[fn!.result] ?? []).includes(op))
      fail(`${tok!.text}() must be compared with ${(lang.compare[fn!.result] ?? []).join(' ')}`);
    i++;
    literal(fn!.result);
  };
  const disjunction = (): void => {
    term();
    while (peek() === '&&' || peek() === '||') {
      i++;
      term();
    }
  };
  try {
    if (tokens.length === 0) fail('the expression is empty');
    disjunction();
    if (i < tokens.length) fail(`unexpected ${JSON.stringify(peek())}`);
  } catch (err) {
    return (err as Error).message;
  }
  return null;
}
